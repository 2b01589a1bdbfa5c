"""The class-token projector of the release's CAKD."""
from typing import Dict

import torch
from torch import nn

from mmcakd.models.teachers import TeacherFeatures
from mmcakd.registry import PROJECTORS
from .base import BaseProjector


@PROJECTORS.register_module()
class ClassTokenProjector(BaseProjector):
    """A linear map of the student's pooled feature to the teacher's class
    token: (B, C_S) -> (B, C_T), W f_S + b.

    As a CAKD projector it reads the student head's input, and its loss
    (:class:`ClassTokenLoss`) compares it with the teacher's class token
    (or pooled pre-logit feature). Trained with the student and dropped
    with the other projectors by
    ``tools/model_converters/extract_student.py``.

    Args:
        in_channels (int): C_S, the width of the student's pooled feature.
        embed_dims (int): C_T, the width of the teacher's class token.
    """

    student_input = 'pooled'
    targets = ('cls', )
    default_loss = dict(type='ClassTokenLoss', loss_weight=1.0)
    legacy_name = 'cls_proj'

    def __init__(self, in_channels: int, embed_dims: int) -> None:
        super().__init__()
        self.proj = nn.Linear(in_channels, embed_dims)

    @classmethod
    def reader_options(cls, cfg: dict, loss: nn.Module) -> Dict[str, object]:
        return dict(cls_token=True)

    @classmethod
    def shape_args(cls, student: torch.Tensor,
                   teacher: TeacherFeatures) -> Dict[str, object]:
        """C_S from the pooled feature, C_T from the class token."""
        if student.dim() != 2:
            raise ValueError(
                'the student\'s head receives shape '
                f'{tuple(student.shape)}, not a pooled (B, C) feature; '
                'give the student a pooling neck (GlobalAveragePooling)')
        return dict(in_channels=student.shape[1],
                    embed_dims=teacher.cls.shape[-1])

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        """(B, C_S) -> (B, C_T)."""
        return self.proj(pooled)
