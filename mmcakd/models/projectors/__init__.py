from .cls_token import ClassTokenProjector
from .gl import GLProjector
from .pca import PCAProjector

__all__ = ['ClassTokenProjector', 'GLProjector', 'PCAProjector']
