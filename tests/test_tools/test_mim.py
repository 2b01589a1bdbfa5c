"""mmcakd as an installed OpenMMLab package, used from outside the
repository: `mim train`, `mim test` and `_base_ = 'mmcakd::...'`."""
import os
import os.path as osp
import subprocess

import pytest

from ..conftest import PYTHON, ROOT, copy_checkout
from .test_train_test import TINY

CONFIG = 'vit-tiny_resnet-tiny_fashion-mnist.py'  # configs/cakd/, by name
DATA = osp.join(ROOT, 'data', 'fashion_mnist')
TEACHER = osp.join(ROOT, 'checkpoints', 'vit-tiny_fashion-mnist.pth')


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    """mmcakd installed as a wheel would install it (configs and tools
    copied into mmcakd/.mim), in a folder of its own: an editable install's
    metadata points mmengine and mim at site-packages instead."""
    target = tmp_path_factory.mktemp('site')
    src = tmp_path_factory.mktemp('src')
    copy_checkout(src)
    subprocess.run(
        [PYTHON, '-m', 'pip', 'install', '--quiet', '--no-deps',
         '--no-build-isolation', '--no-index', '--target', str(target),
         str(src)], check=True, capture_output=True)
    assert (target / 'mmcakd' / '.mim' / 'configs' / 'cakd' / CONFIG).is_file()
    assert (target / 'mmcakd' / '.mim' / 'tools' / 'train.py').is_file()
    # mmcakd alone: the tests are no package of it.
    assert sorted(p.name for p in target.iterdir()
                  if not p.name.endswith('.dist-info')) == ['mmcakd']
    return target


def run(args, site, cwd):
    env = dict(os.environ, PYTHONPATH=str(site), OMP_NUM_THREADS='1')
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_mim_train_and_test_from_another_folder(site, tmp_path, data_root):
    data = [f'{loader}.dataset.data_root={DATA}' for loader in
            ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    work_dir = tmp_path / 'run'
    train = run([PYTHON, '-m', 'mim', 'train', 'mmcakd', CONFIG,
                 '--work-dir', str(work_dir), '--cfg-options',
                 'train_cfg.max_epochs=1', f'model.teacher_ckpt={TEACHER}',
                 'default_hooks.checkpoint.save_best=None', *TINY, *data],
                site, tmp_path)
    assert train.returncode == 0, train.stdout[-2000:] + train.stderr[-3000:]
    # mim found the config in the installed package and ran its train.py.
    assert str(site / 'mmcakd' / '.mim' / 'tools' / 'train.py') in \
        train.stdout
    assert (work_dir / 'epoch_1.pth').is_file()

    test = run([PYTHON, '-m', 'mim', 'test', 'mmcakd', CONFIG,
                '--checkpoint', str(work_dir / 'epoch_1.pth'),
                '--work-dir', str(tmp_path / 'test'), '--cfg-options',
                f'model.teacher_ckpt={TEACHER}',
                'test_dataloader.num_workers=0', *data], site, tmp_path)
    assert test.returncode == 0, test.stdout[-2000:] + test.stderr[-3000:]
    assert 'accuracy/top1' in test.stdout + test.stderr


def test_a_config_inherits_mmcakd_configs_by_package(site, tmp_path):
    (tmp_path / 'mine.py').write_text(
        "_base_ = 'mmcakd::cakd/vit-tiny_resnet-tiny_fashion-mnist.py'\n"
        'model = dict(projectors=dict(gl=dict(group_size=2)))\n')
    proc = run([PYTHON, '-c',
                # mmengine reads `pkg::` configs of the packages it knows;
                # importing mmcakd adds it (tools/train.py does).
                'import mmcakd; from mmengine.config import Config; '
                "m = Config.fromfile('mine.py').model; "
                'print(m.type, m.projectors.gl.group_size, '
                'm.student_stage)'],
               site, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ['CAKDDistiller', '2', 'backbone.layer3']


def test_an_unknown_package_config_is_one_line(site, tmp_path):
    proc = run([PYTHON, osp.join(ROOT, 'tools', 'train.py'),
                'mmcakd::cakd/vit-tiny_resnet-tiny_fashion_mnist.py'],
               site, tmp_path)
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr
    line, = proc.stderr.strip().splitlines()[-1:]
    assert line.startswith("FileNotFoundError: config 'mmcakd::cakd/vit-tiny"
                           "_resnet-tiny_fashion_mnist.py' does not exist in "
                           "mmcakd's configs (closest: cakd/vit-tiny_resnet-"
                           "tiny_fashion-mnist.py"), line
    assert proc.stdout == ''


def test_tools_read_mmcakd_configs_from_a_source_checkout(tmp_path):
    """Not installed as a package (an editable install, or the checkout on
    PYTHONPATH, where mmengine's resolver looks in site-packages): the
    tools still read ``mmcakd::`` configs, from the checkout (a fresh copy,
    without the mmcakd/.mim that an install adds)."""
    src = tmp_path / 'src'
    copy_checkout(src)
    assert not (src / 'mmcakd' / '.mim').exists()
    proc = subprocess.run(
        [PYTHON, '-c',
         'from mmcakd.utils import load_config; '
         "print(load_config('mmcakd::kd/kd_vit-tiny_resnet-tiny_"
         "fashion-mnist.py').model.type)"],
        cwd=tmp_path, capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=str(src)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split()[-1] == 'LogitDistiller'
