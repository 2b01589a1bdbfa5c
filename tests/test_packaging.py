"""Installing mmcakd beside a torch that is already there keeps that torch."""
import json
import os
import os.path as osp
import subprocess
import tarfile

import pytest
from packaging.requirements import Requirement

from .conftest import PYTHON, ROOT, copy_checkout


def requirements(name):
    with open(osp.join(ROOT, 'requirements', name)) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [Requirement(line) for line in lines if line]


def test_install_requires_are_lower_bounds_only():
    for name in ('runtime.txt', 'mminstall.txt'):
        for req in requirements(name):
            assert all(s.operator == '>=' for s in req.specifier), req
    names = {r.name for r in requirements('runtime.txt')}
    assert {'torch', 'mmengine', 'mmpretrain', 'timm'} <= names
    # mmcv (or mmcv-lite) comes through an extra, as in OpenMMLab projects.
    assert not names & {'mmcv', 'mmcv-lite'}


def test_pinned_cpu_stack_satisfies_the_lower_bounds():
    pinned = {r.name: r for r in requirements('cpu.txt')}
    for req in requirements('runtime.txt'):
        version = next(iter(pinned[req.name].specifier), None)
        if version is not None and version.operator == '==':
            assert req.specifier.contains(version.version), (req, version)


def test_installing_the_project_keeps_the_installed_torch(tmp_path):
    """pip's resolver, offline, in this venv (which has a torch): the
    project is all it would install."""
    report = tmp_path / 'report.json'
    subprocess.run(
        [PYTHON, '-m', 'pip', 'install', '--dry-run', '--no-index',
         '--no-build-isolation', '--quiet', '--report', str(report),
         '-e', f'{ROOT}[lite]'], check=True, capture_output=True)
    installs = [i['metadata']['name'] for i in
                json.loads(report.read_text())['install']]
    assert installs == ['mmcakd']


def test_the_two_import_and_read_warnings_are_gone_and_no_other(data_root):
    """mmcv-lite's deformable-attention warning and torch's read-only MNIST
    warning are filtered at their source (an error under -W error here);
    any other UserWarning still reaches the user."""
    code = (
        'import warnings; import mmcakd; import mmpretrain.models; '
        'from mmcakd.datasets import FashionMNISTSplit; '
        f'FashionMNISTSplit(data_root={data_root!r}, split="test", '
        'pipeline=[]); warnings.warn("still shown")')
    out = subprocess.run([PYTHON, '-W', 'error::UserWarning', '-c', code],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == 'UserWarning: still shown'


@pytest.mark.install
def test_a_venv_with_another_torch_keeps_it(tmp_path):
    """The real thing (``make test-install``: network, a few minutes): a
    fresh venv gets a torch and its torchvision other than the pinned CPU
    stack's, as a cluster's install has them (``MMCAKD_OTHER_TORCH``,
    default ``torch==2.13.0``, which pip takes from the CPU file on this
    project's machines; ``MMCAKD_OTHER_TORCHVISION``, default
    ``torchvision==0.28.0``, its pair, without dependencies so that the
    CPU torch stays), then ``pip install .[lite]``: both stay.

    A torch without its torchvision is not kept: timm (and mmcakd) need
    torchvision, pip takes the newest, and it pins the newest torch
    (seen here: 2.13.0+cpu replaced by 2.14.1); the README says so."""
    venv = tmp_path / 'venv'
    python = str(venv / 'bin' / 'python')
    subprocess.run([PYTHON, '-m', 'venv', str(venv)], check=True)
    pip = [python, '-m', 'pip', 'install', '-q']
    subprocess.run(
        pip + [os.environ.get('MMCAKD_OTHER_TORCH', 'torch==2.13.0')],
        check=True)
    subprocess.run(pip + ['--no-deps', os.environ.get(
        'MMCAKD_OTHER_TORCHVISION', 'torchvision==0.28.0')], check=True)

    def versions():
        out = subprocess.run([python, '-m', 'pip', 'list', '--format=json'],
                             check=True, capture_output=True, text=True)
        return {p['name']: p['version'] for p in json.loads(out.stdout)
                if p['name'] in ('torch', 'torchvision')}

    before = versions()
    pinned = {r.name: str(r.specifier).lstrip('=')
              for r in requirements('cpu.txt')}
    assert before['torch'] != pinned['torch']
    src = tmp_path / 'src'
    copy_checkout(src)
    subprocess.run(pip + [f'{src}[lite]'], check=True, cwd=tmp_path)
    assert versions() == before


def test_an_sdist_installs_with_its_configs_and_tools(tmp_path):
    """``setup.py sdist`` from a copy of the tree (building one rewrites
    mmcakd/.mim as copies), then a plain install of that sdist, offline:
    the requirements it reads and mim's configs and tools travel with it."""
    src = tmp_path / 'src'
    copy_checkout(src)
    dist = tmp_path / 'dist'
    subprocess.run([PYTHON, 'setup.py', '-q', 'sdist', '-d', str(dist)],
                   cwd=src, check=True, capture_output=True)
    sdist, = dist.iterdir()
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
    assert not [n for n in names if '__pycache__' in n]
    site = tmp_path / 'site'
    subprocess.run(
        [PYTHON, '-m', 'pip', 'install', '--quiet', '--no-deps',
         '--no-build-isolation', '--no-index', '--target', str(site),
         str(sdist)], check=True, capture_output=True)
    mim = site / 'mmcakd' / '.mim'
    assert (mim / 'configs' / 'cakd' / 'swin-t_resnet50_in1k.py').is_file()
    assert (mim / 'tools' / 'train.py').is_file()
    assert (mim / 'model-index.yml').is_file()
