"""Read a named module's output by a forward hook, without editing models."""
import difflib
from typing import Optional

import torch
from torch import nn


def get_submodule(model: nn.Module, name: str, field: str) -> nn.Module:
    """``model.get_submodule(name)`` with an error that lists close names."""
    try:
        return model.get_submodule(name)
    except AttributeError:
        names = [n for n, _ in model.named_modules() if n]
        close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
        hint = f'closest: {", ".join(close)}' if close else \
            f'e.g. {", ".join(names[:5])}'
        raise ValueError(
            f'{field}={name!r} names no module of the model ({hint})'
        ) from None


class FeatureTap:
    """Keeps the latest output (or input) of ``model.<name>``.

    The hook is registered once and stays; :meth:`pop` hands out the tensor
    and forgets it, so a stale feature can never be read twice.

    Args:
        model (nn.Module): The model to tap.
        name (str): Dotted module name, e.g. ``'backbone.layer3'``.
        field (str): The config field that named it (for error messages).
        inputs (bool): Keep the module's first input instead of its output
            (e.g. the pooled feature a classifier head receives). A tuple
            (mmpretrain passes a tuple of stage outputs) gives its last
            element, as for outputs.
    """

    def __init__(self, model: nn.Module, name: str, field: str,
                 inputs: bool = False) -> None:
        self.name = name
        self.field = field
        self._value: Optional[torch.Tensor] = None
        module = get_submodule(model, name, field)
        self._handle = (module.register_forward_pre_hook(self._pre_hook)
                        if inputs else
                        module.register_forward_hook(self._hook))

    def _pre_hook(self, module: nn.Module, args) -> None:
        self._hook(module, args, args[0])

    def _hook(self, module: nn.Module, args, output) -> None:
        if isinstance(output, (tuple, list)):
            output = output[-1]
        self._value = output

    def pop(self) -> torch.Tensor:
        value, self._value = self._value, None
        if value is None:
            raise RuntimeError(
                f'{self.field}={self.name!r} was not run in the forward pass')
        return value

    def clear(self) -> None:
        """Forget the kept value (e.g. one left by a forward in another
        mode), so that :meth:`pop` only hands out a fresh one."""
        self._value = None

    def remove(self) -> None:
        self._handle.remove()
