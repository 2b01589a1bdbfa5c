"""Checks of the config values that mmengine's runner reads (not the model):
batch sizes, workers, the schedule, optimizers, parameter schedulers and
the checkpoint interval. mmengine would only notice them after writing its
log folder and config copy into the work_dir, with a traceback."""
import difflib
import logging
from typing import Iterator, Optional, Tuple

from mmengine.config import Config

from .checks import check_int, check_number

DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def check_runner_fields(cfg: Config) -> None:
    """One ValueError naming the first bad field, and its valid range."""
    check_types(cfg)
    check_randomness(cfg.get('randomness'))
    for name in DATALOADERS:
        check_loader(cfg, name)
    length = check_schedule(cfg.get('train_cfg'))
    optim_wrapper = cfg.get('optim_wrapper')
    if isinstance(optim_wrapper, dict):
        for field, optimizer in optimizers(optim_wrapper, 'optim_wrapper'):
            check_optimizer(optimizer, field)
    for field, scheduler in schedulers(cfg.get('param_scheduler'),
                                       'param_scheduler'):
        check_scheduler(scheduler, field, length)
    hook = (cfg.get('default_hooks') or {}).get('checkpoint')
    if isinstance(hook, dict):
        interval = hook.get('interval', -1)
        if interval != -1:
            check_int(interval, 'default_hooks.checkpoint.interval')


def check_test_fields(cfg: Config) -> None:
    """What ``tools/test.py`` reads: the test loader and the registry types
    of the test evaluator, hooks and visualizer."""
    check_types(cfg, only=('METRICS', 'HOOKS', 'VISUALIZERS', 'VISBACKENDS',
                           'DATA_SAMPLERS', 'FUNCTIONS'),
                loaders=('test_dataloader', ))
    check_loader(cfg, 'test_dataloader')


def check_loader(cfg: Config, name: str) -> None:
    """The batch size and workers of the loader ``name``, if any."""
    loader = cfg.get(name)
    if not isinstance(loader, dict):
        return
    # mmengine takes the batch size from the loader or its batch_sampler.
    sampler = loader.get('batch_sampler') or {}
    if 'batch_size' in loader or 'batch_size' not in sampler:
        check_int(loader.get('batch_size'), f'{name}.batch_size')
    else:
        check_int(sampler['batch_size'], f'{name}.batch_sampler.batch_size')
    check_int(loader.get('num_workers', 0), f'{name}.num_workers', 0)


def check_schedule(train_cfg: Optional[dict]) -> Optional[Tuple[str, int]]:
    """``('epoch', max_epochs)`` or ``('iter', max_iters)`` of a valid
    ``train_cfg``; None without one."""
    if not isinstance(train_cfg, dict):
        return None
    loop = str(train_cfg.get('type', ''))
    if 'type' in train_cfg and 'by_epoch' in train_cfg:
        raise ValueError(f'train_cfg: by_epoch={train_cfg["by_epoch"]!r} '
                         f'beside type={loop!r}; the loop type decides it, '
                         'remove by_epoch')
    if 'Epoch' in loop and 'max_iters' in train_cfg:
        raise ValueError(f'train_cfg.max_iters: {loop} counts epochs; set '
                         "train_cfg.max_epochs, or type='IterBasedTrainLoop' "
                         'to count iterations')
    if 'max_iters' in train_cfg or 'Iter' in loop:
        unit = 'iter'
        total = check_int(train_cfg.get('max_iters'), 'train_cfg.max_iters')
    else:
        unit = 'epoch'
        total = check_int(train_cfg.get('max_epochs'),
                          'train_cfg.max_epochs')
    check_int(train_cfg.get('val_interval', 1), 'train_cfg.val_interval')
    check_int(train_cfg.get('val_begin', 1), 'train_cfg.val_begin', 0)
    return unit, total


def optimizers(optim_wrapper: dict, field: str) -> Iterator[tuple]:
    """(field, optimizer dict) of a plain optimizer wrapper, or of each
    sub-wrapper of a distiller's (``student``, ``discriminator``)."""
    if isinstance(optim_wrapper.get('optimizer'), dict):
        yield f'{field}.optimizer', optim_wrapper['optimizer']
        return
    for name, sub in optim_wrapper.items():
        if isinstance(sub, dict) and isinstance(sub.get('optimizer'), dict):
            yield f'{field}.{name}.optimizer', sub['optimizer']


