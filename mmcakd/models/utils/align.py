"""Bring a student feature map onto the teacher's token grid."""
from typing import Tuple

import torch
import torch.nn.functional as F


def align_to_grid(feat: torch.Tensor, grid: Tuple[int, int]) -> torch.Tensor:
    """Resize ``feat`` (B, C, H_S, W_S) to (B, C, H_T, W_T).

    Per axis: a longer one is adaptively average-pooled (every student
    position contributes), a shorter one bilinearly upsampled (method.md,
    "Where features are taken"); an equal map is returned as is.
    """
    size = tuple(feat.shape[-2:])
    grid = tuple(grid)
    if size == grid:
        return feat
    pooled = (min(size[0], grid[0]), min(size[1], grid[1]))
    if pooled != size:
        feat = F.adaptive_avg_pool2d(feat, pooled)
    if pooled != grid:
        feat = F.interpolate(
            feat, size=grid, mode='bilinear', align_corners=False)
    return feat
