"""The token discriminator of multi-view robust training (paper Eq. 8)."""
from typing import Optional

import torch
from torch import nn

from mmcakd.utils.checks import check_int
from mmcakd.registry import MODELS


@MODELS.register_module()
class TokenDiscriminator(nn.Module):
    """A three-layer MLP scoring each token: teacher ("real") or student.

    C_T -> hidden -> hidden -> 1 with LeakyReLU(0.2) between layers.

    Args:
        in_channels (int): C_T.
        hidden_channels (int, optional): Width of the two hidden layers;
            defaults to C_T.
        field (str): Where the options sit in the config, for errors.
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: Optional[int] = None,
                 field: str = 'discriminator') -> None:
        super().__init__()
        hidden = in_channels if hidden_channels is None else check_int(
            hidden_channels, f'{field}.hidden_channels')
        self.layers = nn.Sequential(
            nn.Linear(in_channels, hidden), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(hidden, 1))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, N, C_T) -> logits (B, N): one real/fake logit per token."""
        return self.layers(tokens).squeeze(-1)
