"""Save the global random generators in checkpoints; restore them on resume."""
import random
import zlib
from typing import Optional

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from mmcakd.registry import HOOKS


def _global_state() -> dict:
    """torch (CPU and CUDA), numpy and ``random`` states as plain data and
    tensors, so that the checkpoint stays readable by the safe loader."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, py_gauss = random.getstate()
    return dict(
        torch=torch.get_rng_state(),
        cuda=(torch.cuda.get_rng_state_all()
              if torch.cuda.is_available() else []),
        numpy=[kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss,
               gauss],
        python=[version, list(internal), py_gauss])


def _set_global_state(state: dict) -> None:
    torch.set_rng_state(state['torch'])
    if state['cuda'] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])
    kind, keys, pos, has_gauss, gauss = state['numpy']
    np.random.set_state(
        (kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, internal, py_gauss = state['python']
    random.setstate((version, tuple(internal), py_gauss))


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Resume torch's, numpy's and Python's global random streams.

    The model's own streams (PCA substitution, views) live in its
    ``state_dict``; the global ones feed dropout (e.g. in the GL projector)
    and drop-path in the student. mmengine reseeds them from
    ``randomness.seed`` when it resumes, so the resumed run would draw other
    masks than the run it continues. This hook writes their state into every
    checkpoint and sets it back just before the first resumed iteration.

    The checkpoint holds rank 0's state; with ``randomness.diff_rank_seed``
    the other ranks derive their own from it and their rank.
    """

    priority = 'LOW'

    def __init__(self) -> None:
        self._pending: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['random_state'] = _global_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # Only a resume continues the streams; `load_from` starts afresh.
        if getattr(runner, '_resume', False):
            self._pending = checkpoint.get('random_state')

    def before_train(self, runner) -> None:
        # After the runner's own reseeding on resume, before any draw.
        if self._pending is None:
            return
        _set_global_state(self._pending)
        rank = get_rank()
        if rank and runner._randomness_cfg.get('diff_rank_seed', False):
            seed = (zlib.crc32(self._pending['torch'].numpy().tobytes()) +
                    7919 * rank) % 2**31
            torch.manual_seed(seed)
            np.random.seed(seed)
            random.seed(seed)
        self._pending = None
