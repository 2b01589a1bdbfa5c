"""Distillation on the final logits: Hinton's KD, DKD, or the OFA loss."""
from typing import Dict

import torch

from mmcakd.models.utils import FeatureTap
from mmcakd.registry import MODELS
from .base import BaseDistiller, evaluating


@MODELS.register_module()
class LogitDistiller(BaseDistiller):
    """L = ce_weight * CE + w(t) * L_logit(z_s, z_t, y).

    One class for every method that only compares the final logits; the
    method is the loss:

    - ``dict(type='KDLoss', temperature, loss_weight)``: Hinton et al.
      2015, T^2 KL(p_t || p_s) (Hinton's alpha = ``loss_weight``, with
      ``ce_weight`` = 1 - alpha);
    - ``dict(type='DKDLoss', alpha, beta, temperature)``: Zhao et al. 2022,
      T^2 (alpha TCKD + beta NCKD);
    - ``dict(type='OFALoss', eps, temperature, loss_weight)``: the OFA loss
      on the final logits only (:class:`OFADistiller` adds the exits).

    z_s (B, K) is read by a hook on the student's ``head`` during its own
    loss forward (no second forward); z_t (B, K) is the teacher's
    ``mode='tensor'`` output under ``no_grad`` (DeiT: mean of its two
    heads); y (B, ) are the labels (the teacher's argmax for an unlabelled
    sample). The loss is logged under its
    ``loss_name`` (``loss_kd``, ``loss_dkd``, ``loss_ofa``) next to
    ``loss_cls``.

    Args:
        distill_loss (dict): The logit loss.
        Others: see :class:`BaseDistiller`.
    """

    def __init__(self, distill_loss: dict = dict(type='KDLoss'),
                 **kwargs) -> None:
        if kwargs.get('student_stage'):
            raise ValueError('student_stage: a logit distiller reads the '
                             "student's logits, not a stage; remove it")
        super().__init__(distill_loss=distill_loss, **kwargs)
        if not hasattr(self.student, 'head'):
            raise ValueError('student: a logit distiller needs an mmpretrain '
                             'classifier with a `head` (its logits)')
        self.logit_tap = FeatureTap(self.student, 'head', 'student')
        self.num_classes = self._check_classes()

    def _check_classes(self) -> int:
        """K from a dry run of both; teacher and student must agree."""
        x = torch.zeros(2, *self.input_size)
        k_t = self.teacher_logits(x).shape[-1]
        with evaluating(self.student):
            k_s = self.student(x, mode='tensor').shape[-1]
        self.logit_tap.pop()
        if k_s != k_t:
            raise ValueError(f'student predicts {k_s} classes, teacher {k_t}:'
                             ' logit distillation needs the same classes')
        return k_s

    def loss(self, inputs: torch.Tensor,
             data_samples: list) -> Dict[str, torch.Tensor]:
        """``loss_cls`` and the logit term (plus :meth:`extra_losses`)."""
        inputs, teacher_in = self.view_inputs(inputs)
        logits_t = self.run_teacher(self.teacher_logits, teacher_in)
        losses = self.student_losses(inputs, data_samples)
        logits_s = self.logit_tap.pop()
        target = self.targets(data_samples, logits_t)
        w = self.distill_weight()
        losses[self.loss_key] = w * self.distill_loss(logits_s, logits_t,
                                                      target)
        losses.update(self.extra_losses(logits_t, target, w))
        return losses

    def extra_losses(self, logits_t: torch.Tensor, target: torch.Tensor,
                     w: float) -> Dict[str, torch.Tensor]:
        """Further terms on the same teacher logits (none here)."""
        return {}
