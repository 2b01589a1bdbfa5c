"""The plain torch expressions of the method's hand-written pieces, for
``benchmark_step.py --ablate PIECE=plain``: what each piece is worth
against the expression it replaces, measured side by side.

Each entry swaps one piece for its plain expression while a step runs
(:func:`plain`); the swap is the benchmark's, never the model's:

- ``bernoulli``: ``SeededRandom.bernoulli`` (one random bit per element at
  p = 0.5) -> ``torch.rand(shape) < p``;
- ``substitution``: ``PartialSubstitution`` (one autograd function for
  g(M) of paper Eq. 3 and the split into heads) -> ``torch.where`` and
  views, through autograd;
- ``gram``: ``Gram`` (V V^T with a one-matmul backward) -> ``v @ v.mT``
  through autograd;
- ``conv_class``: with ``accel.channels_last`` on CPU, the student's
  convolutions as ``ChannelsLastConv2d`` -> torch's own ``nn.Conv2d`` on
  the channels-last model (swapped while the distiller is built).

The fused optimizers are ``model.accel.fused_optimizer`` (``--ablate
fused_optimizer=False``).
"""
import contextlib
from typing import Iterable, Iterator, Sequence, Tuple

import torch

from mmcakd.cpu import acceleration
from mmcakd.models.projectors import pca
from mmcakd.models.utils import gram
from mmcakd.models.utils.seeded_random import SeededRandom


def plain_bernoulli(self: SeededRandom,
                    shape: Sequence[int],
                    p: float,
                    device: torch.device,
                    dtype: torch.dtype = torch.bool) -> torch.Tensor:
    """``torch.rand(shape) < p`` from the module's stream, as ``dtype``."""
    draw = torch.rand(tuple(shape), device=device,
                      generator=self.generator(device))
    return (draw < p).to(dtype)


class PlainSubstitution:
    """``PartialSubstitution.apply`` through autograd: the same (q, k, v,
    v_s), each (B, heads, N, d), from (B, N, 3, heads, d) inputs."""

    @staticmethod
    def apply(student: torch.Tensor, teacher: torch.Tensor,
              take: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        mixed = torch.where(take.bool(), teacher, student)
        q, k, v = mixed.permute(2, 0, 3, 1, 4).unbind(0)
        return q, k, v, student[:, :, 2].transpose(1, 2)


class PlainGram:
    """``Gram.apply``: scale * V V^T through autograd."""

    @staticmethod
    def apply(v: torch.Tensor, scale: float) -> torch.Tensor:
        return (v * scale) @ v.mT


# piece -> (object, attribute, plain replacement)
PIECES = {
    'bernoulli': (SeededRandom, 'bernoulli', plain_bernoulli),
    'substitution': (pca, 'PartialSubstitution', PlainSubstitution),
    'gram': (gram, 'Gram', PlainGram),
    'conv_class': (acceleration, 'use_channels_last_conv', lambda model: 0),
}


@contextlib.contextmanager
def plain(pieces: Iterable[str]) -> Iterator[None]:
    """Run the body with ``pieces`` (names of :data:`PIECES`) in their plain
    form; everything is put back on exit."""
    saved = []
    try:
        for name in pieces:
            owner, attr, replacement = PIECES[name]
            saved.append((owner, attr, getattr(owner, attr)))
            setattr(owner, attr, replacement)
        yield
    finally:
        for owner, attr, original in reversed(saved):
            setattr(owner, attr, original)
