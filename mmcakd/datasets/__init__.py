from .fashion_mnist import FashionMNISTSplit, balanced_split

__all__ = ['FashionMNISTSplit', 'balanced_split']
