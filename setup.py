"""Package metadata; dependencies are read from requirements/."""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))
# What `mim` and mmengine's `mmcakd::` config paths look for in the installed
# package, as in OpenMMLab projects: mmcakd/.mim/{configs,tools,
# model-index.yml}.
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def add_mim_extension() -> None:
    """Put configs/ and tools/ into mmcakd/.mim: symlinks for an editable
    install (`pip install -e .`), copies for a wheel or an sdist."""
    if {'develop', 'editable_wheel'} & set(sys.argv):
        mode = 'symlink'
    elif {'sdist', 'bdist_wheel', 'build', 'install'} & set(sys.argv):
        mode = 'copy'
    else:
        return
    if not osp.isdir(osp.join(HERE, 'configs')):
        # Built from an sdist: its mmcakd/.mim already holds the copies.
        return
    mim = osp.join(HERE, 'mmcakd', '.mim')
    os.makedirs(mim, exist_ok=True)
    for name in MIM_FILES:
        src, dst = osp.join(HERE, name), osp.join(mim, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim), dst)
        elif osp.isfile(src):
            shutil.copyfile(src, dst)
        else:
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns(
                '__pycache__', '*.pyc'))


def read_requirements(name: str) -> list:
    """Requirement lines of requirements/<name> (comments stripped)."""
    with open(osp.join(HERE, 'requirements', name)) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def read_version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, 'mmcakd', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


add_mim_extension()
setup(
    name='mmcakd',
    version=read_version(),
    description='Cross-Architecture Knowledge Distillation (CAKD, ACCV 2022) '
    'for MMPretrain',
    long_description=open(osp.join(HERE, 'README.md')).read()
    if osp.exists(osp.join(HERE, 'README.md')) else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    license_files=['LICENSE'],
    python_requires='>=3.9',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'tests.*')),
    include_package_data=True,
    package_data={'mmcakd': ['.mim/configs/**/*', '.mim/tools/**/*',
                             '.mim/model-index.yml']},
    # Lower bounds only; mmcv through an extra (full mmcv for GPU clusters,
    # `mim install mmcv`; mmcv-lite where no compiled op is needed). The
    # pinned CPU stack is requirements/cpu.txt.
    install_requires=read_requirements('runtime.txt'),
    extras_require=dict(
        mim=read_requirements('mminstall.txt'),
        lite=['mmcv-lite>=2.0.0'],
        tests=read_requirements('tests.txt')),
    classifiers=[
        'Programming Language :: Python :: 3',
        'License :: OSI Approved :: Apache Software License',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
)
