"""mmcakd: Cross-Architecture Knowledge Distillation for MMPretrain."""
import warnings

from .version import __version__


def _check_dependencies() -> None:
    import importlib.util
    if importlib.util.find_spec('mmcv') is None:
        raise ImportError(
            'mmcakd needs mmcv (mmpretrain imports it): `mim install mmcv` '
            'on a GPU cluster, or `pip install mmcv-lite` (no compiled ops, '
            'enough for mmcakd)')
    # No warning for versions other than the tested ones (requirements/
    # cpu.txt): the lower bounds are pip's to enforce, a GPU cluster's torch
    # is rarely ours, and mmengine logs every version at the start of a run.
    with warnings.catch_warnings():
        # mmpretrain's models import mmcv's transformer bricks, which warn
        # on import that mmcv-lite lacks the compiled deformable attention
        # (no mmcakd or mmpretrain classifier uses it): imported here first,
        # with that one warning filtered.
        warnings.filterwarnings(
            'ignore', message='Fail to import ``MultiScaleDeformableAttention',
            category=UserWarning)
        importlib.import_module('mmcv.cnn.bricks.transformer')


_check_dependencies()


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
