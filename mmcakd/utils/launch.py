"""Config adjustments shared by ``tools/train.py`` and ``tools/test.py``."""
import difflib
import glob
import logging
import os
import os.path as osp
import subprocess
import sys
from typing import Optional

import torch
from mmengine.config import Config, ConfigDict
from mmengine.dist import init_dist

DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def read_config(path: str) -> Config:
    """``Config.fromfile``, or mmengine's ``get_config`` for a
    ``package::path``. mmengine resolves ``package::`` paths (in ``_base_``
    too) through pkg_resources, which setuptools 82 removed: its absence is
    reported with the fix, not as a traceback from inside mmengine."""
    from mmengine.hub import get_config
    try:
        return get_config(path) if '::' in path else Config.fromfile(path)
    except ModuleNotFoundError as err:
        if err.name != 'pkg_resources':
            raise
        raise ValueError(
            f'{path!r}: mmengine reads `package::` config paths through '
            "pkg_resources, which setuptools >= 82 no longer has: pip install "
            "'setuptools<82'") from None


def package_path(package: str, field: str) -> str:
    """The folder of an installed package, where Python imports it from
    (an editable install's source tree too, which mmengine's
    ``get_installed_path`` misses: it looks in site-packages)."""
    import importlib.util
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin is not None:
        return osp.dirname(spec.origin)
    from mmengine.utils import get_installed_path
    try:
        return get_installed_path(package)
    except Exception:  # not installed (pkg_resources' or importlib's error)
        raise ValueError(f'{field}: package {package!r} is not '
                         'installed') from None


def load_config(path: str) -> Config:
    """A config file, or a config shipped by an installed package in
    mmengine's syntax (``'mmcakd::cakd/vit-tiny_resnet-tiny_fashion-mnist.py'``,
    read from the package's ``.mim/configs``); a missing one is a one-line
    error that names it and the closest configs there are."""
    if '::' not in path:
        if not osp.isfile(path):
            raise FileNotFoundError(f'config {path!r} does not exist')
        return read_config(path)
    package, name = path.split('::', 1)
    folder = package_path(package, f'config {path!r}')
    root = osp.join(folder, '.mim', 'configs')
    if not osp.isdir(root) and osp.isdir(osp.join(folder, '..', 'configs')):
        # A source checkout imported as it is (on PYTHONPATH, not
        # installed): its configs beside the package.
        root = osp.normpath(osp.join(folder, '..', 'configs'))
    if not osp.isfile(osp.join(root, name)):
        known = sorted(
            osp.relpath(p, root) for p in glob.glob(
                osp.join(root, '**', '*.py'), recursive=True)
            if '_base_' not in p)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.3)
        hint = f'closest: {", ".join(close)}' if close else (
            f'{len(known)} configs under {root}' if known else
            f'{root} holds no configs: reinstall {package}')
        raise FileNotFoundError(
            f'config {path!r} does not exist in {package}\'s configs ({hint})')
    return read_config(osp.join(root, name))


