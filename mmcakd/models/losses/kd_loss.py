"""Hinton et al., "Distilling the Knowledge in a Neural Network" (2015)."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from mmcakd.registry import MODELS
from mmcakd.utils.checks import check_number


@MODELS.register_module()
class KDLoss(nn.Module):
    """Logit KD: w * T^2 * KL(p_t || p_s), p = softmax(z / T).

    Averaged over the batch (``batchmean``). The T^2 factor keeps the
    gradient's scale independent of T (Hinton et al., Sec. 2). Hinton's
    alpha is ``loss_weight``; the distiller's ``ce_weight`` is then 1 - alpha.

    Args:
        temperature (float): T > 0.
        loss_weight (float): w >= 0.
    """

    loss_name = 'loss_kd'

    def __init__(self, temperature: float = 4.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.temperature = check_number(temperature, 'temperature', True)
        self.loss_weight = check_number(loss_weight, 'loss_weight')

    def forward(self, logits_s: torch.Tensor, logits_t: torch.Tensor,
                target: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``logits_s``, ``logits_t``: (B, K); ``target`` is not used."""
        T = self.temperature
        log_p_s = F.log_softmax(logits_s / T, dim=1)
        # The teacher is a target: no gradient reaches it.
        log_p_t = F.log_softmax(
            logits_t.detach().to(logits_s.dtype) / T, dim=1)
        kl = F.kl_div(log_p_s, log_p_t, reduction='batchmean',
                      log_target=True)
        return self.loss_weight * T**2 * kl
