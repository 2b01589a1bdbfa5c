"""CAKD's logit term, as the authors' release trains it."""
import torch
import torch.nn.functional as F
from torch import nn

from mmcakd.registry import MODELS
from .kd_loss import KDLoss
from mmcakd.utils.checks import check_number


@MODELS.register_module()
class LogitLoss(nn.Module):
    """The student's logits against the teacher's, z_s and z_t (B, K):

    - ``form='mse'``: w * MSE(z_s, z_t), the mean over B * K elements (the
      release's ``nn.MSELoss()(student_logits, teacher_logits)``, w = 1);
    - ``form='kl'``: w * T^2 * KL(softmax(z_t / T) || softmax(z_s / T)),
      Hinton's term (:class:`KDLoss`).

    Args:
        form (str): ``'mse'`` (default) or ``'kl'``.
        temperature (float): T > 0, for ``'kl'`` only. Default 1.
        loss_weight (float): w >= 0. Default 1.
    """

    FORMS = ('mse', 'kl')

    def __init__(self, form: str = 'mse', temperature: float = 1.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if form not in self.FORMS:
            raise ValueError(f'form={form!r} must be one of {self.FORMS}')
        self.form = form
        self.loss_weight = check_number(loss_weight, 'loss_weight')
        self.kl = KDLoss(temperature, self.loss_weight)

    def forward(self, logits_s: torch.Tensor,
                logits_t: torch.Tensor) -> torch.Tensor:
        if self.form == 'kl':
            return self.kl(logits_s, logits_t)
        return self.loss_weight * F.mse_loss(
            logits_s, logits_t.detach().to(logits_s.dtype))
