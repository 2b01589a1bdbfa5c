"""The multi-view generator (MVG) of multi-view robust training, Eq. 7."""
import math
from functools import partial
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from mmcakd.utils.checks import (check_int, check_number,
                                        check_options, check_probability,
                                        check_range)
from mmcakd.models.utils.seeded_random import SeededRandom
from mmcakd.registry import MODELS

DEFAULT_TRANSFORMS = (
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4),
    dict(type='ResizedCrop', scale=(0.5, 1.0), ratio=(3 / 4, 4 / 3)),
    dict(type='Rotation', degrees=30.0),
    dict(type='PatchMask', grid=7, ratio=0.25),
    dict(type='GaussianNoise', std=0.2),
)


@MODELS.register_module()
class MultiViewGenerator(nn.Module):
    """Perturbed views of a batch for the student; the teacher sees it clean.

    Each sample, with probability ``prob``, gets one transform drawn
    uniformly from ``transforms``; otherwise it is left as is. Works on the
    normalised (B, C, H, W) batch that the data preprocessor produced, with
    batched tensor ops (one call per transform kind on the samples that drew
    it, never a loop over samples). Randomness comes from the module's own
    seeded generator, saved with the model (reproducible and resumable).

    Transforms (strengths in normalised units, where 1 is one pixel std):

    - ``ColorJitter(brightness, contrast, saturation)``: add U(-b, b); scale
      the deviation from the image mean by U(1-c, 1+c); for colour images
      scale the deviation from grey by U(1-s, 1+s).
    - ``ResizedCrop(scale, ratio)``: crop a random area fraction in
      ``scale`` with aspect ratio in ``ratio`` (log-uniform) and resize it
      back to the full size.
    - ``Rotation(degrees)``: rotate by U(-degrees, degrees), zero-filled.
    - ``PatchMask(grid, ratio)``: cut the image into grid x grid patches and
      zero (the mean) each with probability ``ratio``.
    - ``GaussianNoise(std)``: add N(0, std^2).

    Rotation and crops use normalised image coordinates, so on non-square
    images a rotation also shears slightly.

    Which image the teacher sees (``teacher_view``, :meth:`teacher_inputs`):

    - ``'clean'``: the unperturbed batch (the paper's text);
    - ``'geometric'``: a sample whose view is geometric (``ResizedCrop``,
      ``Rotation``) is shown to the teacher with the same transform and
      parameters, so that token n covers the same place of the image for
      both (method.md, "Known pitfalls"); photometric views (colour, noise,
      masking) stay student-only and the teacher sees those samples clean;
    - ``'same'``: the teacher sees the student's view (the release's shared
      augmentation).

    Args:
        prob (float): Probability that a sample is transformed. Default 0.5.
        transforms (list[dict]): The transforms and their strengths.
        teacher_view (str): ``'clean'`` (default), ``'geometric'`` or
            ``'same'``.
        field (str): Where the options sit in the config (``'views'``,
            ``'mrt.views'``), named by the errors a bad option raises.
    """

    KINDS = ('ColorJitter', 'ResizedCrop', 'Rotation', 'PatchMask',
             'GaussianNoise')
    GEOMETRIC = ('ResizedCrop', 'Rotation')
    TEACHER_VIEWS = ('clean', 'geometric', 'same')
    # Each kind's strengths: (check, default; None = required).
    STRENGTHS = dict(
        ColorJitter=dict(
            brightness=(check_number, 0.0),
            contrast=(partial(check_number, upper=1.0), 0.0),
            saturation=(partial(check_number, upper=1.0), 0.0)),
        ResizedCrop=dict(
            scale=(partial(check_range, upper=1.0), (0.5, 1.0)),
            ratio=(check_range, (3 / 4, 4 / 3))),
        Rotation=dict(degrees=(partial(check_number, upper=180.0), None)),
        PatchMask=dict(grid=(check_int, None),
                       ratio=(check_probability, None)),
        GaussianNoise=dict(std=(check_number, None)),
    )

    def __init__(self,
                 prob: float = 0.5,
                 transforms: Optional[Sequence[dict]] = None,
                 teacher_view: str = 'clean',
                 field: str = 'views') -> None:
        super().__init__()
        prob = check_probability(prob, f'{field}.prob')
        if teacher_view not in self.TEACHER_VIEWS:
            raise ValueError(f'{field}.teacher_view={teacher_view!r} must '
                             f'be one of {self.TEACHER_VIEWS}')
        self.teacher_view = teacher_view
        if transforms is None:
            transforms = DEFAULT_TRANSFORMS
        if not isinstance(transforms, (list, tuple)):
            raise ValueError(f'{field}.transforms={transforms!r} must be a '
                             'list of transform dicts')
        if not transforms:
            raise ValueError(f'{field}.transforms is empty: give at least '
                             f'one of {self.KINDS} or set {field}=None')
        self.transforms = [self._check_transform(t, f'{field}.transforms[{i}]')
                           for i, t in enumerate(transforms)]
        self.prob = prob
        # Indices of the geometric transforms, for teacher_view='geometric'.
        self.register_buffer(
            '_geometric',
            torch.tensor([t['kind'] in self.GEOMETRIC
                          for t in self.transforms]),
            persistent=False)
        self.random = SeededRandom()

    @classmethod
    def _check_transform(cls, t: dict, field: str) -> dict:
        """One transform config as ``dict(kind=..., **strengths)``, with every
        strength checked by type and range (:attr:`STRENGTHS`)."""
        if not isinstance(t, dict):
            raise ValueError(f'{field}={t!r} must be a dict with a `type`')
        t = dict(t)
        kind = t.pop('type', None)
        if kind not in cls.KINDS:
            raise ValueError(f'{field}: unknown type {kind!r}; choose from '
                             f'{cls.KINDS}')
        spec = cls.STRENGTHS[kind]
        check_options(t, spec, f'{field} ({kind})')
        checked = dict(kind=kind)
        for name, (check, default) in spec.items():
            if name not in t and default is None:
                raise ValueError(f'{field}.{name}: {kind} needs it')
            checked[name] = check(t.get(name, default), f'{field}.{name}')
        return checked

    def _uniform(self, n: int, low: float, high: float, like: torch.Tensor,
                 gen: torch.Generator) -> torch.Tensor:
        r = torch.rand(n, device=like.device, generator=gen, dtype=like.dtype)
        return low + (high - low) * r

    def _affine(self, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, align_corners=False)

    def _transform(self, t: dict, x: torch.Tensor,
               gen: torch.Generator) -> torch.Tensor:
        n = x.shape[0]
        u = lambda lo, hi: self._uniform(n, lo, hi, x, gen).view(  # noqa
            n, 1, 1, 1)
        kind = t['kind']
        if kind == 'ColorJitter':
            if x.shape[1] > 1 and t['saturation']:
                grey = x.mean(dim=1, keepdim=True)
                s = t['saturation']
                x = grey + (x - grey) * u(1 - s, 1 + s)
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            c, b = t['contrast'], t['brightness']
            return mean + (x - mean) * u(1 - c, 1 + c) + u(-b, b)
        if kind == 'GaussianNoise':
            return x + t['std'] * torch.randn(
                x.shape, device=x.device, generator=gen, dtype=x.dtype)
        if kind == 'PatchMask':
            g = t['grid']
            keep = torch.rand((n, 1, g, g), device=x.device,
                              generator=gen) >= t['ratio']
            keep = F.interpolate(keep.to(x.dtype), size=x.shape[-2:],
                                 mode='nearest')
            return x * keep
        zeros = torch.zeros(n, device=x.device, dtype=x.dtype)
        if kind == 'Rotation':
            a = self._uniform(n, -1, 1, x, gen) * math.radians(t['degrees'])
            cos, sin = a.cos(), a.sin()
            theta = torch.stack(
                [torch.stack([cos, -sin, zeros], 1),
                 torch.stack([sin, cos, zeros], 1)], 1)
            return self._affine(x, theta)
        # ResizedCrop: the sampling grid spans a (w, h) fraction of the image
        # around a random centre that keeps the crop inside it.
        lo, hi = t['scale']
        r_lo, r_hi = (math.log(r) for r in t['ratio'])
        area = self._uniform(n, lo, hi, x, gen)
        ratio = self._uniform(n, r_lo, r_hi, x, gen).exp()
        w = (area * ratio).sqrt().clamp(max=1)
        h = (area / ratio).sqrt().clamp(max=1)
        cx = self._uniform(n, -1, 1, x, gen) * (1 - w)
        cy = self._uniform(n, -1, 1, x, gen) * (1 - h)
        theta = torch.stack([
            torch.stack([w, zeros, cx], 1),
            torch.stack([zeros, h, cy], 1)
        ], 1)
        return self._affine(x, theta)

    def forward(self, inputs: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """
        Args:
            inputs: (B, C, H, W), the normalised batch.

        Returns:
            (views (B, C, H, W), choice (B,) long): the transform index each
            sample got, -1 for samples left as they were.
        """
        gen = self.random.generator(inputs.device)
        B = inputs.shape[0]
        apply = torch.rand(B, device=inputs.device, generator=gen) < self.prob
        kind = torch.randint(
            len(self.transforms), (B, ), device=inputs.device, generator=gen)
        choice = torch.where(apply, kind, torch.full_like(kind, -1))
        views = inputs.clone()
        # One batched call per transform kind (at most 5), never per sample.
        for index, t in enumerate(self.transforms):
            rows = (choice == index).nonzero().squeeze(1)
            if rows.numel():
                views[rows] = self._transform(t, inputs[rows], gen)
        return views, choice

    def teacher_inputs(self, inputs: torch.Tensor, views: torch.Tensor,
                       choice: torch.Tensor) -> torch.Tensor:
        """The teacher's batch (B, C, H, W) under ``teacher_view``, from the
        clean ``inputs`` and the ``views`` and ``choice`` of :meth:`forward`.

        Each sample got at most one transform, so under ``'geometric'`` a
        sample with a geometric view is the same transform of the same
        image for both models: the teacher takes the student's view there.
        """
        if self.teacher_view == 'clean':
            return inputs
        if self.teacher_view == 'same':
            return views
        geometric = self._geometric.to(choice.device)[choice.clamp(min=0)]
        geometric &= choice >= 0
        return torch.where(geometric.view(-1, 1, 1, 1), views, inputs)
