"""Synchronised batch norm that also runs on CPU (gloo)."""
import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.nn.functional import all_reduce

from mmcakd.registry import MODELS


@MODELS.register_module('SyncBNAnyDevice')
class SyncBatchNormAnyDevice(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics cover the batch of every rank.

    torch's ``SyncBatchNorm`` refuses CPU tensors, so a CPU run with the
    gloo backend (tests, laptops) cannot check that N processes with batch b
    train the same model as one process with batch N*b. This layer computes
    the per-channel sum, sum of squares and count of its input, all-reduces
    them with the differentiable ``all_reduce`` (so the backward pass is
    synchronised too), and normalises with the global mean and biased
    variance. In one process it is the same formula without the reduction;
    in eval it is plain BatchNorm2d. Use it as
    ``norm_cfg=dict(type='SyncBNAnyDevice')``.

    Shapes: (B, C, H, W) -> (B, C, H, W).
    """

    _abbr_ = 'bn'

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(x)
        c = x.shape[1]
        dims = [0, 2, 3]
        count = x.new_full((1, ), x.numel() / c)
        stats = torch.cat([x.sum(dims), (x * x).sum(dims), count])
        if dist.is_available() and dist.is_initialized() \
                and dist.get_world_size() > 1:
            stats = all_reduce(stats)
        n = stats[-1]
        mean = stats[:c] / n
        var = stats[c:2 * c] / n - mean * mean
        if self.track_running_stats:
            self._update_running_stats(mean.detach(), var.detach(), n)
        shape = (1, c, 1, 1)
        y = (x - mean.view(shape)) * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y

    @torch.no_grad()
    def _update_running_stats(self, mean: torch.Tensor, var: torch.Tensor,
                              n: torch.Tensor) -> None:
        self.num_batches_tracked += 1
        momentum = (1.0 / float(self.num_batches_tracked)
                    if self.momentum is None else self.momentum)
        unbiased = var * n / (n - 1).clamp(min=1)
        self.running_mean.lerp_(mean, momentum)
        self.running_var.lerp_(unbiased, momentum)
