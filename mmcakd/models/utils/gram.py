"""The relations L_pca compares (paper Eqs. 2, 4)."""
import torch


def value_relation(v: torch.Tensor) -> torch.Tensor:
    """V V^T / sqrt(d): (B, heads, N, d) -> (B, heads, N, N), the student's
    (with its gradient) or the teacher's (in the teacher's run).

    The scale goes into one operand, so that the product comes out scaled:
    in a low precision (the teacher's, under autocast) it is rounded once
    and the unscaled sums are never formed (fp16's range).
    """
    return (v * v.shape[-1]**-0.5) @ v.mT


def score_map(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Q K^T / sqrt(d), the pre-softmax attention scores: (B, heads, N, d)
    each -> (B, heads, N, N); the scale goes into Q, as in the attention
    kernels."""
    return (q * q.shape[-1]**-0.5) @ k.mT
