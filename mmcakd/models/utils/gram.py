"""The value relation V V^T / sqrt(d) of L_pca (paper Eq. 4)."""
import torch


class Gram(torch.autograd.Function):
    """scale * V V^T, (..., N, d) -> (..., N, N), with a one-matmul
    backward: d V = scale * (G + G^T) V for the incoming gradient G, where
    autograd through ``v @ v.transpose(-2, -1)`` takes two matmuls (one
    per operand) and their sum.

    The scale goes into one operand, so that the product comes out scaled:
    in a low precision (the teacher's, under autocast) it is rounded once
    and the unscaled sums are never formed (fp16's range).
    """

    @staticmethod
    def forward(ctx, v: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        if v.requires_grad:
            ctx.save_for_backward(v)
        return (v * scale) @ v.transpose(-2, -1)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        v, = ctx.saved_tensors
        return ((grad + grad.transpose(-2, -1)) @ v).mul_(ctx.scale), None


def value_relation(v: torch.Tensor) -> torch.Tensor:
    """V V^T / sqrt(d): (B, heads, N, d) -> (B, heads, N, N), the student's
    (with its gradient) or the teacher's (in the teacher's run)."""
    return Gram.apply(v, v.shape[-1]**-0.5)


def score_map(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Q K^T / sqrt(d), the pre-softmax attention scores: (B, heads, N, d)
    each -> (B, heads, N, N); the scale goes into Q, as in the attention
    kernels."""
    return (q * q.shape[-1]**-0.5) @ k.transpose(-2, -1)
