from .base import BaseProjector
from .cls_token import ClassTokenProjector
from .gl import GLProjector
from .logit import LogitProjector
from .pca import PCAProjector

__all__ = [
    'BaseProjector', 'ClassTokenProjector', 'GLProjector', 'LogitProjector',
    'PCAProjector'
]
