"""The student's logits as they are: the release's logit term."""
from typing import Dict

import torch

from mmcakd.models.teachers import TeacherFeatures
from mmcakd.registry import PROJECTORS
from .base import BaseProjector


@PROJECTORS.register_module()
class LogitProjector(BaseProjector):
    """The identity on the student's logits, (B, K) -> (B, K): the logit
    term needs no mapping, and its loss (:class:`LogitLoss`: the release's
    MSE, or Hinton's KL) compares them with the teacher's logits. Teacher
    and student must predict the same K classes.
    """

    student_input = 'logits'
    targets = ('logits', )
    default_loss = dict(type='LogitLoss')

    @classmethod
    def shape_args(cls, student: torch.Tensor,
                   teacher: TeacherFeatures) -> Dict[str, object]:
        k_s, k_t = student.shape[-1], teacher.logits.shape[-1]
        if k_s != k_t:
            raise ValueError(
                f'the student predicts {k_s} classes, the teacher {k_t}; '
                'the logit term needs the same classes (set it to None)')
        return {}

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        """(B, K) -> (B, K), the same tensor."""
        return logits
