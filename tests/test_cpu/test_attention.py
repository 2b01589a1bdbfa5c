"""The attention kernels of ``accel.attention`` compute the same function."""
import pytest
import torch
import torch.nn.functional as F

from mmcakd.cpu import attention
from mmcakd.cpu.attention import (ATTENTION, EXPLICIT_MAX_KEYS,
                                           auto_attention, explicit_attention)


def qkv_views(batch, tokens, heads=2, dims=8, dtype=torch.float32):
    """Q, K, V as (B, heads, N, d) strided views of one (B, N, 3, heads, d)
    tensor, the layout of a qkv linear's output."""
    torch.manual_seed(0)
    qkv = torch.randn(batch, tokens, 3, heads, dims, dtype=dtype)
    return qkv.permute(2, 0, 3, 1, 4).unbind(0)


@pytest.mark.parametrize('tokens', [9, 50, 100])
@pytest.mark.parametrize('scale', [None, 0.5])
def test_kernels_agree_in_fp32_with_gradients(tokens, scale):
    # 100 tokens takes 'auto' to torch's fused kernel, fewer to the
    # explicit one.
    q, k, v = (t.detach().requires_grad_() for t in qkv_views(2, tokens))
    out = torch.softmax(
        q @ k.transpose(-2, -1) * (scale or q.shape[-1]**-0.5), -1) @ v
    grad = torch.randn_like(out)
    ref = (out, *torch.autograd.grad(out, (q, k, v), grad))
    for name, kernel in ATTENTION.items():
        out = kernel(q, k, v, scale=scale)
        got = (out, *torch.autograd.grad(out, (q, k, v), grad))
        for a, b, what in zip(got, ref, ('out', 'dq', 'dk', 'dv')):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4,
                                       msg=f'{name} {what}')


def test_auto_picks_explicit_on_cpu_for_low_precision_or_few_keys(
        monkeypatch):
    calls = []
    monkeypatch.setattr(attention, 'explicit_attention',
                        lambda *a, **kw: calls.append('explicit') or a[0])
    monkeypatch.setattr(attention.F, 'scaled_dot_product_attention',
                        lambda *a, **kw: calls.append('sdpa') or a[0])
    long = EXPLICIT_MAX_KEYS + 1
    for dtype in (torch.bfloat16, torch.float16, torch.float32):
        auto_attention(*qkv_views(1, long, dtype=dtype))
    auto_attention(*qkv_views(1, EXPLICIT_MAX_KEYS))
    assert calls == ['explicit', 'explicit', 'sdpa', 'explicit']


def test_explicit_under_autocast_takes_the_softmax_in_fp32():
    # The softmax runs in fp32 for speed (torch's bf16 CPU softmax is the
    # slower one on rows such as 50 tokens) and is rounded to bf16 for the
    # second matmul: the values of a bf16 softmax, which also computes in
    # fp32 (up to one bf16 step on a few weights).
    q, k, v = qkv_views(4, 50, dims=16)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = explicit_attention(q, k, v)
        scores = q @ k.transpose(-2, -1) * 0.25
        fp32 = torch.softmax(scores.float(), -1).bfloat16() @ v
        low = torch.softmax(scores, -1) @ v
    assert torch.equal(out, fp32)
    torch.testing.assert_close(out, low)


def test_dropout_drops_and_rescales_the_weights():
    # With V = I the output is the attention weights themselves.
    q, k, _ = qkv_views(1, 9, heads=1, dims=9)
    eye = torch.eye(9).expand(1, 1, 9, 9)
    weights = explicit_attention(q, k, eye)
    torch.manual_seed(1)
    dropped = explicit_attention(q, k, eye, dropout_p=0.5)
    kept = dropped != 0
    assert 0 < kept.sum() < kept.numel()
    torch.testing.assert_close(dropped[kept], 2 * weights[kept])
