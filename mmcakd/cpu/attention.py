"""Attention kernels: softmax(Q K^T / sqrt(d)) V, computed three ways.

All take (query, key, value), each (B, heads, N, d) (any strides), plus
the keywords ``dropout_p`` and ``scale`` of torch's
``scaled_dot_product_attention``, and return (B, heads, N_q, d). They are
the same function up to rounding; which is fastest depends on the device
and on N (``accel.attention``, docs/cakd_config.md, "Speed").
"""
from typing import Optional

import torch
import torch.nn.functional as F

# Where 'auto' takes the explicit kernel on CPU: low-precision inputs, and
# short sequences in any precision. Measured on 2 cores
# (tools/cpu_bench/benchmark_attention.py, docs/cakd_config.md):
# explicit / fused time is 0.53-0.69 in bf16 at 49-785 keys; in fp32,
# 0.69-0.76 at 49-50 keys (0.95-0.97 with the backward) but 0.95-1.34 at
# 64-785 (0.99-1.08 with the backward); and 'auto' against 'sdpa' takes
# CAKD's Fashion-MNIST step, whose PCA attention has 49 keys, to 0.90x.
# The explicit kernel holds the (B, heads, N, N) scores in memory, which
# the fused one does not: 'sdpa' is the choice for very long sequences.
LOW_PRECISION = (torch.bfloat16, torch.float16)
EXPLICIT_MAX_KEYS = 63


def explicit_attention(query: torch.Tensor,
                       key: torch.Tensor,
                       value: torch.Tensor,
                       *,
                       dropout_p: float = 0.0,
                       scale: Optional[float] = None) -> torch.Tensor:
    """(B, heads, N_q, d) x3 -> (B, heads, N_q, d): two matmuls and a
    softmax, the softmax computed in fp32.

    Under bf16/fp16 autocast the scores come out in the low precision;
    their softmax is computed in fp32 and rounded back for the second
    matmul. Those are the values of a low-precision softmax (which also
    computes in fp32) up to rounding, but on CPU torch's bf16 softmax is
    the slower one over rows such as 50 tokens (not a multiple of its
    vector width).
    """
    scale = query.shape[-1]**-0.5 if scale is None else scale
    weights = torch.softmax(
        query @ key.transpose(-2, -1) * scale, dim=-1, dtype=torch.float32)
    if dropout_p:
        weights = F.dropout(weights, dropout_p)
    return weights.to(value.dtype) @ value


def auto_attention(query: torch.Tensor,
                   key: torch.Tensor,
                   value: torch.Tensor,
                   *,
                   dropout_p: float = 0.0,
                   scale: Optional[float] = None) -> torch.Tensor:
    """(B, heads, N_q, d) x3 -> (B, heads, N_q, d).

    On CPU, the explicit kernel for bf16/fp16 inputs (e.g. a teacher under
    autocast) or fewer than 64 keys, where torch's fused kernel is the
    slower one; the fused ``scaled_dot_product_attention`` otherwise
    (longer fp32 sequences on CPU, and every GPU).
    """
    if query.device.type == 'cpu' and (query.dtype in LOW_PRECISION or
                                       key.shape[-2] <= EXPLICIT_MAX_KEYS):
        return explicit_attention(
            query, key, value, dropout_p=dropout_p, scale=scale)
    return F.scaled_dot_product_attention(
        query, key, value, dropout_p=dropout_p, scale=scale)


ATTENTION = {
    'sdpa': F.scaled_dot_product_attention,
    'explicit': explicit_attention,
    'auto': auto_attention,
}
