"""Group-wise linear (GL) projector, paper Eqs. 5-6."""
import math
from typing import Dict

import torch
import torch.nn.functional as F
from torch import nn

from mmcakd.models.teachers import TeacherFeatures
from mmcakd.registry import PROJECTORS
from mmcakd.utils.checks import check_int, check_probability
from .base import BaseProjector


@PROJECTORS.register_module()
class GLProjector(BaseProjector):
    """Maps a student feature map, pixel by pixel, into the teacher's tokens.

    The (aligned) H x W grid is cut into ``group_size`` x ``group_size``
    neighbourhoods (edge groups may be smaller: 14x14 with g=4 gives 16
    groups, 7x7 gives 4). Every position of a group uses the same
    Linear(C_S -> C_T) with bias; groups share nothing (Eq. 5):

        h'_S[n] = W_{group(n)} x_S[n] + b_{group(n)}.

    All groups run as one batched matmul: the grid is zero-padded to a
    multiple of g, cut into (G, g*g) blocks, multiplied by the stacked
    (G, C_S, C_T) weights, and un-padded. No Python loop over groups.

    As a CAKD projector it reads the stage map; its loss (:class:`GLLoss`,
    L_gl) compares h'_S with the teacher's tokens h_T, and MRT's
    discriminator judges h'_S against h_T.

    Args:
        in_channels (int): C_S.
        embed_dims (int): C_T.
        grid (tuple[int, int]): (H_T, W_T), fixed at build time.
        group_size (int): g, default 4.
        dropout (float): Dropout on the input, default 0.1.
    """

    targets = ('tokens', )
    gives_tokens = True
    default_loss = dict(type='GLLoss', loss_weight=0.05)

    def __init__(self,
                 in_channels: int,
                 embed_dims: int,
                 grid: tuple,
                 group_size: int = 4,
                 dropout: float = 0.1) -> None:
        super().__init__()
        check_int(group_size, 'group_size')
        check_probability(dropout, 'dropout')
        self.grid = tuple(int(s) for s in grid)
        self.group_size = group_size
        self.groups_hw = tuple(math.ceil(s / group_size) for s in self.grid)
        num_groups = self.groups_hw[0] * self.groups_hw[1]
        self.dropout = nn.Dropout(dropout)
        self.weight = nn.Parameter(
            torch.empty(num_groups, in_channels, embed_dims))
        self.bias = nn.Parameter(torch.zeros(num_groups, embed_dims))
        # Same initialisation as nn.Linear(C_S, C_T), per group.
        bound = 1 / math.sqrt(in_channels)
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    @classmethod
    def shape_args(cls, student: torch.Tensor,
                   teacher: TeacherFeatures) -> Dict[str, object]:
        """C_S from the stage map; C_T and the grid from the teacher."""
        return dict(in_channels=student.shape[1],
                    embed_dims=teacher.tokens.shape[-1], grid=teacher.grid)

    @property
    def num_groups(self) -> int:
        return self.weight.shape[0]

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        """(B, C_S, H_T, W_T) -> h'_S, (B, N, C_T) row-major over the grid."""
        B, C, H, W = feat.shape
        if (H, W) != self.grid:
            raise ValueError(f'GLProjector built for grid {self.grid}, got '
                             f'{(H, W)}')
        g = self.group_size
        gh, gw = self.groups_hw
        x = F.pad(self.dropout(feat), (0, gw * g - W, 0, gh * g - H))
        # (B, C, gh, g, gw, g) -> (G, B * g * g, C)
        x = x.reshape(B, C, gh, g, gw, g).permute(2, 4, 0, 3, 5, 1)
        x = x.reshape(gh * gw, B * g * g, C)
        y = torch.baddbmm(self.bias.unsqueeze(1), x, self.weight)
        # (gh, gw, B, g, g, C_T) -> (B, gh*g, gw*g, C_T), then un-pad
        y = y.reshape(gh, gw, B, g, g, -1).permute(2, 0, 3, 1, 4, 5)
        y = y.reshape(B, gh * g, gw * g, -1)[:, :H, :W]
        return y.reshape(B, H * W, -1)
