"""RKD: Park et al., "Relational Knowledge Distillation", CVPR 2019."""
from typing import Dict

import torch

from mmcakd.registry import MODELS
from .base import BaseDistiller, evaluating


@MODELS.register_module()
class RKDDistiller(BaseDistiller):
    """Distance and angle relations between the samples of a batch.

        L = ce_weight * CE + w(t) * (w_d L_RKD-D + w_a L_RKD-A)(e_s, e_t)

    The embeddings are the penultimate features, the vectors each
    classifier's final linear layer sees (as the RKD paper and mdistiller
    do for classification):

    - student e_s (B, C_S): the output of ``student_stage``, by default its
      ``neck`` (global average pooling of the last stage; the pre-logits of
      an mmpretrain ``LinearClsHead``); a (B, C, H, W) map is flattened;
    - teacher e_t (B, C_T): ``extract_feat(stage='pre_logits')``, i.e. the
      final-normalised CLS token of a ViT, the pooled last stage of Swin,
      the mean of DeiT's CLS and distillation tokens; any mmpretrain
      classifier works.

    No projection is needed: RKD compares relations, not vectors, so C_S
    and C_T may differ. Logged as ``loss_rkd``.

    Args:
        student_stage (str): The student module whose output is e_s
            (default ``'neck'``).
        distill_loss (dict): ``dict(type='RKDLoss', distance_weight,
            angle_weight)``.
        Others: see :class:`BaseDistiller`.
    """

    def __init__(self,
                 student_stage: str = 'neck',
                 distill_loss: dict = dict(type='RKDLoss'),
                 **kwargs) -> None:
        if not student_stage:
            raise ValueError('student_stage must name the student module '
                             "giving the embedding, e.g. 'neck'")
        super().__init__(student_stage=student_stage,
                         distill_loss=distill_loss, **kwargs)
        # Dry run: both embeddings exist and are one vector per sample.
        x = torch.zeros(2, *self.input_size)
        e_s = self.dry_run_shapes(self.input_size)
        with evaluating(self.teacher):
            e_t = self.teacher_embedding(x)
        if e_s.shape[0] != 2 or e_t.dim() != 2:
            raise ValueError(f'student_stage={student_stage!r} gives shape '
                             f'{tuple(e_s.shape)}, teacher pre-logits '
                             f'{tuple(e_t.shape)}: RKD needs one embedding '
                             'per sample')

    @torch.no_grad()
    def teacher_embedding(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, C_T): the teacher's pre-logits features (DeiT: mean of its
        CLS and distillation tokens)."""
        return self.teacher_reader.pre_logits(inputs)

    def loss(self, inputs: torch.Tensor,
             data_samples: list) -> Dict[str, torch.Tensor]:
        """``loss_cls`` and ``loss_rkd``."""
        inputs, teacher_in = self.view_inputs(inputs)
        emb_t = self.run_teacher(self.teacher_embedding, teacher_in)
        losses = self.student_losses(inputs, data_samples)
        emb_s = self.student_tap.pop().flatten(1)
        losses[self.loss_key] = self.distill_weight() * self.distill_loss(
            emb_s, emb_t)
        return losses
