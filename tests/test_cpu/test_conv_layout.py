"""accel.channels_last='conv': convolutions computed channels-last."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models import ResNet_CIFAR
from torch import nn

from mmcakd.cpu.conv_layout import (ChannelsLastConv2d,
                                             ChannelsLastConvFunction,
                                             use_channels_last_conv)

CL = torch.channels_last


@pytest.mark.parametrize('cfg', [
    dict(stride=1, padding=1, dilation=1, groups=1, bias=True),
    dict(stride=2, padding=1, dilation=1, groups=1, bias=False),
    dict(stride=1, padding=2, dilation=2, groups=2, bias=True),
    dict(stride=(2, 1), padding=(0, 1), dilation=1, groups=1, bias=True),
])
@pytest.mark.parametrize('layout', [torch.contiguous_format, CL])
def test_function_is_conv2d_with_its_gradients_and_layouts(cfg, layout):
    torch.manual_seed(0)
    cfg = dict(cfg)
    x = torch.randn(3, 4, 9, 8, dtype=torch.float64).contiguous(
        memory_format=layout).requires_grad_()
    w = torch.randn(6, 4 // cfg['groups'], 3, 3,
                    dtype=torch.float64).requires_grad_()
    b = torch.randn(6, dtype=torch.float64).requires_grad_() \
        if cfg.pop('bias') else None
    args = [cfg[k] for k in ('stride', 'padding', 'dilation', 'groups')]
    pair = [a if isinstance(a, tuple) else (a, a) for a in args[:3]]
    out = ChannelsLastConvFunction.apply(x, w, b, *pair, args[3])
    expected = F.conv2d(x, w, b, *args)
    torch.testing.assert_close(out, expected)
    assert out.is_contiguous(memory_format=layout)
    inputs = [t for t in (x, w, b) if t is not None]
    grad = torch.randn_like(out)
    got = torch.autograd.grad(out, inputs, grad)
    for a, e in zip(got, torch.autograd.grad(expected, inputs, grad)):
        torch.testing.assert_close(a, e)
    assert got[0].is_contiguous(memory_format=layout)
    assert got[1].is_contiguous()


def test_input_without_gradient_gets_none():
    x = torch.randn(2, 3, 5, 5)
    w = torch.randn(4, 3, 3, 3, requires_grad=True)
    out = ChannelsLastConvFunction.apply(x, w, None, (1, 1), (1, 1), (1, 1),
                                         1)
    out.sum().backward()
    assert w.grad is not None and x.grad is None


def test_swap_on_a_real_resnet_trains_the_same():
    torch.manual_seed(0)
    net = ResNet_CIFAR(depth=18, num_stages=3, in_channels=1,
                       stem_channels=4, base_channels=4, strides=(1, 2, 2),
                       dilations=(1, 1, 1), out_indices=(2, ))
    net.init_weights()
    other = copy.deepcopy(net)
    keys = list(other.state_dict())
    seen = []
    other.layer1.register_forward_hook(lambda m, a, o: seen.append(o.shape))
    count = use_channels_last_conv(other)
    # stem, 2 x 2 convs per stage and the 2 downsampling 1x1 convolutions
    assert count == 15
    assert list(other.state_dict()) == keys
    x = torch.randn(8, 1, 28, 28)
    out_a, = net(x)
    out_b, = other(x)
    torch.testing.assert_close(out_b, out_a, atol=1e-5, rtol=1e-5)
    assert out_b.is_contiguous() and seen == [(8, 4, 28, 28)]
    out_a.square().sum().backward()
    out_b.square().sum().backward()
    for (name, p), q in zip(net.named_parameters(), other.parameters()):
        torch.testing.assert_close(q.grad, p.grad, atol=1e-4, rtol=1e-4,
                                   msg=name)
        assert q.grad.is_contiguous()


def test_plain_forward_where_the_function_does_not_apply():
    conv = nn.Conv2d(3, 4, 3, padding='same')
    circular = nn.Conv2d(3, 4, 3, padding=1, padding_mode='circular')
    plain = [copy.deepcopy(conv), copy.deepcopy(circular)]
    use_channels_last_conv(nn.Sequential(conv, circular))
    assert type(conv) is type(circular) is ChannelsLastConv2d
    x = torch.randn(2, 3, 6, 6)
    for swapped, reference in zip((conv, circular), plain):
        torch.testing.assert_close(swapped(x), reference(x))
    # Inside autocast the backward would meet bf16 gradients: plain conv.
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = conv(x)
    assert out.dtype == torch.bfloat16 and out.grad_fn.name() != \
        'ChannelsLastConvFunctionBackward'


@pytest.mark.parametrize('in_channels', [2, 4, 7, 16])
@pytest.mark.parametrize('layout', [torch.contiguous_format, CL])
def test_strided_pointwise_conv_is_the_conv_of_the_subsampled_input(
        in_channels, layout):
    # The downsampling layers of a narrow ResNet; oneDNN's own channels-last
    # weight gradient of these is wrong on AVX2 CPUs, so the layer
    # subsamples first. Reference: nn.Conv2d in float64.
    torch.manual_seed(0)
    conv = nn.Conv2d(in_channels, 16, 1, stride=2, bias=False)
    reference = copy.deepcopy(conv).double()
    use_channels_last_conv(conv)
    if layout is CL:
        conv.to(memory_format=CL)
    x = torch.randn(8, in_channels, 28, 28)
    x_ref = x.double().requires_grad_()
    x = x.contiguous(memory_format=layout).requires_grad_()
    out, expected = conv(x), reference(x_ref)
    assert out.shape == expected.shape == (8, 16, 14, 14)
    assert out.is_contiguous(memory_format=layout)
    grad = torch.randn(out.shape, dtype=torch.float64)
    out.backward(grad.float())
    expected.backward(grad)
    torch.testing.assert_close(out.double(), expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(x.grad.double(), x_ref.grad, atol=1e-5,
                               rtol=1e-5)
    torch.testing.assert_close(conv.weight.grad.double(),
                               reference.weight.grad, atol=1e-4, rtol=1e-5)
    assert x.grad.is_contiguous(memory_format=layout)
