"""The attention kernels of ``accel.attention`` compute the same function."""
import pytest
import torch
import torch.nn.functional as F

from mmcakd.models.utils import attention
from mmcakd.models.utils.attention import (ATTENTION, EXPLICIT_MAX_KEYS,
                                           auto_attention, explicit_attention)


def qkv_views(batch, tokens, heads=2, dims=8, dtype=torch.float32):
    """Q, K, V as (B, heads, N, d) strided views of one (B, N, 3, heads, d)
    tensor, the layout of a qkv linear's output."""
    torch.manual_seed(0)
    qkv = torch.randn(batch, tokens, 3, heads, dims, dtype=dtype)
    return qkv.permute(2, 0, 3, 1, 4).unbind(0)


@pytest.mark.parametrize('tokens', [9, 50])
@pytest.mark.parametrize('scale', [None, 0.5])
def test_kernels_agree_in_fp32(tokens, scale):
    q, k, v = qkv_views(2, tokens)
    ref = torch.softmax(
        q @ k.transpose(-2, -1) * (scale or q.shape[-1]**-0.5), -1) @ v
    for name, kernel in ATTENTION.items():
        torch.testing.assert_close(
            kernel(q, k, v, scale=scale), ref, atol=1e-5, rtol=1e-4,
            msg=name)


def test_auto_picks_explicit_on_cpu_for_low_precision_or_few_keys(
        monkeypatch):
    calls = []
    monkeypatch.setattr(attention, 'explicit_attention',
                        lambda *a: calls.append('explicit') or a[0])
    monkeypatch.setattr(attention.F, 'scaled_dot_product_attention',
                        lambda *a, **kw: calls.append('sdpa') or a[0])
    long = EXPLICIT_MAX_KEYS + 1
    for dtype in (torch.bfloat16, torch.float16, torch.float32):
        auto_attention(*qkv_views(1, long, dtype=dtype))
    auto_attention(*qkv_views(1, EXPLICIT_MAX_KEYS))
    assert calls == ['explicit', 'explicit', 'sdpa', 'explicit']


def test_explicit_under_autocast_is_the_low_precision_softmax():
    # The softmax runs in fp32 for speed (torch's bf16 CPU softmax is slow
    # on rows such as 50 tokens) and is rounded to bf16 for the second
    # matmul: the values of a bf16 softmax, which also computes in fp32
    # (up to one bf16 step on a few weights).
    q, k, v = qkv_views(4, 50, dims=16)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = explicit_attention(q, k, v)
        low = torch.softmax(q @ k.transpose(-2, -1) * 0.25, -1) @ v
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out, low)


def test_dropout_applies_to_the_weights():
    q, k, v = qkv_views(2, 9)
    torch.manual_seed(1)
    dropped = explicit_attention(q, k, v, dropout_p=0.5)
    assert not torch.allclose(dropped, explicit_attention(q, k, v))
