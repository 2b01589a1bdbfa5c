"""Partially cross attention (PCA) projector, paper Eqs. 1-4."""
from typing import Callable, Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

from mmcakd.models.teachers import TeacherFeatures
from mmcakd.models.utils.gram import score_map
from mmcakd.models.utils.seeded_random import SeededRandom
from mmcakd.registry import PROJECTORS
from mmcakd.utils.checks import check_probability
from .base import BaseProjector


@PROJECTORS.register_module()
class PCAProjector(BaseProjector):
    """Maps a student feature map into the teacher's attention space.

    Proj1 (Eq. 1) is three 3x3 convolutions giving Q_S, K_S, V_S with C_T
    channels each; they are computed as one convolution with 3 * C_T output
    channels, which is the same function and one kernel launch. Each is split
    into the teacher's heads (d = C_T / heads) and flattened to N tokens.

    In training, the partial cross attention g(M) (Eq. 3) replaces each
    element of M_S by the teacher's M_T with probability ``p``, a fresh draw
    per element and step, for M in {Q, K, V}; gradients flow through the
    elements kept from the student. Then (Eqs. 2, 4)

        PCAttn_S = softmax(g(Q_S) g(K_S)^T / sqrt(d)) g(V_S).

    With ``target='map'`` (the release's form) the projector gives the
    pre-softmax score map g(Q_S) g(K_S)^T / sqrt(d), (B, heads, N, N),
    instead of the attention output, to be matched to the teacher's map.

    Layout: the substitution runs on (B, N, 3, heads, d) tensors, the layout
    of a Transformer's qkv linear output (the teacher's, read without a
    copy); the student's are a view of the convolution output. The draw
    takes as few random bits per element as p needs, one at p = 0.5
    (``SeededRandom.bernoulli``), and :class:`PartialSubstitution` makes
    the choice and hands out Q, K, V per head.

    As a CAKD projector it reads the stage map and the teacher's Q/K/V,
    and its loss (:class:`PCALoss`, L_pca) compares its outputs with Attn_T
    (or the teacher's score map) and V_T V_T^T / sqrt(d).

    Args:
        in_channels (int): C_S, channels of the (aligned) student map.
        embed_dims (int): C_T, the teacher's token width.
        num_heads (int): The teacher's number of heads.
        p (float): Substitution probability, in [0, 1]. Default 0.5.
        kernel (callable): The attention kernel, (q, k, v) ->
            softmax(q k^T / sqrt(d)) v (:mod:`mmcakd.cpu.attention`;
            ``accel.attention`` sets it). Default torch's
            ``scaled_dot_product_attention``.
        target (str): ``'output'`` (the paper's PCAttn_S, default) or
            ``'map'`` (the release's score map).
        teacher_attn (str): For ``target='output'``, how the teacher's
            Attn_T is computed: ``'paper'`` (Eq. 2 on the patch tokens,
            default) or ``'block'`` (the teacher's real last-block
            attention, ViT-family teachers only); see :class:`TeacherReader`.
    """

    TARGETS = ('output', 'map')
    TEACHER_ATTN = ('paper', 'block')
    teacher_inputs = ('qkv', )
    targets = ('attn', 'relation')
    default_loss = dict(type='PCALoss', attn_weight=0.2, vv_weight=0.05)

    def __init__(self,
                 in_channels: int,
                 embed_dims: int,
                 num_heads: int,
                 p: float = 0.5,
                 kernel: Callable = F.scaled_dot_product_attention,
                 target: str = 'output',
                 teacher_attn: str = 'paper') -> None:
        super().__init__()
        self.check_form(target, teacher_attn)
        self.target = target
        self.teacher_attn = teacher_attn
        # p: the probability of taking a teacher element (default 0.5).
        p = check_probability(p, 'p')
        if embed_dims % num_heads:
            raise ValueError(f'PCAProjector: embed_dims={embed_dims} is not '
                             f'divisible by num_heads={num_heads}')
        self.num_heads = num_heads
        self.p = p
        self.qkv = nn.Conv2d(in_channels, 3 * embed_dims, 3, padding=1)
        self.random = SeededRandom()
        self.kernel = kernel

    @classmethod
    def check_form(cls, target: str, teacher_attn: str) -> None:
        if target not in cls.TARGETS:
            raise ValueError(f'target={target!r} must be one of '
                             f'{cls.TARGETS} (the paper\'s attention '
                             'outputs, or the release\'s score maps)')
        if teacher_attn not in cls.TEACHER_ATTN:
            raise ValueError(f'teacher_attn={teacher_attn!r} must be one of '
                             f'{cls.TEACHER_ATTN}')
        if target == 'map' and teacher_attn == 'block':
            raise ValueError("teacher_attn='block' applies to "
                             "target='output'; target='map' reads the "
                             "teacher's score maps")

    @classmethod
    def reader_options(cls, cfg: dict, loss: nn.Module) -> Dict[str, object]:
        """The teacher's Attn_T as ``target`` and ``teacher_attn`` ask
        (its score map for ``'map'``), and V_T V_T^T / sqrt(d) when the
        loss weighs the value relation."""
        target = cfg.get('target', 'output')
        teacher_attn = cfg.get('teacher_attn', 'paper')
        cls.check_form(target, teacher_attn)
        return dict(attention='map' if target == 'map' else teacher_attn,
                    relation=bool(getattr(loss, 'vv_weight', 0)))

    @classmethod
    def shape_args(cls, student: torch.Tensor,
                   teacher: TeacherFeatures) -> Dict[str, object]:
        """C_S from the stage map; C_T and the heads from the teacher."""
        return dict(in_channels=student.shape[1],
                    embed_dims=teacher.tokens.shape[-1],
                    num_heads=teacher.q.shape[1])

    def project_tokens(self, feat: torch.Tensor) -> torch.Tensor:
        """(B, C_S, H, W) -> (B, N, 3, heads, d): Q_S, K_S, V_S (Eq. 1)."""
        B, _, H, W = feat.shape
        # The tokens are the conv output read channel-last. The layout the
        # conv runs in decides which tensor is reordered on every call: in
        # channels-last (input and output), oneDNN reorders the weight and
        # its gradient; in the standard layout, the output and its gradient
        # are transposed to and from tokens. So it runs channels-last when
        # the output is the larger of the two per output channel (B*H*W
        # positions against C_S*k*k weights): a narrow stage at a large
        # batch (Fashion-MNIST: 16 channels, 6,272 positions) but not a wide
        # one (ResNet-50's layer4 into Swin-T: 2,048 channels, 392
        # positions). Same function either way; the result is a view of the
        # conv output.
        weight = self.qkv.weight
        layout = (torch.channels_last if B * H * W > weight[0].numel()
                  else torch.contiguous_format)
        return self.qkv(feat.contiguous(memory_format=layout)).permute(
            0, 2, 3, 1).reshape(B, H * W, 3, self.num_heads, -1)

    def project(self, feat: torch.Tensor) -> torch.Tensor:
        """(B, C_S, H, W) -> (3, B, heads, N, d): Q_S, K_S, V_S (Eq. 1)."""
        return self.project_tokens(feat).permute(2, 0, 3, 1, 4)

    def forward(
        self,
        feat: torch.Tensor,
        teacher_qkv: Optional[torch.Tensor] = None
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """
        Args:
            feat: (B, C_S, H_T, W_T), the student map on the teacher grid.
            teacher_qkv: (B, N, 3, heads, d), Q_T, K_T, V_T stacked as a qkv
                linear outputs them; when given in training mode, the
                partial substitution is applied.

        Returns:
            (PCAttn_S, V_S), both (B, heads, N, d); with ``target='map'``
            the first is the score map, (B, heads, N, N). V_S is the
            student's own (unsubstituted) value, used by the VV^T term of
            L_pca.
        """
        qkv_s = self.project_tokens(feat)
        if self.training and teacher_qkv is not None and self.p > 0:
            take = self.random.bernoulli(qkv_s.shape, self.p, qkv_s.device,
                                         dtype=qkv_s.dtype)
            q, k, v, v_s = PartialSubstitution.apply(
                qkv_s, teacher_qkv.to(qkv_s.dtype), take)
        else:
            q, k, v = qkv_s.permute(2, 0, 3, 1, 4).unbind(0)
            v_s = v
        if self.target == 'map':
            return score_map(q, k), v_s
        return self.kernel(q, k, v), v_s


class PartialSubstitution(torch.autograd.Function):
    """g(M) of paper Eq. 3 for Q, K and V at once, split into heads.

    forward(student, teacher, take):
        student, teacher: (B, N, 3, heads, d), Q, K, V as a qkv linear
            outputs them; take: the same shape, 1 where the teacher's
            element is taken and 0 where the student's is kept.
        Returns (q, k, v, v_s), each (B, heads, N, d) and contiguous (the
        layout a batched matmul reads without a copy): the substituted Q,
        K, V and the student's own V.

    The gradient reaches ``student`` through the kept elements only:
    d student = d(q, k, v) * (1 - take), plus d v_s on the V part. The same
    as autograd through ``lerp`` and views, but composed ops would write
    that gradient several times (stacking q, k, v, then 1 - take and the
    product, then a zero-filled copy for v_s and the sum); this writes it
    once. ``teacher`` and ``take`` get no gradient. Differentiable once
    (the method needs no second derivative).
    """

    @staticmethod
    def forward(ctx, student: torch.Tensor, teacher: torch.Tensor,
                take: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        ctx.save_for_backward(take)
        ctx.set_materialize_grads(False)
        mixed = torch.lerp(student, teacher, take)  # exact for 0/1 take
        q, k, v = mixed.permute(2, 0, 3, 1, 4).contiguous().unbind(0)
        return q, k, v, student[:, :, 2].transpose(1, 2).contiguous()

    @staticmethod
    @once_differentiable
    def backward(ctx, *grads: Optional[torch.Tensor]):
        take, = ctx.saved_tensors
        grad = take.new_empty(take.shape)
        for i, g in enumerate(grads[:3]):  # Q, K, V
            out = grad[:, :, i]
            if g is None:
                out.zero_()
            else:
                # g - g * take, which for a 0/1 take is g * (1 - take).
                g = g.transpose(1, 2)
                torch.addcmul(g, g, take[:, :, i], value=-1, out=out)
        if grads[3] is not None:
            grad[:, :, 2] += grads[3].transpose(1, 2)
        return grad, None, None
