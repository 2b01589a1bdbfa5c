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

    A module that runs more than once in one forward of ``model`` (e.g. the
    ReLU that mmpretrain's ResNet blocks call after each convolution) has
    no single output to distil: :meth:`pop` refuses it, so the distillers'
    build-time dry runs refuse such a tap when the model is built. The
    calls are counted from the start of each forward of ``model`` (a
    pre-hook on it) or from the last :meth:`pop` / :meth:`clear`.

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
        self._calls = 0
        module = get_submodule(model, name, field)
        self._handles = [
            model.register_forward_pre_hook(self._new_forward),
            module.register_forward_pre_hook(self._pre_hook)
            if inputs else module.register_forward_hook(self._hook)
        ]

    def _new_forward(self, module: nn.Module, args) -> None:
        self._calls = 0

    def _pre_hook(self, module: nn.Module, args) -> None:
        self._hook(module, args, args[0])

    def _hook(self, module: nn.Module, args, output) -> None:
        if isinstance(output, (tuple, list)):
            output = output[-1]
        self._value = output
        self._calls += 1

    def pop(self) -> torch.Tensor:
        value, calls = self._value, self._calls
        self.clear()
        if value is None:
            raise RuntimeError(
                f'{self.field}={self.name!r} was not run in the forward pass')
        if calls > 1:
            parent = self.name.rpartition('.')[0]
            hint = (f'tap the enclosing block {parent!r} instead' if parent
                    else 'tap a module that runs once')
            raise ValueError(
                f'{self.field}={self.name!r} runs {calls} times in one '
                'forward of the model (a module reused inside its block), so '
                f'it has no single output to distil; {hint}')
        return value

    def clear(self) -> None:
        """Forget the kept value (e.g. one left by a forward in another
        mode), so that :meth:`pop` only hands out a fresh one."""
        self._value = None
        self._calls = 0

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
