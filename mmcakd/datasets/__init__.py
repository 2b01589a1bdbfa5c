from .fashion_mnist import FashionMNISTSplit, balanced_split
from .seeded_samples import SeededSampleDataset, SeededSampler, sample_seed

__all__ = [
    'FashionMNISTSplit', 'balanced_split', 'SeededSampleDataset',
    'SeededSampler', 'sample_seed'
]
