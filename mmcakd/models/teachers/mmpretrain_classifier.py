"""Any mmpretrain ``ImageClassifier`` teacher: logits and pooled feature."""
from typing import Optional, Tuple

import torch
from mmpretrain.models import ImageClassifier
from torch import nn

from mmcakd.registry import TEACHER_READERS
from .reader import TeacherReader, mean_of_heads


@TEACHER_READERS.register_module()
class MMPretrainClassifierReader(TeacherReader):
    """An mmpretrain ``ImageClassifier`` (a CNN, or any backbone): enough
    for the logit and embedding baselines (KD, DKD, RKD, OFA-KD). The
    Transformer families below add the token grid."""

    describes = 'mmpretrain ImageClassifier'

    @classmethod
    def accepts(cls, teacher: nn.Module) -> bool:
        return isinstance(teacher, ImageClassifier)

    def pre_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        return mean_of_heads(
            self.teacher.extract_feat(inputs, stage='pre_logits'))

    def _patch_embed(self) -> Optional[nn.Module]:
        return getattr(self.teacher.backbone, 'patch_embed', None)

    def input_size(self) -> Optional[Tuple[int, int, int]]:
        embed = self._patch_embed()
        if embed is None:
            return None
        return (embed.projection.in_channels, *embed.init_input_size)

    def patch_size(self) -> Tuple[int, int]:
        embed = self._patch_embed()
        if embed is None:
            return (1, 1)
        return tuple(embed.projection.stride)

    def _pooled_hook(self):
        # A teacher without prefix tokens (Swin, a ViT without class token):
        # the pooled feature its ClsHead computes from its input.
        head = getattr(self.teacher, 'head', None)
        if not callable(getattr(head, 'pre_logits', None)):
            return super()._pooled_hook()
        return head.register_forward_pre_hook(
            self._keep('cls', lambda a, o: head.pre_logits(a[0])))
