"""L_gl, the token-space loss of the GL projector (paper Eq. 6)."""
import torch
import torch.nn.functional as F
from torch import nn

from mmcakd.registry import MODELS
from mmcakd.utils.checks import check_number


@MODELS.register_module()
class GLLoss(nn.Module):
    """loss_weight * MSE(h'_S, h_T), both (B, N, C_T).

    Args:
        loss_weight (float): b in the total loss (release: 0.05).
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = check_number(loss_weight, 'loss_weight')

    def forward(self, tokens_s: torch.Tensor,
                tokens_t: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * F.mse_loss(tokens_s,
                                             tokens_t.to(tokens_s.dtype))
