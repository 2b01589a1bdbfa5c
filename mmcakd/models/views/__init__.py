from .multiview import MultiViewGenerator

__all__ = ['MultiViewGenerator']
