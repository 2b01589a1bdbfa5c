from .fashion_mnist import FashionMNISTSplit, balanced_split
from .partial_labels import PartiallyLabelledDataset, unlabelled_count
from .seeded_samples import SeededSampleDataset, SeededSampler, sample_seed

__all__ = [
    'FashionMNISTSplit', 'balanced_split', 'PartiallyLabelledDataset',
    'SeededSampleDataset', 'SeededSampler', 'sample_seed', 'unlabelled_count'
]
