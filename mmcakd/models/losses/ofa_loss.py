"""The OFA loss: Hao et al., "One-for-All: Bridge the Gap Between
Heterogeneous Architectures in Knowledge Distillation", NeurIPS 2023."""
import torch
import torch.nn.functional as F
from torch import nn

from mmcakd.registry import MODELS
from mmcakd.utils.checks import check_number


@MODELS.register_module()
class OFALoss(nn.Module):
    """Adaptive target information enhancement, as released.

    With p = softmax(z / T), y the target class and 1_y its one-hot mask:

        L = w * mean_b [ - sum_c ((p_t^c + 1_y^c)^eps - 1_y^c) log p_s^c ]

    i.e. the target class is weighted by (1 + p_t^y)^eps - 1 and every other
    class by (p_t^c)^eps. This is ``ofa_loss`` of the authors' release
    (github.com/Hao840/OFAKD, ``distillers/ofa.py``), implemented term for
    term; the paper's text was not at hand, so the release is the reference
    here. Together with the plain CE on the labels that the release adds
    (the distiller's ``loss_cls``, weight 1) the target class is weighted by
    (1 + p_t^y)^eps: the more confident the teacher, the more target
    information, and eps > 1 amplifies that. With eps = 1 the loss is the
    cross-entropy to the teacher's distribution (KD at T without the T^2
    factor, plus the teacher's entropy). No T^2 factor (the release has
    none); log p_s is ``log_softmax``, the release's log(softmax) in a
    stable form.

    Args:
        eps (float): The modulating exponent (> 0; release default 1.0;
            1.5 in its README command, ResNet-18 from DeiT-T on ImageNet).
        temperature (float): T > 0 (release default 1).
        loss_weight (float): w >= 0.
    """

    loss_name = 'loss_ofa'

    def __init__(self, eps: float = 1.0, temperature: float = 1.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.eps = check_number(eps, 'eps', True)
        self.temperature = check_number(temperature, 'temperature', True)
        self.loss_weight = check_number(loss_weight, 'loss_weight')

    def forward(self, logits_s: torch.Tensor, logits_t: torch.Tensor,
                target: torch.Tensor) -> torch.Tensor:
        """``logits_s``, ``logits_t``: (B, K); ``target``: (B, ) class ids."""
        T = self.temperature
        log_p_s = F.log_softmax(logits_s / T, dim=1)
        # The teacher is a target: no gradient reaches it.
        p_t = F.softmax(logits_t.detach().to(logits_s.dtype) / T, dim=1)
        mask = F.one_hot(target, logits_s.shape[1]).to(p_t.dtype)
        weight = (p_t + mask).pow(self.eps) - mask
        return self.loss_weight * -(weight * log_p_s).sum(dim=1).mean()
