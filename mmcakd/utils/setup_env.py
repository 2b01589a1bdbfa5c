"""Registration of mmcakd's modules."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register mmpretrain's and mmcakd's modules; set the ``mmcakd`` scope.

    Args:
        init_default_scope (bool): Make ``mmcakd`` the default scope, so that
            mmcakd's types and (through the parent registries) mmpretrain's
            resolve unprefixed.
    """
    from mmpretrain.utils import register_all_modules as mmpretrain_register
    mmpretrain_register(init_default_scope=False)
    import mmcakd.datasets  # noqa: F401
    import mmcakd.engine  # noqa: F401
    import mmcakd.evaluation  # noqa: F401
    import mmcakd.models  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None:
        DefaultScope.get_instance('mmcakd', scope_name='mmcakd')
    elif current.scope_name != 'mmcakd':
        warnings.warn(f'The default scope "{current.scope_name}" is not '
                      '"mmcakd"; register_all_modules switches it to "mmcakd".')
        DefaultScope.get_instance(
            f'mmcakd-{datetime.datetime.now()}', scope_name='mmcakd')
