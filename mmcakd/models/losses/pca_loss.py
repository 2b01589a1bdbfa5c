"""L_pca, the attention-space loss of the PCA projector (paper Eq. 4)."""
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
        return Gram.apply(v, v.shape[-1]**-0.5)

    def forward(self, attn_s: torch.Tensor, v_s: torch.Tensor,
                attn_t: torch.Tensor, v_t: torch.Tensor) -> torch.Tensor:
        loss = self.attn_weight * F.mse_loss(attn_s, attn_t.to(attn_s.dtype))
        if self.vv_weight:
            loss = loss + self.vv_weight * F.mse_loss(
                self.relation(v_s), self.relation(v_t.to(v_s.dtype)))
        return loss


class Gram(torch.autograd.Function):
    """scale * V V^T, (..., N, d) -> (..., N, N), with a one-matmul
    backward: d V = scale * (G + G^T) V for the incoming gradient G, where
    autograd through ``v @ v.transpose(-2, -1)`` takes two matmuls (one
    per operand) and their sum."""

    @staticmethod
    def forward(ctx, v: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        if v.requires_grad:
            ctx.save_for_backward(v)
        return (v @ v.transpose(-2, -1)).mul_(scale)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        v, = ctx.saved_tensors
        return ((grad + grad.transpose(-2, -1)) @ v).mul_(ctx.scale), None