def check_optimizer(optimizer: dict, field: str) -> None:
    """lr > 0; momentum and each beta in [0, 1); weight decay, eps >= 0
    (torch's own ranges, named by field)."""
    if 'lr' in optimizer:  # else the optimizer's own default
        check_number(optimizer['lr'], f'{field}.lr', positive=True)
    below_one = [('momentum', optimizer.get('momentum'))]
    betas = optimizer.get('betas')
    if betas is not None:
        if not isinstance(betas, (list, tuple)) or len(betas) < 2:
            raise ValueError(f'{field}.betas={betas!r} must be a sequence '
                             '(beta1, beta2, ...), e.g. (0.9, 0.999)')
        below_one += [(f'betas[{i}]', b) for i, b in enumerate(betas)]
    for name, value in below_one:
        if value is not None and check_number(value, f'{field}.{name}') >= 1:
            raise ValueError(f'{field}.{name}={value!r} must be a number in '
                             '[0, 1)')
    if optimizer.get('weight_decay') is not None:
        check_number(optimizer['weight_decay'], f'{field}.weight_decay')
    eps = optimizer.get('eps')
    if isinstance(eps, (int, float)):  # Adafactor takes a pair
        check_number(eps, f'{field}.eps')


def schedulers(param_scheduler, field: str) -> Iterator[tuple]:
    """(field, scheduler dict) of a scheduler, a list of them, or a dict of
    lists per optimizer (a distiller's ``student``/``discriminator``)."""
    if param_scheduler is None:
        return
    if isinstance(param_scheduler, dict) and 'type' in param_scheduler:
        yield field, param_scheduler
    elif isinstance(param_scheduler, dict):
        for name, sub in param_scheduler.items():
            yield from schedulers(sub, f'{field}.{name}')
    elif isinstance(param_scheduler, (list, tuple)):
        for i, scheduler in enumerate(param_scheduler):
            if not isinstance(scheduler, dict):
                raise ValueError(f'{field}[{i}]={scheduler!r} must be a '
                                 'scheduler dict with a `type`')
            yield f'{field}[{i}]', scheduler
    else:
        raise ValueError(f'{field}={param_scheduler!r} must be a scheduler '
                         'dict, a list of them, or a dict of lists per '
                         'optimizer')


def check_scheduler(scheduler: dict, field: str,
                    length: Optional[Tuple[str, int]]) -> None:
    """Integers 0 <= begin < end, and a begin inside the schedule (a
    scheduler that begins after the last epoch never runs)."""
    begin = check_int(scheduler.get('begin', 0), f'{field}.begin', 0)
    end = scheduler.get('end')
    if end is not None and check_int(end, f'{field}.end') <= begin:
        raise ValueError(f'{field}: end={end} must be after begin={begin}')
    if length is None:
        return
    unit, total = length
    by_epoch = scheduler.get('by_epoch', True)
    # An iteration-based scheduler in an epoch-based loop counts iterations,
    # whose total is only known once the dataloader is built.
    if (unit == 'epoch') == bool(by_epoch) and begin >= total:
        raise ValueError(
            f'{field}.begin={begin} is not before the schedule\'s end '
            f'(max_{unit}s={total}): it would never run; lower begin or '
            f'raise train_cfg.max_{unit}s')


def check_randomness(randomness) -> None:
    """``randomness``: known keys, and a seed mmengine can use."""
    if randomness is None:
        return
    allowed = ('seed', 'deterministic', 'diff_rank_seed')
    unknown = sorted(set(randomness) - set(allowed))
    if unknown:
        raise ValueError(f'randomness: unknown option(s) {unknown}; expected '
                         f'{", ".join(allowed)}')
    seed = randomness.get('seed')
    if seed is not None and (isinstance(seed, bool) or not isinstance(
            seed, int) or not 0 <= seed < 2**31):
        raise ValueError(f'randomness.seed={seed!r} must be an integer in '
                         '[0, 2**31) or None (drawn at random)')


