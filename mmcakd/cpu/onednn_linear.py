"""fp32 Linear layers computed by oneDNN on CPU (``accel.onednn_linear``).

On CPU, torch computes an fp32 ``F.linear`` with MKL's sgemm, and a
convolution with oneDNN. On this project's 2-core AMD EPYC, oneDNN is about
twice as fast: a forward of 8,192 rows, 1,024 -> 1,024, runs at 221 GFLOP/s
with ``F.linear`` and at 474 GFLOP/s with oneDNN; the CAKD discriminator's
layer (6,272 rows, 128 -> 128) takes 0.56x the time with its backward
(``tools/cpu_bench/benchmark_linear.py``; docs/cakd_config.md). So a
linear layer is computed as the 1x1 convolution it is, with the same
weights and the convolution's autograd. Where MKL is the faster one (it is
tuned for Intel CPUs), switch it off.
"""
import torch
import torch.nn.functional as F
from mmcv.cnn.bricks.wrappers import Linear as MMCVLinear
from torch import nn

from .swap_class import swap_class

# oneDNN pays a fixed cost per call (it reorders the weight into its own
# layout, plus a constant), which a product over few rows, or a small one,
# does not pay back. Measured with the tool above: ResNet-50's classifier
# (2048 -> 1000) is slower through oneDNN at 8-128 rows and 128 -> 128 at
# 256 rows; 2048 -> 1000 and 768 -> 768 at 256 rows, and 128 -> 128 at
# 1,024, are faster. So oneDNN takes products of at least MIN_ROWS rows and
# MIN_MACS multiply-adds.
MIN_ROWS = 256
MIN_MACS = 2**24
# Torch itself computes a single image's unstrided 1x1 convolution with
# oneDNN only on more than one thread and from this many input elements
# (ATen's use_mkldnn); otherwise with its own convolution, no faster than
# F.linear.
MIN_ELEMENTS = 20481
# The classes swapped: nn.Linear, and mmcv's wrapper of it (mmpretrain's FFN
# layers), which on torch >= 1.6 is nn.Linear's forward. A subclass with a
# forward of its own is left alone.
PLAIN_LINEAR = (nn.Linear, MMCVLinear)


def linear_onednn(x: torch.Tensor,
                  weight: torch.Tensor,
                  bias: torch.Tensor = None) -> torch.Tensor:
    """``F.linear(x, weight, bias)``, computed as a 1x1 convolution.

    Args:
        x: (..., C_in).
        weight: (C_out, C_in).
        bias: (C_out, ) or None.

    Returns:
        (..., C_out). The same sums as ``F.linear``, in another order: equal
        up to rounding.

    The T = prod(...) rows of ``x`` are read as one (1, C_in, T, 1) image
    in channels-last layout (a view when ``x`` is contiguous), so the
    output comes back as (T, C_out) rows. (As T 1x1 images, (T, C_in, 1,
    1), oneDNN measured slower than ``F.linear``.) Torch takes oneDNN for
    this convolution only on more than one thread and from ``MIN_ELEMENTS``
    input elements; :class:`OneDNNLinear` keeps ``F.linear`` otherwise.
    """
    rows = x.reshape(-1, x.shape[-1])
    if rows.shape[0] == 0:
        return F.linear(x, weight, bias)
    image = rows.view(1, rows.shape[0], 1, rows.shape[1]).permute(0, 3, 1, 2)
    out = F.conv2d(image, weight[:, :, None, None], bias)
    return out.permute(0, 2, 3, 1).reshape(*x.shape[:-1], weight.shape[0])


class OneDNNLinear(nn.Linear):
    """``nn.Linear`` whose fp32 forward on CPU, on more than one thread, is
    :func:`linear_onednn` when the product is large enough (``MIN_ROWS``,
    ``MIN_MACS``, ``MIN_ELEMENTS``).

    Elsewhere it is ``F.linear``: GPU tensors, other dtypes, inside CPU
    autocast (where ``F.linear`` runs in bf16 through oneDNN already),
    small products, and one thread (DDP on CPU, where torchrun and mmengine
    give each process one thread, or a 1-core machine). Same parameters,
    so checkpoints do not change.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.numel() // max(x.shape[-1], 1)
        if (x.device.type == 'cpu'
                and x.dtype == self.weight.dtype == torch.float32
                and rows >= MIN_ROWS and rows * self.weight.numel() >= MIN_MACS
                and x.numel() >= MIN_ELEMENTS and torch.get_num_threads() > 1
                and not torch.is_autocast_enabled('cpu')):
            return linear_onednn(x, self.weight, self.bias)
        return F.linear(x, self.weight, self.bias)


def use_onednn_linear(module: nn.Module) -> int:
    """Turn every plain linear layer in ``module`` (``PLAIN_LINEAR``) into
    a :class:`OneDNNLinear` in place (:func:`swap_class`). Returns how many."""
    return swap_class(module, PLAIN_LINEAR, OneDNNLinear)
