"""L_pca, the attention-space loss of the PCA projector (paper Eq. 4)."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from mmcakd.models.utils.gram import value_relation
from mmcakd.registry import MODELS
from mmcakd.utils.checks import check_number


@MODELS.register_module()
class PCALoss(nn.Module):
    """a_attn * MSE(PCAttn_S, Attn_T) + a_vv * MSE(V_S V_S^T, V_T V_T^T) / d.

    With the release's map target the first term compares the score maps
    instead: a_attn * MSE(Q_S K_S^T / sqrt(d), Q_T K_T^T / sqrt(d)).

    The value-relation term compares V V^T / sqrt(d) of student and teacher,
    both scaled (the release leaves the teacher's unscaled; method.md keeps
    the paper's form). The teacher's relation comes computed, like Attn_T,
    in the teacher's run (:class:`TeacherReader`, ``relation=True``).

    Args:
        attn_weight (float): Weight of the attention term (release: 0.2).
        vv_weight (float): Weight of the value-relation term (release: 0.05).
    """

    def __init__(self, attn_weight: float = 1.0,
                 vv_weight: float = 1.0) -> None:
        super().__init__()
        self.attn_weight = check_number(attn_weight, 'attn_weight')
        self.vv_weight = check_number(vv_weight, 'vv_weight')

    def forward(self, attn_s: torch.Tensor, v_s: torch.Tensor,
                attn_t: torch.Tensor,
                relation_t: Optional[torch.Tensor]) -> torch.Tensor:
        """
        Args:
            attn_s, v_s: PCAttn_S and V_S, (B, heads, N, d) (or the
                student's score map, (B, heads, N, N), and V_S).
            attn_t: Attn_T, (B, heads, N, d) (or the teacher's score
                map, (B, heads, N, N)).
            relation_t: V_T V_T^T / sqrt(d), (B, heads, N, N); only read
                when ``vv_weight`` is not 0.
        """
        loss = self.attn_weight * F.mse_loss(attn_s, attn_t.to(attn_s.dtype))
        if self.vv_weight and relation_t is None:
            raise ValueError(
                f'PCALoss: vv_weight={self.vv_weight} but no teacher '
                'relation was given; build the TeacherReader with '
                'relation=True (CAKDDistiller does when the loss\'s '
                'vv_weight > 0)')
        if self.vv_weight:
            loss = loss + self.vv_weight * F.mse_loss(
                value_relation(v_s), relation_t.to(v_s.dtype))
        return loss
