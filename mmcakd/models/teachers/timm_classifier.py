"""Any timm model as a teacher, through mmpretrain's ``TimmClassifier``:
logits and pooled feature."""
from typing import Optional, Tuple

import torch
from mmpretrain.models import TimmClassifier
from torch import nn

from mmcakd.registry import TEACHER_READERS
from .reader import TeacherReader, mean_of_heads


@TEACHER_READERS.register_module()
class TimmClassifierReader(TeacherReader):
    """``TimmClassifier(model_name=..., pretrained=...)``: its timm model is
    ``teacher.model``. Enough for the logit and embedding baselines; the
    ViT and Swin families add the token grid."""

    describes = 'timm model (TimmClassifier)'

    @classmethod
    def accepts(cls, teacher: nn.Module) -> bool:
        return isinstance(teacher, TimmClassifier)

    @property
    def model(self) -> nn.Module:
        return self.teacher.model

    def pre_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        # DeiT distilled averages its two tokens here (timm's own
        # forward_head), so a two-head teacher needs nothing more.
        return mean_of_heads(self.model.forward_head(
            self.model.forward_features(inputs), pre_logits=True))

    def input_size(self) -> Optional[Tuple[int, int, int]]:
        embed = getattr(self.model, 'patch_embed', None)
        if embed is None or getattr(embed, 'img_size', None) is None:
            return None
        return (embed.proj.in_channels, *embed.img_size)

    def patch_size(self) -> Tuple[int, int]:
        embed = getattr(self.model, 'patch_embed', None)
        return tuple(getattr(embed, 'patch_size', (1, 1)))

    def _classifier_input_hook(self, layer: nn.Module):
        """Store ``'cls'``: what the final classifier layer receives."""
        return layer.register_forward_pre_hook(
            self._keep('cls', lambda a, o: a[0]))
