from .gl import GLProjector
from .pca import PCAProjector

__all__ = ['GLProjector', 'PCAProjector']
