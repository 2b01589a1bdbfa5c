"""Park et al., "Relational Knowledge Distillation", CVPR 2019."""
import torch
import torch.nn.functional as F
from torch import nn

from mmcakd.registry import MODELS
from mmcakd.utils.checks import check_number


@MODELS.register_module()
class RKDLoss(nn.Module):
    """w_d * L_RKD-D + w_a * L_RKD-A on two batches of embeddings.

    Student embeddings s (B, D_s) and teacher embeddings t (B, D_t) may
    differ in width: only relations within each batch are compared.

    - Distance (paper Eqs. 3-4): psi_D(i, j) = ||e_i - e_j|| / mu, with mu
      the mean distance over the pairs i != j of the batch;
      L_RKD-D = Huber(psi_D(s), psi_D(t)).
    - Angle (paper Eqs. 5-6): psi_A(i, j, k) = <n(e_j - e_i), n(e_k - e_i)>,
      n(x) = x / ||x|| (the cosine of the angle at e_i; 0 when j or k is i);
      L_RKD-A = Huber(psi_A(s), psi_A(t)).

    Huber is ``smooth_l1`` (delta = 1), averaged over all B^2 pairs and B^3
    triples, the trivial ones included, as in the authors' release
    (github.com/lenscloth/RKD, ``metric/loss.py``). The teacher side needs no
    gradient. A batch of fewer than two samples has no relations: the loss
    is then 0 (still connected to ``s``).

    Args:
        distance_weight (float): w_d >= 0 (release and mdistiller: 25).
        angle_weight (float): w_a >= 0 (50).
        eps (float): Floor of squared distances before the square root.
    """

    loss_name = 'loss_rkd'

    def __init__(self, distance_weight: float = 25.0,
                 angle_weight: float = 50.0, eps: float = 1e-12) -> None:
        super().__init__()
        self.distance_weight = check_number(distance_weight,
                                            'distance_weight')
        self.angle_weight = check_number(angle_weight, 'angle_weight')
        self.eps = check_number(eps, 'eps', True)

    def distances(self, e: torch.Tensor) -> torch.Tensor:
        """psi_D: (B, D) -> (B, B) pairwise distances over their mean."""
        sq = e.pow(2).sum(dim=1)
        d2 = (sq.unsqueeze(1) + sq.unsqueeze(0) - 2 * e @ e.t())
        # The diagonal is exactly 0 (and its sqrt has no gradient there).
        off = ~torch.eye(len(e), dtype=torch.bool, device=e.device)
        d = d2.clamp(min=self.eps).sqrt() * off
        mean = d.sum() / (d > 0).sum().clamp(min=1)
        return d / mean.clamp(min=self.eps)

    @staticmethod
    def angles(e: torch.Tensor) -> torch.Tensor:
        """psi_A: (B, D) -> (B, B, B), [i, j, k] = cos of the angle at i."""
        diff = F.normalize(e.unsqueeze(0) - e.unsqueeze(1), p=2, dim=2)
        return diff @ diff.transpose(1, 2)

    def forward(self, emb_s: torch.Tensor,
                emb_t: torch.Tensor) -> torch.Tensor:
        """``emb_s`` (B, D_s), ``emb_t`` (B, D_t)."""
        # Pairwise distances cancel (|a|^2 + |b|^2 - 2ab): fp32 under --amp.
        emb_s, emb_t = emb_s.float(), emb_t.float()
        if emb_s.shape[0] < 2:
            return emb_s.sum() * 0.0
        emb_t = emb_t.to(emb_s.dtype)
        loss = emb_s.new_zeros(())
        if self.distance_weight:
            with torch.no_grad():
                d_t = self.distances(emb_t)
            loss = loss + self.distance_weight * F.smooth_l1_loss(
                self.distances(emb_s), d_t)
        if self.angle_weight:
            with torch.no_grad():
                a_t = self.angles(emb_t)
            loss = loss + self.angle_weight * F.smooth_l1_loss(
                self.angles(emb_s), a_t)
        return loss
