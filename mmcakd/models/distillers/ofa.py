"""OFA-KD: Hao et al., "One-for-All: Bridge the Gap Between Heterogeneous
Architectures in Knowledge Distillation", NeurIPS 2023."""
import math
from typing import Dict, List, Sequence

import torch
from torch import nn

from mmcakd.models.utils import FeatureTap
from mmcakd.registry import MODELS
from mmcakd.utils.checks import check_number
from .base import evaluating
from .logit import LogitDistiller


def sep_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    """The release's ``SepConv``: two depthwise-separable 3x3 convolutions,
    the first with stride 2 (halves H and W), each followed by BN + ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, in_channels, 3, 2, 1, groups=in_channels,
                  bias=False),
        nn.Conv2d(in_channels, in_channels, 1, bias=False),
        nn.BatchNorm2d(in_channels),
        nn.ReLU(),
        nn.Conv2d(in_channels, in_channels, 3, 1, 1, groups=in_channels,
                  bias=False),
        nn.Conv2d(in_channels, out_channels, 1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
    )


def exit_branch(in_channels: int, num_downsamples: int, width: int,
                num_classes: int) -> nn.Sequential:
    """One exit, (B, C, H, W) -> (B, K), as the release builds it for a CNN
    student: ``num_downsamples`` SepConvs (channels doubled each time, the
    last one to ``width``) bring the map to the student's final resolution
    (a stage already there gets a 1x1 conv to ``width``), then global
    average pooling and a linear classifier."""
    blocks: List[nn.Module] = []
    channels = in_channels
    for i in range(num_downsamples):
        out = width if i == num_downsamples - 1 else 2 * channels
        blocks.append(sep_conv(channels, out))
        channels = out
    if not blocks:
        blocks.append(nn.Conv2d(channels, width, 1))
    branch = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                           nn.Linear(width, num_classes))
    # The release's init_weights.
    for m in branch.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out',
                                    nonlinearity='relu')
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
    return branch


class ExitBranches(nn.Module):
    """The exits of all tapped stages, one module so that a DDP wrapper can
    wrap them as a whole (it calls ``forward``, never an item)."""

    def __init__(self, branches: Sequence[nn.Module]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, feats: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """One (B, C_i, H_i, W_i) map per exit -> one (B, K) logit each."""
        return [branch(f) for branch, f in zip(self.branches, feats)]


@MODELS.register_module()
class OFADistiller(LogitDistiller):
    """OFA-KD: exits from student stages into logit space, each trained with
    the OFA loss against the teacher's logits.

        L = ce_weight * CE + w(t) * (L_OFA(z_s) + exit_weight
                                     * sum_i L_OFA(exit_i(f_i)))

    f_i (B, C_i, H_i, W_i) is the output of ``stages[i]``, tapped by a hook;
    exit_i (:func:`exit_branch`) maps it to logits (B, K); z_t is the
    teacher's (B, K) logits. The release's defaults: every exit and the
    final logits use the same eps and temperature, all weights 1, exits on
    all four stages of a ResNet. The exits are dropped after training. The
    final-logit term is logged as ``loss_ofa``, the exits' sum as
    ``loss_ofa_exits`` (the release's ``loss_kd`` and ``loss_ofa``).

    Shapes come from a dry run: the number of SepConvs of an exit is
    ceil(log2(H_i / H_last)), H_last being the height of the student
    backbone's last output (the release's ``4 - stage`` for a four-stage
    ResNet), and the exit width is max(C_last, C_T), C_T the teacher's
    pre-logits width (the release's ``max(feature_dim_s, feature_dim_t)``).

    Args:
        stages (list[str]): Student modules to branch from, e.g.
            ``['backbone.layer1', ..., 'backbone.layer4']``; each must be run
            by the student's backbone and output a (B, C, H, W) map.
        distill_loss (dict): ``dict(type='OFALoss', eps, temperature,
            loss_weight)``; ``loss_weight`` weights the final-logit term.
        exit_weight (float): Weight of the exits' sum (release:
            ``ofa_loss_weight``, 1).
        Others: see :class:`LogitDistiller`.
    """

    def __init__(self,
                 stages: Sequence[str],
                 distill_loss: dict = dict(type='OFALoss'),
                 exit_weight: float = 1.0,
                 **kwargs) -> None:
        if (isinstance(stages, str) or not stages
                or not all(isinstance(s, str) for s in stages)
                or len(set(stages)) != len(stages)):
            raise ValueError(f'stages={stages!r} must be a non-empty list of '
                             "distinct student module names, e.g. "
                             "['backbone.layer1', 'backbone.layer2']")
        super().__init__(distill_loss=distill_loss, **kwargs)
        self.exit_weight = check_number(exit_weight, 'exit_weight')
        self.stage_taps = [FeatureTap(self.student, s, 'stages')
                           for s in stages]
        self.exits = ExitBranches(self._build_exits())

    def _build_exits(self) -> List[nn.Module]:
        x = torch.zeros(2, *self.input_size)
        with evaluating(self.student):
            last = self.student.extract_feat(x, stage='backbone')
        feats = []
        for tap in self.stage_taps:
            try:
                feats.append(tap.pop())
            except RuntimeError:
                raise ValueError(f'stages: {tap.name!r} is not run by the '
                                 "student's backbone") from None
        with torch.no_grad():
            emb_t = self.teacher_reader.pre_logits(x)
        last = last[-1] if isinstance(last, (tuple, list)) else last
        for tap, f in zip(self.stage_taps, feats):
            if f.dim() != 4:
                raise ValueError(f'stages: {tap.name!r} outputs shape '
                                 f'{tuple(f.shape)}; an exit needs a '
                                 '(B, C, H, W) map')
        if last.dim() != 4:
            raise ValueError('student: its backbone\'s last output has shape '
                             f'{tuple(last.shape)}, not (B, C, H, W)')
        width = max(last.shape[1], emb_t.shape[-1])
        return [
            exit_branch(f.shape[1],
                        max(0, math.ceil(math.log2(f.shape[2] /
                                                   last.shape[2]))),
                        width, self.num_classes) for f in feats
        ]

    def extra_losses(self, logits_t: torch.Tensor, target: torch.Tensor,
                     w: float) -> Dict[str, torch.Tensor]:
        """``loss_ofa_exits``: the OFA loss of every exit, summed."""
        feats = [tap.pop() for tap in self.stage_taps]
        # A loop over the 2-4 exits, not over samples.
        total = sum(self.distill_loss(z, logits_t, target)
                    for z in self.exits(feats))
        return {'loss_ofa_exits': w * self.exit_weight * total}

