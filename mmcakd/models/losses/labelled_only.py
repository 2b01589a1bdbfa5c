"""A head's classification loss restricted to the labelled samples."""
import inspect

import torch
from torch import nn

# The label of a sample that has none (its data sample's ``gt_label``), as
# :class:`~mmcakd.datasets.PartiallyLabelledDataset` marks it.
UNLABELLED = -1


def accepts_sample_weight(loss: nn.Module) -> bool:
    """Whether ``loss.forward`` takes a per-sample ``weight`` (mmpretrain's
    CrossEntropyLoss, LabelSmoothLoss, FocalLoss and others do)."""
    return 'weight' in inspect.signature(loss.forward).parameters


class LabelledOnlyLoss(nn.Module):
    """``loss`` over the samples that have a label; the others get none.

        L = sum_{i: y_i >= 0} l(z_i, y_i) / max(1, #{i: y_i >= 0})

    with z (B, K) the logits and y (B, ) the labels, ``UNLABELLED`` (-1)
    for a sample without one. Written with a per-sample weight (0 for the
    unlabelled) rather than by indexing, so that a batch needs no
    host-device synchronisation; a batch without labelled samples gives 0.
    Soft targets (B, K) from batch augments (mixup, cutmix) are passed
    through unchanged: every such sample has a label.

    mmpretrain heads call ``loss_module(cls_score, target,
    avg_factor=B)``; the distillers wrap their student's ``loss_module``
    in this, so that every method's CE skips unlabelled samples while its
    distillation terms use them.
    """

    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        self.loss = loss

    def forward(self, cls_score: torch.Tensor, target: torch.Tensor,
                avg_factor=None, weight=None, **kwargs) -> torch.Tensor:
        if target.dim() != 1:
            return self.loss(cls_score, target, avg_factor=avg_factor,
                             weight=weight, **kwargs)
        labelled = target >= 0
        # fp32 whatever the logits' dtype: a bf16 count rounds above 256.
        mask = labelled.float()
        weight = mask if weight is None else weight * mask
        return self.loss(cls_score, target.clamp(min=0), weight=weight,
                         avg_factor=mask.sum().clamp(min=1), **kwargs)
