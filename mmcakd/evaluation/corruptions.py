"""A fixed, deterministic set of image corruptions for robustness tests.

Each corruption works on a raw pixel batch (B, C, H, W) in [0, 255] (before
the data preprocessor normalises it) at one of three severities:

==============  =============================================  ===============
name            what                                           severities
==============  =============================================  ===============
gaussian_noise  add N(0, sigma^2), sigma in pixel units         8, 16, 32
gaussian_blur   Gaussian blur, sigma in pixels                  0.5, 1.0, 1.5
contrast        scale the deviation from the image mean by f    0.5, 0.3, 0.15
occlusion       a black square, side as a fraction of the       0.25, 0.375, 0.5
                shorter image side, at a random position
==============  =============================================  ===============

Randomness (noise, square positions) comes from a generator seeded by the
corruption, the severity and the batch index, so a run over the same data
in the same order gives the same images every time.
"""
import math
import zlib
from typing import Dict, List

import torch
import torch.nn.functional as F

SEVERITIES: Dict[str, List[float]] = {
    'gaussian_noise': [8.0, 16.0, 32.0],
    'gaussian_blur': [0.5, 1.0, 1.5],
    'contrast': [0.5, 0.3, 0.15],
    'occlusion': [0.25, 0.375, 0.5],
}


def _generator(name: str, level: float, batch_index: int) -> torch.Generator:
    key = f'{name}/{level}/{batch_index}'.encode()
    return torch.Generator().manual_seed(zlib.crc32(key))


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur with reflect padding, per channel."""
    radius = max(1, math.ceil(3 * sigma))
    taps = torch.arange(-radius, radius + 1, dtype=x.dtype)
    kernel = torch.exp(-taps**2 / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    c = x.shape[1]
    x = F.pad(x, (radius, radius, radius, radius), mode='reflect')
    x = F.conv2d(x, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def corrupt(x: torch.Tensor, name: str, level: float,
            batch_index: int) -> torch.Tensor:
    """Apply corruption ``name`` at ``level`` to ``x`` (B, C, H, W), 0-255."""
    x = x.float()
    gen = _generator(name, level, batch_index)
    if name == 'gaussian_noise':
        x = x + level * torch.randn(x.shape, generator=gen)
    elif name == 'gaussian_blur':
        x = gaussian_blur(x, level)
    elif name == 'contrast':
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = mean + (x - mean) * level
    elif name == 'occlusion':
        B, _, H, W = x.shape
        side = max(1, round(level * min(H, W)))
        top = torch.randint(0, H - side + 1, (B, ), generator=gen)
        left = torch.randint(0, W - side + 1, (B, ), generator=gen)
        rows = torch.arange(H).view(1, H, 1)
        cols = torch.arange(W).view(1, 1, W)
        inside = ((rows >= top.view(B, 1, 1)) &
                  (rows < (top + side).view(B, 1, 1)) &
                  (cols >= left.view(B, 1, 1)) &
                  (cols < (left + side).view(B, 1, 1)))
        x = x.masked_fill(inside.unsqueeze(1), 0.0)
    else:
        raise ValueError(f'unknown corruption {name!r}; choose from '
                         f'{sorted(SEVERITIES)}')
    return x.clamp(0, 255)
