"""Zhao et al., "Decoupled Knowledge Distillation", CVPR 2022."""
import torch
import torch.nn.functional as F
from torch import nn

from mmcakd.registry import MODELS
from mmcakd.utils.checks import check_number


def _kl(log_q: torch.Tensor, log_p: torch.Tensor) -> torch.Tensor:
    """KL(p || q) from log-probabilities, summed over classes, batch mean."""
    return F.kl_div(log_q, log_p, reduction='batchmean', log_target=True)


@MODELS.register_module()
class DKDLoss(nn.Module):
    """DKD (paper Eq. 7): T^2 * (alpha * TCKD + beta * NCKD).

    With p = softmax(z / T) and y the target class:

    - TCKD = KL(b_t || b_s), b = (p_y, 1 - p_y), the binary target vs.
      non-target distribution;
    - NCKD = KL(p^_t || p^_s), p^_c = p_c / (1 - p_y) for c != y, the
      distribution among the non-target classes (= softmax over the
      non-target logits).

    Computed in log space (log-sum-exp), so neither term needs the
    ``-1000 * mask`` trick of the release (megvii-research/mdistiller).

    Args:
        alpha (float): Weight of TCKD (>= 0).
        beta (float): Weight of NCKD (>= 0; mdistiller: 8 on CIFAR-100,
            0.5 on ImageNet).
        temperature (float): T > 0.
    """

    loss_name = 'loss_dkd'

    def __init__(self, alpha: float = 1.0, beta: float = 8.0,
                 temperature: float = 4.0) -> None:
        super().__init__()
        self.alpha = check_number(alpha, 'alpha')
        self.beta = check_number(beta, 'beta')
        self.temperature = check_number(temperature, 'temperature', True)

    @staticmethod
    def _binary_and_rest(z: torch.Tensor, gt: torch.Tensor):
        """log b (B, 2) and the non-target logits (B, K - 1) of ``z``."""
        lse = z.logsumexp(dim=1, keepdim=True)
        log_target = z[gt].unsqueeze(1) - lse
        rest = z[~gt].view(z.shape[0], -1)  # row-major: order kept
        log_other = rest.logsumexp(dim=1, keepdim=True) - lse
        return torch.cat([log_target, log_other], dim=1), rest

    def forward(self, logits_s: torch.Tensor, logits_t: torch.Tensor,
                target: torch.Tensor) -> torch.Tensor:
        """``logits_s``, ``logits_t``: (B, K); ``target``: (B, ) class ids."""
        T = self.temperature
        gt = F.one_hot(target, logits_s.shape[1]).bool()
        log_b_s, rest_s = self._binary_and_rest(logits_s / T, gt)
        log_b_t, rest_t = self._binary_and_rest(
            logits_t.detach().to(logits_s.dtype) / T, gt)  # a target
        tckd = _kl(log_b_s, log_b_t)
        nckd = _kl(F.log_softmax(rest_s, dim=1), F.log_softmax(rest_t, dim=1))
        return T**2 * (self.alpha * tckd + self.beta * nckd)
