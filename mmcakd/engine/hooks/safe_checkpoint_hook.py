"""Checkpoints that torch's safe (``weights_only``) loader can read back."""
from typing import Any

import numpy as np
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer

from mmcakd.registry import HOOKS

_BUFFER_TAG = '__history_buffer__'


def _to_plain(value: Any) -> Any:
    """numpy scalars and arrays -> Python numbers and lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


@HOOKS.register_module()
class SafeCheckpointHook(Hook):
    """Store the runner's message hub as plain data, and restore it on load.

    torch>=2.6 loads checkpoints with ``weights_only=True``; mmengine 0.10
    writes ``HistoryBuffer`` objects (whose pickle calls ``getattr``) and
    numpy scalars into every checkpoint, so ``--resume``, ``load_from`` and
    ``tools/test.py`` fail on the runner's own files. Allowing those globals
    would weaken the loader for third-party files too (a checkpoint from the
    internet must not be able to run code). Instead, the buffers are written
    as lists of numbers and rebuilt after loading: every checkpoint, ours or
    not, goes through the restricted unpickler.
    """

    priority = 'VERY_LOW'  # after every other hook has added its state

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        hub = checkpoint.get('message_hub')
        if not hub:
            return
        hub['log_scalars'] = {
            key: {
                _BUFFER_TAG: True,
                'log': _to_plain(buf._log_history),
                'count': _to_plain(buf._count_history),
                'max_length': buf.max_length,
            } if isinstance(buf, HistoryBuffer) else buf
            for key, buf in hub['log_scalars'].items()
        }
        hub['runtime_info'] = {
            key: _to_plain(value)
            for key, value in hub['runtime_info'].items()
        }

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        hub = checkpoint.get('message_hub')
        if not hub:
            return
        hub['log_scalars'] = {
            key: HistoryBuffer(value['log'], value['count'],
                               value['max_length'])
            if isinstance(value, dict) and value.get(_BUFFER_TAG) else value
            for key, value in hub['log_scalars'].items()
        }