def set_work_dir(cfg: Config, work_dir: Optional[str],
                 config_path: str) -> None:
    """CLI > config > ``work_dirs/<config name>``; refuse a file."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config_path))[0])
    if osp.exists(cfg.work_dir) and not osp.isdir(cfg.work_dir):
        raise FileExistsError(
            f'work_dir {cfg.work_dir!r} is a file, not a folder: pass another '
            'path with --work-dir')


def model_config(cfg: Config) -> ConfigDict:
    """``cfg.model`` with the config's top-level ``data_preprocessor`` merged
    in, as mmengine's Runner does before it builds the model (tools that
    build a model themselves must do the same, or inputs go unnormalised)."""
    model = cfg.model
    if cfg.get('data_preprocessor') is not None:
        model.setdefault('data_preprocessor', cfg.data_preprocessor)
    return model


def set_checkpoint_defaults(cfg: Config) -> None:
    """Checkpoints written atomically (:class:`AtomicLocalBackend`): the
    checkpoint hook of a local work_dir gets
    ``backend_args=dict(backend='atomic_local')`` unless the config gives
    its own backend (a remote ``out_dir``, ``backend_args``)."""
    hook = (cfg.get('default_hooks') or {}).get('checkpoint')
    if not isinstance(hook, dict) or hook.get('type') not in (
            'CheckpointHook', None):
        return
    out_dir = hook.get('out_dir')
    if hook.get('backend_args') is None and not hook.get(
            'file_client_args') and (out_dir is None or '://' not in out_dir):
        hook.backend_args = ConfigDict(backend='atomic_local')


def enable_amp(optim_wrapper: ConfigDict) -> None:
    """Turn every optimizer wrapper of ``optim_wrapper`` into an AMP one.

    A plain config (``optimizer=...``) is one wrapper; a distiller's config
    holds one sub-wrapper per part (``student``, ``discriminator``), and each
    of them needs the switch, or half of the model would train in fp32.
    """
    if 'optimizer' in optim_wrapper:
        optim_wrapper.type = 'AmpOptimWrapper'
        optim_wrapper.setdefault('loss_scale', 'dynamic')
        return
    subs = [v for v in optim_wrapper.values()
            if isinstance(v, dict) and 'optimizer' in v]
    if not subs:
        raise ValueError('--amp: optim_wrapper has no `optimizer` and no '
                         'sub-wrapper with one; cannot enable AMP')
    for sub in subs:
        enable_amp(sub)


def set_dataloader_defaults(cfg: Config, training: bool) -> None:
    """Defaults of mmpretrain's tools, made valid on a machine without GPU.

    ``pin_memory`` only helps host-to-GPU copies, and ``persistent_workers``
    raises in the DataLoader when ``num_workers`` is 0.
    """
    for field in DATALOADERS:
        loader = cfg.get(field)
        if loader is None:
            continue
        merged = ConfigDict(
            pin_memory=torch.cuda.is_available(),
            collate_fn=dict(type='default_collate'))
        if training:
            merged.persistent_workers = True
        merged.update(loader)
        if merged.get('num_workers', 0) == 0:
            merged.persistent_workers = False
        cfg[field] = merged


def _slurm_to_torch_env() -> None:
    """torchrun-style variables from Slurm's, as mmengine's slurm init does."""
    os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
    os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
    os.environ.setdefault('LOCAL_RANK', os.environ.get('SLURM_LOCALID', '0'))
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        nodes = os.environ['SLURM_NODELIST']
        os.environ['MASTER_ADDR'] = subprocess.getoutput(
            f'scontrol show hostname {nodes} | head -n1').strip()


def init_distributed(cfg: Config) -> None:
    """Start the process group of a multi-process run before the runner.

    The checks before training need it (the ranks share a seed drawn by
    rank 0); the runner then finds it started and leaves it as it is. On
    GPU this is mmengine's own ``init_dist`` with the config's
    ``env_cfg.dist_cfg``, as the runner would call it. On CPU mmengine
    assumes GPUs: its process-group set-up calls ``torch.cuda.set_device``
    (which fails without a driver), the default backend is NCCL, and its
    DDP wrapper gets ``device_ids=[LOCAL_RANK]``, which torch refuses for a
    CPU module; so a gloo group is started and the wrapper gets no device
    ids.
    """
    if cfg.launcher == 'none':
        return
    cfg.setdefault('env_cfg', ConfigDict())
    cfg.env_cfg.setdefault('dist_cfg', ConfigDict())
    if torch.cuda.is_available():
        if not torch.distributed.is_initialized():
            init_dist(cfg.launcher, **cfg.env_cfg.dist_cfg)
        return
    if cfg.launcher not in ('pytorch', 'slurm'):
        raise ValueError(f'--launcher {cfg.launcher}: on CPU only pytorch '
                         '(torchrun) and slurm are supported')
    if cfg.launcher == 'slurm':
        _slurm_to_torch_env()
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend='gloo')
    cfg.env_cfg.dist_cfg.backend = 'gloo'
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = ConfigDict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg.device_ids = None


def finish_distributed() -> None:
    """End a finished multi-process run, working around gloo's exit crash.

    A gloo process may abort at interpreter teardown ("terminate called
    without an active exception": a C++ thread of the process group or of
    DDP destroyed while still joinable), which turns a finished run into a
    failed one. Leaving the group after a barrier made it rare, not
    impossible (seen on a loaded machine). So a gloo process, once every
    rank is done and the group is gone, flushes its output and logs and
    exits right away, skipping the teardown that aborts. Other backends
    (NCCL) leave the group and return: the interpreter exits normally and
    runs its atexit handlers. Single-process runs return at once.
    """
    if not (torch.distributed.is_available()
            and torch.distributed.is_initialized()):
        return
    gloo = torch.distributed.get_backend() == 'gloo'
    torch.distributed.barrier()
    torch.distributed.destroy_process_group()
    if not gloo:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(0)


def apply_process_settings(cfg) -> None:
    """What a config asks of the whole process, set by the entry point
    before anything is built (never by a model): with ``model.accel``,
    its ``keep_cpu_memory`` (:mod:`mmcakd.cpu`, imported only then)."""
    model = cfg.get('model') or {}
    # Anything but a dict is refused by the model build, in one line.
    if hasattr(model, 'get') and isinstance(model.get('accel'), dict):
        from mmcakd.cpu import keep_freed_memory_if_asked
        keep_freed_memory_if_asked(cfg)
