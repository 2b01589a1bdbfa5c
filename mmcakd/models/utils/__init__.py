from .align import align_to_grid
from .checkpoint import as_loaded, check_fits, load_weights, read_state_dict
from .feature_tap import FeatureTap, get_submodule
from .seeded_random import SeededRandom
from .sync_batch_norm import SyncBatchNormAnyDevice

__all__ = [
    'align_to_grid', 'as_loaded', 'check_fits', 'load_weights',
    'read_state_dict', 'FeatureTap',
    'get_submodule', 'SeededRandom', 'SyncBatchNormAnyDevice'
]
