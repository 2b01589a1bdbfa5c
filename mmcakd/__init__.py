"""mmcakd: Cross-Architecture Knowledge Distillation for MMPretrain."""
import warnings

from .version import __version__

# Versions this release was tested with. A different version only warns:
# hard upper bounds made the old OpenMMLab KD toolbox uninstallable.
_TESTED = {'torch': '2.14', 'mmengine': '0.10', 'mmpretrain': '1.2'}


def _check_versions() -> None:
    import importlib.util
    if importlib.util.find_spec('mmcv') is None:
        raise ImportError(
            'mmcakd needs mmcv (mmpretrain imports it): `mim install mmcv` '
            'on a GPU cluster, or `pip install mmcv-lite` (no compiled ops, '
            'enough for mmcakd)')
    import mmengine
    import torch
    import mmpretrain
    with warnings.catch_warnings():
        # mmpretrain's models import mmcv's transformer bricks, which warn
        # on import that mmcv-lite lacks the compiled deformable attention
        # (no mmcakd or mmpretrain classifier uses it): imported here first,
        # with that one warning filtered.
        warnings.filterwarnings(
            'ignore', message='Fail to import ``MultiScaleDeformableAttention',
            category=UserWarning)
        importlib.import_module('mmcv.cnn.bricks.transformer')
    for name, module in (('torch', torch), ('mmengine', mmengine),
                         ('mmpretrain', mmpretrain)):
        version = module.__version__.split('+')[0]
        if not version.startswith(_TESTED[name]):
            warnings.warn(f'mmcakd {__version__} was tested with {name} '
                          f'{_TESTED[name]}.x, found {version}; it may work.')


_check_versions()


def _register_config_package() -> None:
    """Let mmengine resolve ``_base_ = 'mmcakd::cakd/...py'``: it reads
    ``pkg::path`` configs only for the packages of its ``MODULE2PACKAGE``
    table (OpenMMLab's own), from ``<package>/.mim/configs``. Added on
    import, as registries are; tools/train.py imports mmcakd before it
    reads a config."""
    from mmengine.config.utils import MODULE2PACKAGE
    MODULE2PACKAGE.setdefault('mmcakd', 'mmcakd')


_register_config_package()

__all__ = ['__version__']
