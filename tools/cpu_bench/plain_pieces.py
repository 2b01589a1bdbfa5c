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
- ``pca_layout``: the PCA projector's convolution run channels-last when
  its output outweighs its weight -> the convolution in the layout its
  input comes in;

Pieces measured at less than 3% of the accelerated step on both pairs were
replaced by their plain expression and left this list (docs/step_cost.md):
``Gram`` (V V^T with a one-matmul backward), oneDNN's linear layers, the
injected fused optimizers and the channels-last convolution class
(``ChannelsLastConv2d``, ``channels_last='conv'``).
"""
import contextlib
from typing import Iterable, Iterator, Sequence, Tuple

import torch

from mmcakd.models.projectors import pca
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


def plain_project_tokens(self: pca.PCAProjector,
                         feat: torch.Tensor) -> torch.Tensor:
    """(B, C_S, H, W) -> (B, N, 3, heads, d), the convolution in the
    input's layout."""
    B, _, H, W = feat.shape
    return self.qkv(feat).permute(0, 2, 3, 1).reshape(
        B, H * W, 3, self.num_heads, -1)


# piece -> (object, attribute, plain replacement)
PIECES = {
    'bernoulli': (SeededRandom, 'bernoulli', plain_bernoulli),
    'substitution': (pca, 'PartialSubstitution', PlainSubstitution),
    'pca_layout': (pca.PCAProjector, 'project_tokens', plain_project_tokens),
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
