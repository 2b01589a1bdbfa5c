"""Stop training at the first NaN or Inf loss, before it is saved."""
import math
from typing import Optional

import torch
from mmengine.hooks import Hook

from mmcakd.registry import HOOKS


@HOOKS.register_module()
class NaNGuardHook(Hook):
    """Raise when any logged loss term of a training step is NaN or Inf.

    It runs right after each training iteration and before the checkpoint
    hook (higher priority), so a diverged model is never written over the
    last good checkpoint. The message names the term, the iteration and the
    last checkpoint to resume from.
    """

    priority = 'VERY_HIGH'

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        for name, value in (outputs or {}).items():
            if 'loss' not in name:
                continue
            value = float(value.detach() if torch.is_tensor(value) else value)
            if math.isfinite(value):
                continue
            last = runner.message_hub.get_info('last_ckpt')
            resume = (f'resume from the last good checkpoint {last} with a '
                      'lower learning rate or loss weight'
                      if last else 'no checkpoint was written yet')
            raise FloatingPointError(
                f'{name} is {value} at iteration {runner.iter + 1}: training '
                f'stopped; {resume}')
