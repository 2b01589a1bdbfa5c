"""Checks of the config values that mmengine's runner reads (not the model):
batch sizes, workers, the schedule, optimizers, parameter schedulers and
the checkpoint interval. mmengine would only notice them after writing its
log folder and config copy into the work_dir, with a traceback."""
from typing import Iterator, Optional, Tuple

from mmengine.config import Config

from .checks import check_int, check_number

DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def check_runner_fields(cfg: Config) -> None:
    """One ValueError naming the first bad field, and its valid range."""
    for name in DATALOADERS:
        loader = cfg.get(name)
        if not isinstance(loader, dict):
            continue
        check_int(loader.get('batch_size'), f'{name}.batch_size')
        check_int(loader.get('num_workers', 0), f'{name}.num_workers', 0)
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


def check_schedule(train_cfg: Optional[dict]) -> Optional[Tuple[str, int]]:
    """``('epoch', max_epochs)`` or ``('iter', max_iters)`` of a valid
    ``train_cfg``; None without one."""
    if not isinstance(train_cfg, dict):
        return None
    if 'max_iters' in train_cfg or 'Iter' in str(train_cfg.get('type', '')):
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
    check_number(optimizer.get('lr'), f'{field}.lr', positive=True)
    below_one = [('momentum', optimizer.get('momentum'))]
    betas = optimizer.get('betas')
    if betas is not None:
        if not isinstance(betas, (list, tuple)) or len(betas) != 2:
            raise ValueError(f'{field}.betas={betas!r} must be a pair '
                             '(beta1, beta2), e.g. (0.9, 0.999)')
        below_one += [(f'betas[{i}]', b) for i, b in enumerate(betas)]
    for name, value in below_one:
        if value is not None and check_number(value, f'{field}.{name}') >= 1:
            raise ValueError(f'{field}.{name}={value!r} must be a number in '
                             '[0, 1)')
    for name in ('weight_decay', 'eps'):
        if optimizer.get(name) is not None:
            check_number(optimizer[name], f'{field}.{name}')


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
    else:
        for i, scheduler in enumerate(param_scheduler):
            yield f'{field}[{i}]', scheduler


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