def _typed(cfg: Config, loaders: Tuple[str, ...] = DATALOADERS
           ) -> Iterator[tuple]:
    """(registry name, config dict with a ``type``, field) of every part the
    runner builds from the registries."""
    optim_wrapper = cfg.get('optim_wrapper')
    if isinstance(optim_wrapper, dict):
        yield 'OPTIM_WRAPPER_CONSTRUCTORS', dict(
            type=optim_wrapper.get('constructor')), 'optim_wrapper.constructor'
        for field, optimizer in optimizers(optim_wrapper, 'optim_wrapper'):
            yield 'OPTIMIZERS', optimizer, field
            yield 'OPTIM_WRAPPERS', optim_wrapper if field == \
                'optim_wrapper.optimizer' else optim_wrapper[
                    field.split('.')[1]], field.rpartition('.')[0]
    for field, scheduler in schedulers(cfg.get('param_scheduler'),
                                       'param_scheduler'):
        yield 'PARAM_SCHEDULERS', scheduler, field
    for name, hook in (cfg.get('default_hooks') or {}).items():
        yield 'HOOKS', hook, f'default_hooks.{name}'
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        yield 'HOOKS', hook, f'custom_hooks[{i}]'
    for name in ('val_evaluator', 'test_evaluator'):
        metrics = cfg.get(name)
        metrics = [metrics] if isinstance(metrics, dict) else metrics or []
        for i, metric in enumerate(metrics):
            yield 'METRICS', metric, f'{name}[{i}]'
    visualizer = cfg.get('visualizer')
    if isinstance(visualizer, dict):
        yield 'VISUALIZERS', visualizer, 'visualizer'
        for i, backend in enumerate(visualizer.get('vis_backends') or []):
            yield 'VISBACKENDS', backend, f'visualizer.vis_backends[{i}]'
    for name in loaders:
        loader = cfg.get(name)
        if isinstance(loader, dict):
            yield 'DATA_SAMPLERS', loader.get('sampler'), f'{name}.sampler'
            yield 'FUNCTIONS', loader.get('collate_fn'), f'{name}.collate_fn'
    yield 'LOOPS', cfg.get('train_cfg'), 'train_cfg'
    yield 'MODEL_WRAPPERS', cfg.get('model_wrapper_cfg'), 'model_wrapper_cfg'


def check_types(cfg: Config, only: Optional[Tuple[str, ...]] = None,
                loaders: Tuple[str, ...] = DATALOADERS) -> None:
    """Every ``type`` the runner will look up is registered (mmcakd's
    registries and, through them, mmpretrain's and mmengine's), and
    ``log_level`` is a logging level."""
    level = cfg.get('log_level', 'INFO')
    if isinstance(level, str) and level.upper() not in logging._nameToLevel:
        raise ValueError(f'log_level={level!r} is not a logging level; use '
                         "one of 'DEBUG', 'INFO', 'WARNING', 'ERROR'")
    scope = cfg.get('default_scope') or 'mmcakd'
    for name, part, field in _typed(cfg, loaders):
        if only is not None and name not in only:
            continue
        kind = part.get('type') if isinstance(part, dict) else None
        if not isinstance(kind, str):
            continue  # absent, or a class given directly
        known = _lookup(name, kind, scope)
        if known is None:
            continue
        close = difflib.get_close_matches(kind, sorted(known), n=3)
        hint = f'closest: {", ".join(close)}' if close else \
            'check the spelling'
        raise ValueError(f'{field}.type={kind!r} is not a registered '
                         f'{name.lower()} type ({hint})')


def _lookup(name: str, kind: str, scope: str) -> Optional[set]:
    """None if ``kind`` is registered in registry ``name`` as the runner
    looks it up (from mmengine's root, switched to the config's default
    scope); else the names it knows."""
    import mmengine.registry as mmengine_registry
    from mmengine.registry import DefaultScope

    from mmcakd import registry
    root = getattr(mmengine_registry, name)
    if not hasattr(registry, name):  # no mmcakd node: mmengine's own
        node = root
        if node.get(kind) is not None:
            return None
    else:
        with DefaultScope.overwrite_default_scope(scope):
            with root.switch_scope_and_registry(None) as node:
                if node.get(kind) is not None:
                    return None
    known = set()
    while node is not None:
        known |= set(node.module_dict)
        node = node.parent
    return known
