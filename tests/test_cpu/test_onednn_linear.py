"""accel.onednn_linear: linear layers as oneDNN 1x1 convolutions."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models import VisionTransformer
from torch import nn

from mmcakd.cpu import onednn_linear
from mmcakd.cpu.onednn_linear import (MIN_ELEMENTS, MIN_MACS,
                                               MIN_ROWS, OneDNNLinear,
                                               linear_onednn,
                                               use_onednn_linear)


@pytest.fixture
def two_threads():
    """OneDNNLinear takes oneDNN on more than one thread only."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize('shape', [(7, 5), (2, 3, 5), (5, ), (0, 5)])
@pytest.mark.parametrize('bias', [True, False])
def test_linear_onednn_is_f_linear_with_its_gradients(shape, bias):
    torch.manual_seed(0)
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, requires_grad=True) if bias \
        else None
    out = linear_onednn(x, weight, b)
    expected = F.linear(x, weight, b)
    assert out.shape == expected.shape
    torch.testing.assert_close(out, expected)
    inputs = [t for t in (x, weight, b) if t is not None]
    grad = torch.randn_like(out)
    for a, e in zip(torch.autograd.grad(out, inputs, grad),
                    torch.autograd.grad(expected, inputs, grad)):
        torch.testing.assert_close(a, e)


def test_linear_onednn_is_onednn_in_fp32_with_its_gradients(two_threads):
    # The real path: fp32 on CPU, on two threads (OneDNNLinear keeps
    # F.linear on one, where torch would not take oneDNN for it).
    torch.manual_seed(0)
    x = torch.randn(400, 64, requires_grad=True)  # > MIN_ELEMENTS
    assert x.numel() >= MIN_ELEMENTS
    weight = torch.randn(32, 64, requires_grad=True)
    bias = torch.randn(32, requires_grad=True)
    with torch.profiler.profile() as prof:
        out = linear_onednn(x, weight, bias)
        grads = torch.autograd.grad(out.square().sum(), (x, weight, bias))
    ops = {e.key for e in prof.key_averages()}
    assert 'aten::mkldnn_convolution' in ops
    assert not any('slow_conv' in op or 'thnn' in op for op in ops)
    expected = F.linear(x, weight, bias)
    torch.testing.assert_close(out, expected, atol=1e-4, rtol=1e-4)
    for a, e in zip(grads, torch.autograd.grad(expected.square().sum(),
                                               (x, weight, bias))):
        torch.testing.assert_close(a, e, atol=1e-3, rtol=1e-4)


def test_linear_onednn_reads_strided_rows():
    x = torch.randn(6, 4, 5)[:, ::2].transpose(0, 1)  # not contiguous
    weight = torch.randn(3, 5)
    torch.testing.assert_close(linear_onednn(x, weight), F.linear(x, weight))


def test_layer_takes_onednn_for_large_fp32_cpu_products_only(
        monkeypatch, two_threads):
    calls = []
    original = onednn_linear.linear_onednn

    def spy(*args):
        calls.append(args[0].shape)
        return original(*args)

    monkeypatch.setattr(onednn_linear, 'linear_onednn', spy)
    layer = nn.Linear(256, 256)  # 256 rows: 2^24 multiply-adds
    assert MIN_ROWS * 256 * 256 >= MIN_MACS
    assert use_onednn_linear(layer) == 1 and type(layer) is OneDNNLinear
    x = torch.randn(MIN_ROWS // 2, 2, 256)
    torch.testing.assert_close(layer(x), F.linear(x, layer.weight,
                                                  layer.bias))
    assert calls == [x.shape]
    layer(torch.randn(MIN_ROWS - 1, 256))  # too few rows
    small = nn.Linear(8, 3)
    use_onednn_linear(small)
    small(torch.randn(MIN_ROWS * 4, 8))  # too small a product
    copy.deepcopy(layer).double()(x.double())  # not fp32
    torch.set_num_threads(1)
    layer(x)  # one thread (the fixture restores the count)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert layer(x).dtype == torch.bfloat16  # autocast's F.linear
    assert len(calls) == 1


def test_swap_keeps_parameters_hooks_and_outputs(monkeypatch, two_threads):
    torch.manual_seed(0)
    vit = VisionTransformer(arch=dict(embed_dims=128, num_layers=2,
                                      num_heads=4, feedforward_channels=256),
                            img_size=28, patch_size=4, in_channels=1)
    vit.eval()  # (mmpretrain's ViT.train returns None)
    x = torch.randn(24, 1, 28, 28)  # 1,200 tokens: large enough products
    seen = []
    vit.layers[-1].attn.qkv.register_forward_hook(
        lambda m, a, o: seen.append(o.shape))
    keys = list(vit.state_dict())
    calls = []
    original = onednn_linear.linear_onednn
    monkeypatch.setattr(onednn_linear, 'linear_onednn',
                        lambda *a: calls.append(1) or original(*a))
    with torch.no_grad():
        before = vit(x)[0]
        count = use_onednn_linear(vit)
        after = vit(x)[0]
    # qkv, proj and the two FFN layers (mmcv's Linear) of each block, each
    # computed by oneDNN
    assert count == len(calls) == 8
    assert all(type(m) is OneDNNLinear for m in vit.modules()
               if isinstance(m, nn.Linear))
    assert list(vit.state_dict()) == keys
    assert seen == [(24, 50, 384)] * 2
    torch.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)
    # A subclass with a forward of its own is left alone.
    custom = nn.Sequential(nn.modules.linear.NonDynamicallyQuantizableLinear(
        2, 2))
    assert use_onednn_linear(custom) == 0
