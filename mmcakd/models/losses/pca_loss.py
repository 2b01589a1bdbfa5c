"""L_pca, the attention-space loss of the PCA projector (paper Eq. 4)."""
import math

import torch
import torch.nn.functional as F
from torch import nn

from mmcakd.registry import MODELS


@MODELS.register_module()
class PCALoss(nn.Module):
    """a_attn * MSE(PCAttn_S, Attn_T) + a_vv * MSE(V_S V_S^T, V_T V_T^T) / d.

    The value-relation term compares V V^T / sqrt(d) of student and teacher,
    both scaled (the release leaves the teacher's unscaled; method.md keeps
    the paper's form).

    Args:
        attn_weight (float): Weight of the attention term (release: 0.2).
        vv_weight (float): Weight of the value-relation term (release: 0.05).

    Inputs are (B, heads, N, d).
    """

    def __init__(self, attn_weight: float = 1.0,
                 vv_weight: float = 1.0) -> None:
        super().__init__()
        self.attn_weight = attn_weight
        self.vv_weight = vv_weight

    @staticmethod
    def relation(v: torch.Tensor) -> torch.Tensor:
        """V V^T / sqrt(d): (B, heads, N, d) -> (B, heads, N, N)."""
        return v @ v.transpose(-2, -1) / math.sqrt(v.shape[-1])

    def forward(self, attn_s: torch.Tensor, v_s: torch.Tensor,
                attn_t: torch.Tensor, v_t: torch.Tensor) -> torch.Tensor:
        loss = self.attn_weight * F.mse_loss(attn_s, attn_t.to(attn_s.dtype))
        if self.vv_weight:
            loss = loss + self.vv_weight * F.mse_loss(
                self.relation(v_s), self.relation(v_t.to(v_s.dtype)))
        return loss
