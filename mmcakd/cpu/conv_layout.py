"""Convolutions computed channels-last in a model that is not
(``accel.channels_last='conv'``; with ``True`` the student's convolutions
are computed by the same class, in a model that is channels-last).

On CPU, oneDNN's convolution gradients are up to about three times slower
in the standard (NCHW) layout than channels-last when a layer has few
channels (the Fashion-MNIST student's 4- to 16-channel layers). A whole
model in channels-last layout is no answer there: batch norms over so few
channels are slower in that layout
(``tools/cpu_bench/benchmark_conv_layout.py``; docs/cakd_config.md,
"Convolution layouts on CPU"). So each convolution converts its input and
weight to channels-last, runs forward and backward in it, and hands back
its output and gradients in the layouts it got: the same function, and
every other layer sees the layout it had.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn.bricks.wrappers import Conv2d as MMCVConv2d
from torch import nn
from torch.autograd.function import once_differentiable

from .swap_class import swap_class

CHANNELS_LAST = torch.channels_last
# The classes swapped: nn.Conv2d, and mmcv's wrapper of it, which on torch
# >= 1.4 is nn.Conv2d's forward.
PLAIN_CONV = (nn.Conv2d, MMCVConv2d)


def _layout(t: torch.Tensor) -> torch.memory_format:
    return (CHANNELS_LAST if not t.is_contiguous()
            and t.is_contiguous(memory_format=CHANNELS_LAST) else
            torch.contiguous_format)


class ChannelsLastConvFunction(torch.autograd.Function):
    """``F.conv2d`` (zero padding given as numbers), forward and backward
    computed channels-last.

    forward(x, weight, bias, stride, padding, dilation, groups):
        x: (B, C_in, H, W); weight: (C_out, C_in / groups, kH, kW);
        bias: (C_out, ) or None. Returns (B, C_out, H', W') in the layout
        ``F.conv2d`` gives it (channels-last when ``x`` or ``weight`` is);
        the gradients come back in the layouts of ``x`` and ``weight``.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor,
                bias: Optional[torch.Tensor], stride: Tuple[int, int],
                padding: Tuple[int, int], dilation: Tuple[int, int],
                groups: int) -> torch.Tensor:
        x_cl = x.contiguous(memory_format=CHANNELS_LAST)
        w_cl = weight.contiguous(memory_format=CHANNELS_LAST)
        ctx.save_for_backward(x_cl, w_cl)
        layouts = _layout(x), _layout(weight)
        ctx.args = (stride, padding, dilation, groups, bias is not None,
                    *layouts)
        out = F.conv2d(x_cl, w_cl, bias, stride, padding, dilation, groups)
        return out.contiguous(memory_format=(
            CHANNELS_LAST if CHANNELS_LAST in layouts else
            torch.contiguous_format))

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):
        x_cl, w_cl = ctx.saved_tensors
        (stride, padding, dilation, groups, has_bias, x_layout,
         w_layout) = ctx.args
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        dx, dw, db = torch.ops.aten.convolution_backward(
            grad.contiguous(memory_format=CHANNELS_LAST), x_cl, w_cl,
            [w_cl.shape[0]] if has_bias else None, list(stride),
            list(padding), list(dilation), False, [0, 0], groups,
            [need_x, need_w, has_bias and need_b])
        if dx is not None:
            dx = dx.contiguous(memory_format=x_layout)
        if dw is not None:
            dw = dw.contiguous(memory_format=w_layout)
        return dx, dw, db, None, None, None, None


class ChannelsLastConv2d(nn.Conv2d):
    """``nn.Conv2d`` computed by :class:`ChannelsLastConvFunction`.

    Outside it (zero padding given as a string such as ``'same'``, other
    padding modes, inside autocast, where the backward would meet another
    dtype) it is ``nn.Conv2d``'s forward. A strided 1x1 convolution runs
    unstrided on the subsampled input (the same sums). Same parameters, so
    checkpoints do not change.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # A CPU workaround: any other device, or another padding, is
        # nn.Conv2d's own forward.
        if (x.device.type != 'cpu' or self.padding_mode != 'zeros'
                or isinstance(self.padding, str) or x.dim() != 4):
            return super().forward(x)
        stride = self.stride
        if self.kernel_size == (1, 1) and self.padding == (0, 0) and \
                stride != (1, 1):
            # A strided 1x1 convolution is the unstrided one on the
            # subsampled input (kept in the layout it came in). oneDNN's
            # own subsampling, in the channels-last weight gradient of a
            # stride-2 1x1 convolution with 2-7 input channels on AVX2 CPUs
            # (torch 2.14.1), writes out of bounds: wrong gradients, heap
            # corruption or a hang (a narrow ResNet's downsampling layers).
            x = x[:, :, ::stride[0], ::stride[1]].contiguous(
                memory_format=_layout(x))
            stride = (1, 1)
        # Inside autocast the backward would meet another dtype: plain.
        conv = (F.conv2d if torch.is_autocast_enabled(x.device.type) else
                ChannelsLastConvFunction.apply)
        return conv(x, self.weight, self.bias, stride, self.padding,
                    self.dilation, self.groups)


def use_channels_last_conv(module: nn.Module) -> int:
    """Turn every plain 2-d convolution in ``module`` (``PLAIN_CONV``) into
    a :class:`ChannelsLastConv2d` in place (:func:`swap_class`). Returns
    how many."""
    return swap_class(module, PLAIN_CONV, ChannelsLastConv2d)
