from .base import BaseDistiller, build_classifier, build_loss
from .cakd import CAKDDistiller
from .fitnet import FitNetDistiller
from .logit import LogitDistiller
from .ofa import ExitBranches, OFADistiller
from .rkd import RKDDistiller

__all__ = [
    'BaseDistiller', 'CAKDDistiller', 'ExitBranches', 'FitNetDistiller',
    'LogitDistiller', 'OFADistiller', 'RKDDistiller', 'build_classifier',
    'build_loss'
]
