"""The checkpoint a run starts from: ``load_from`` and ``--resume`` checked
before the runner starts, and a corrupt latest checkpoint skipped."""
import os
import os.path as osp
import re
import warnings
from typing import Optional

from mmengine.config import Config
from torch import nn

from .checkpoint_file import load_checkpoint_file

# What tools/train.py writes: epoch_N.pth / iter_N.pth (not the temporary
# files of an interrupted atomic write, nor best_*.pth).
RUN_CHECKPOINT = re.compile(r'^(epoch|iter)_(\d+)\.pth$')
RUN_KEYS = ('meta', 'state_dict', 'message_hub')


def is_run_checkpoint(checkpoint) -> bool:
    """A checkpoint mmengine's runner wrote (weights, progress, message
    hub), as opposed to a model's plain weights."""
    return isinstance(checkpoint, dict) and all(k in checkpoint
                                                for k in RUN_KEYS)


def _latest(work_dir: str) -> Optional[str]:
    """The path the work_dir's ``last_checkpoint`` file names, if any."""
    try:
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            path = f.read().strip()
    except OSError:
        return None
    return path or None


def _previous(work_dir: str, skip: str) -> list:
    """The work_dir's run checkpoints, newest step first, but ``skip``."""
    found = []
    for name in os.listdir(work_dir):
        match = RUN_CHECKPOINT.match(name)
        path = osp.join(work_dir, name)
        if match and osp.abspath(path) != osp.abspath(skip):
            found.append((match.group(1) == 'iter', int(match.group(2)), path))
    return [path for *_, path in sorted(found, reverse=True)]


def resolve_start_checkpoint(cfg: Config) -> Optional[dict]:
    """Check the file a run starts from and return it loaded (or None).

    - ``load_from`` (weights to start from): a readable torch checkpoint.
    - ``--resume PATH``: a readable run checkpoint (a model's plain weights,
      e.g. a teacher's, are named as such).
    - ``--resume`` alone: the work_dir's latest checkpoint; if it is
      unreadable (e.g. truncated by a crash), the newest valid one before
      it, with a warning naming both. ``cfg.load_from`` is set to it.
    """
    field = '--resume' if cfg.get('resume') else 'load_from'
    path = cfg.get('load_from')
    if cfg.get('resume') and path is None:
        if not osp.isdir(cfg.work_dir):
            return None  # nothing to resume: the runner starts afresh
        latest = _latest(cfg.work_dir)
        if latest is None:
            # No `last_checkpoint` (or an empty one, which mmengine writes
            # without a rename): the newest run checkpoint, if any.
            found = _previous(cfg.work_dir, skip='')
            if not found:
                return None
            latest = found[0]
        error = None
        for candidate in [latest] + _previous(cfg.work_dir, latest):
            try:
                checkpoint = _run_checkpoint(candidate, field)
            except (ValueError, OSError) as err:
                error = error or err  # the latest one's
                continue
            if error is not None:
                warnings.warn(
                    f'--resume: the latest checkpoint {latest} cannot be '
                    f'read ({error}); resuming from {candidate}, the newest '
                    'valid checkpoint before it', stacklevel=2)
            cfg.load_from = candidate
            return checkpoint
        raise ValueError(
            f'{error}; the work_dir {cfg.work_dir!r} holds no valid '
            'checkpoint before it to resume from')
    if not isinstance(path, str) or '://' in path:
        return None
    if cfg.get('resume'):
        return _run_checkpoint(path, field)
    load_checkpoint_file(path, field)
    return None


def _run_checkpoint(path: str, field: str) -> dict:
    checkpoint = load_checkpoint_file(path, field)
    if not is_run_checkpoint(checkpoint):
        raise ValueError(
            f'{field}: {path!r} holds model weights, not a run checkpoint '
            '(no progress or optimizer state): resume from a checkpoint that '
            'tools/train.py wrote, or start from these weights with '
            f'load_from={path!r} (a teacher\'s weights go to '
            'model.teacher_ckpt)')
    return checkpoint


def check_resume_fits(checkpoint: Optional[dict], model: nn.Module,
                      cfg: Config) -> None:
    """A run checkpoint to resume must be of this model: the same keys."""
    if checkpoint is None or not cfg.get('resume'):
        return
    from mmcakd.models.utils import as_loaded
    own = set(model.state_dict())
    saved = set(as_loaded(model, checkpoint))
    if own == saved:
        return
    missing, unexpected = sorted(own - saved), sorted(saved - own)
    parts = [f'{len(missing)} missing keys (e.g. {missing[0]})'] \
        if missing else []
    if unexpected:
        parts.append(f'{len(unexpected)} unexpected keys (e.g. '
                     f'{unexpected[0]})')
    raise ValueError(
        f'--resume: {cfg.load_from!r} is a run checkpoint of another model '
        f'({"; ".join(parts)}): resume a run of this config, or give a new '
        '--work-dir')
