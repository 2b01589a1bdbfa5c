"""The adversarial losses of multi-view robust training (Eqs. 8-9)."""
import torch
import torch.nn.functional as F
from torch import nn

from mmcakd.registry import MODELS


@MODELS.register_module()
class AdversarialLoss(nn.Module):
    """Both sides of the token GAN; D outputs logits, teacher = real (1).

    - Discriminator (Eq. 8): BCE(D(h_T), 1) + BCE(D(h'_S.detach()), 0).
    - Student (Eq. 9): ``form='non_saturating'`` (default) minimises
      BCE(D(h'_S), 1) = -log D(h'_S); ``form='minimax'`` minimises the exact
      log(1 - D(h'_S)) of Eq. 9, i.e. -BCE(D(h'_S), 0).

    Args:
        loss_weight (float): lambda, weight of the student's term.
        form (str): ``'non_saturating'`` or ``'minimax'``.
    """

    FORMS = ('non_saturating', 'minimax')

    def __init__(self, loss_weight: float = 1.0,
                 form: str = 'non_saturating') -> None:
        super().__init__()
        if form not in self.FORMS:
            raise ValueError(f'mrt.adv_form={form!r} must be one of '
                             f'{self.FORMS}')
        self.loss_weight = loss_weight
        self.form = form

    def forward(self, fake_logits: torch.Tensor) -> torch.Tensor:
        """The student's loss from D's logits on h'_S (any shape)."""
        if self.form == 'non_saturating':
            loss = F.binary_cross_entropy_with_logits(
                fake_logits, torch.ones_like(fake_logits))
        else:
            loss = -F.binary_cross_entropy_with_logits(
                fake_logits, torch.zeros_like(fake_logits))
        return self.loss_weight * loss

    @staticmethod
    def discriminator_loss(real_logits: torch.Tensor,
                           fake_logits: torch.Tensor) -> torch.Tensor:
        """Eq. 8 from D's logits on h_T (real) and detached h'_S (fake)."""
        return (F.binary_cross_entropy_with_logits(
            real_logits, torch.ones_like(real_logits)) +
                F.binary_cross_entropy_with_logits(
                    fake_logits, torch.zeros_like(fake_logits)))
