"""The class-token projector of the release's CAKD."""
import torch
from torch import nn

from mmcakd.registry import MODELS


@MODELS.register_module()
class ClassTokenProjector(nn.Module):
    """A linear map of the student's pooled feature to the teacher's class
    token: (B, C_S) -> (B, C_T), W f_S + b.

    Trained with the student and dropped with the other projectors by
    ``tools/model_converters/extract_student.py``.

    Args:
        in_channels (int): C_S, the width of the student's pooled feature.
        embed_dims (int): C_T, the width of the teacher's class token.
    """

    def __init__(self, in_channels: int, embed_dims: int) -> None:
        super().__init__()
        self.proj = nn.Linear(in_channels, embed_dims)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        """(B, C_S) -> (B, C_T)."""
        return self.proj(pooled)
