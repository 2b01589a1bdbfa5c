"""accel.onednn_linear: linear layers as oneDNN 1x1 convolutions."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models import VisionTransformer
from torch import nn

from mmcakd.models.utils import onednn_linear
from mmcakd.models.utils.onednn_linear import (MIN_ROWS, OneDNNLinear,
                                               linear_onednn,
                                               use_onednn_linear)


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


def test_linear_onednn_reads_strided_rows():
    x = torch.randn(6, 4, 5)[:, ::2].transpose(0, 1)  # not contiguous
    weight = torch.randn(3, 5)
    torch.testing.assert_close(linear_onednn(x, weight), F.linear(x, weight))


def test_layer_takes_onednn_for_long_fp32_cpu_inputs_only(monkeypatch):
    calls = []
    original = onednn_linear.linear_onednn

    def spy(*args):
        calls.append(args[0].shape)
        return original(*args)

    monkeypatch.setattr(onednn_linear, 'linear_onednn', spy)
    layer = nn.Linear(8, 3)
    assert use_onednn_linear(layer) == 1 and type(layer) is OneDNNLinear
    long = torch.randn(MIN_ROWS // 2, 2, 8)
    torch.testing.assert_close(layer(long),
                               F.linear(long, layer.weight, layer.bias))
    assert calls == [long.shape]
    layer(torch.randn(MIN_ROWS - 1, 8))  # too short
    copy.deepcopy(layer).double()(long.double())  # not fp32
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert layer(long).dtype == torch.bfloat16  # autocast's F.linear
    assert len(calls) == 1


def test_swap_keeps_parameters_hooks_and_outputs():
    torch.manual_seed(0)
    vit = VisionTransformer(arch=dict(embed_dims=32, num_layers=2,
                                      num_heads=2, feedforward_channels=64),
                            img_size=28, patch_size=4, in_channels=1)
    vit.eval()  # (mmpretrain's ViT.train returns None)
    x = torch.randn(40, 1, 28, 28)  # 40 * 50 tokens >= MIN_ROWS rows
    seen = []
    vit.layers[-1].attn.qkv.register_forward_hook(
        lambda m, a, o: seen.append(o.shape))
    keys = list(vit.state_dict())
    with torch.no_grad():
        before = vit(x)[0]
        count = use_onednn_linear(vit)
        after = vit(x)[0]
    # qkv, proj and the two FFN layers (mmcv's Linear) of each block
    assert count == 8
    assert all(type(m) is OneDNNLinear for m in vit.modules()
               if isinstance(m, nn.Linear))
    assert list(vit.state_dict()) == keys
    assert seen == [(40, 50, 96)] * 2
    torch.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)
    # A subclass with a forward of its own is left alone.
    custom = nn.Sequential(nn.modules.linear.NonDynamicallyQuantizableLinear(
        2, 2))
    assert use_onednn_linear(custom) == 0
