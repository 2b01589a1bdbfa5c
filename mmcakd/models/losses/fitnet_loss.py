"""The hint loss of FitNets (Romero et al., ICLR 2015)."""
import torch
import torch.nn.functional as F
from torch import nn

from mmcakd.registry import MODELS
from mmcakd.utils.checks import check_number


@MODELS.register_module()
class FitNetLoss(nn.Module):
    """Hint loss w * MSE(r(v_s), u_t) (FitNets Eq. 3, up to its 1/2 and with
    the mean instead of the sum over elements, so that w does not depend on
    the token count).

    Inputs are the regressed student tokens r(v_s) and the teacher tokens
    u_t, both (B, N, C_T).

    Args:
        loss_weight (float): w >= 0.
    """

    loss_name = 'loss_fitnet'

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = check_number(loss_weight, 'loss_weight')

    def forward(self, hint_s: torch.Tensor,
                tokens_t: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * F.mse_loss(hint_s,
                                             tokens_t.detach().to(hint_s.dtype))
