"""FitNet-style hint: Romero et al., "FitNets: Hints for Thin Deep Nets",
ICLR 2015, with the teacher's tokens as the hint."""
from typing import Dict

import torch
from torch import nn

from mmcakd.models.teachers import build_teacher_reader
from mmcakd.models.utils import align_to_grid
from mmcakd.registry import MODELS
from .base import BaseDistiller


@MODELS.register_module()
class FitNetDistiller(BaseDistiller):
    """Student stage -> 1x1 conv regressor -> teacher tokens, MSE.

        L = ce_weight * CE + w(t) * loss_weight * MSE(r(align(f_s)), h_T)

    f_s (B, C_S, H_S, W_S) is the output of ``student_stage`` (a hook);
    ``align`` brings it to the teacher's token grid (H_T, W_T) exactly as
    CAKD does (:func:`align_to_grid`: adaptive average pooling when larger,
    bilinear when smaller); r is a learned 1x1 convolution C_S -> C_T (the
    FitNets regressor, dropped after training); h_T (B, H_T*W_T, C_T) is
    the teacher's final normalised patch-token map (CLS and distillation
    tokens dropped), the same h_T CAKD's GL projector targets, read by
    :class:`TeacherReader` (ViT, DeiT, Swin teachers). FitNets trains the
    hint in a first stage; here, as in mdistiller and OFA-KD's baselines,
    the hint is one term of a single-stage loss. Logged as ``loss_fitnet``.

    Args:
        student_stage (str): The student module tapped, e.g.
            ``'backbone.layer3'``.
        distill_loss (dict): ``dict(type='FitNetLoss', loss_weight=...)``.
        Others: see :class:`BaseDistiller`.
    """

    def __init__(self,
                 student_stage: str,
                 distill_loss: dict = dict(type='FitNetLoss'),
                 **kwargs) -> None:
        if not student_stage:
            raise ValueError('student_stage must name the student module '
                             "giving the hint, e.g. 'backbone.layer3'")
        super().__init__(student_stage=student_stage,
                         distill_loss=distill_loss, **kwargs)
        # Only h_T is used: no attention map is computed (the reader still
        # splits Q/K/V; for Swin that is one extra qkv linear on the last
        # grid).
        self.reader = build_teacher_reader(self.teacher, tokens=True,
                                           method='FitNet')
        input_size = self.input_size
        feat = self.dry_run_shapes(input_size)
        if feat.dim() != 4:
            raise ValueError(f'student_stage={student_stage!r} outputs shape '
                             f'{tuple(feat.shape)}; FitNet needs a '
                             '(B, C, H, W) feature map')
        with torch.no_grad():
            t = self.reader(torch.zeros(2, *input_size))
        self.grid = t.grid
        self.regressor = nn.Conv2d(feat.shape[1], t.tokens.shape[-1], 1)

    def loss(self, inputs: torch.Tensor,
             data_samples: list) -> Dict[str, torch.Tensor]:
        """``loss_cls`` and ``loss_fitnet``."""
        inputs, teacher_in = self.view_inputs(inputs)
        t = self.run_teacher(self.reader, teacher_in)
        losses = self.student_losses(inputs, data_samples)
        # Aligning first (a linear resize) and regressing after equals the
        # other order, and is cheaper when the student map is larger.
        feat = align_to_grid(self.student_tap.pop(), t.grid)
        hint = self.regressor(feat).flatten(2).transpose(1, 2)  # (B, N, C_T)
        losses[self.loss_key] = self.distill_weight() * self.distill_loss(
            hint, t.tokens)
        return losses
