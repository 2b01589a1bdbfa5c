"""Give layers another implementation of the same function, in place."""
from typing import Tuple, Type

from torch import nn


def swap_class(module: nn.Module, plain: Tuple[Type[nn.Module], ...],
               new: Type[nn.Module]) -> int:
    """Make every sub-module of ``module`` whose class is exactly one of
    ``plain`` (not a subclass with a forward of its own) an instance of
    ``new``, a subclass computing the same function: the same parameters,
    hooks and ``state_dict`` keys. Returns how many."""
    layers = [m for m in module.modules() if type(m) in plain]
    for layer in layers:
        layer.__class__ = new
    return len(layers)
