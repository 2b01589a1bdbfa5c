from .base import BaseDistiller, build_classifier
from .cakd import CAKDDistiller

__all__ = ['BaseDistiller', 'CAKDDistiller', 'build_classifier']
