from .multiview import MultiViewGenerator
from .view_classifier import ViewAugmentedClassifier

__all__ = ['MultiViewGenerator', 'ViewAugmentedClassifier']
