from .nan_guard_hook import NaNGuardHook
from .safe_checkpoint_hook import SafeCheckpointHook

__all__ = ['NaNGuardHook', 'SafeCheckpointHook']
