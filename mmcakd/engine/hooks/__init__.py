from .nan_guard_hook import NaNGuardHook
from .random_state_hook import RandomStateHook
from .safe_checkpoint_hook import SafeCheckpointHook

__all__ = ['NaNGuardHook', 'RandomStateHook', 'SafeCheckpointHook']
