"""Read what CAKD needs from a Transformer teacher, by hooks, without edits.

For the teacher's last block this gives Q_T, K_T, V_T over the patch tokens
(prefix tokens such as CLS and DeiT's distillation token dropped), and h_T,
the backbone's final normalised patch-token map (method.md, "Where features
are taken"). Supported: mmpretrain's ``VisionTransformer`` and its
subclasses (``DistilledVisionTransformer``, DeiT) and ``SwinTransformer``.
"""
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import torch
import torch.nn.functional as F
from mmpretrain.models.backbones import SwinTransformer, VisionTransformer
from torch import nn

from .gram import score_map, value_relation

SUPPORTED = 'VisionTransformer, DistilledVisionTransformer (DeiT), ' \
    'SwinTransformer'


@dataclass
class TeacherFeatures:
    """One teacher forward pass.

    Attributes:
        logits: (B, num_classes).
        tokens: h_T, (B, N, C_T) with N = H_T * W_T, row-major over the grid.
        qkv: Q_T, K_T, V_T as the block's qkv linear outputs them,
            (B, N, 3, heads, d) with d = C_T / heads; ``q``, ``k`` and ``v``
            are (B, heads, N, d) views of it.
        grid: (H_T, W_T).
        attn: The PCA target, or None when not asked for: Attn_T,
            (B, heads, N, d) (``attention`` 'paper' or 'block'), or the
            score map Q_T K_T^T / sqrt(d), (B, heads, N, N) ('map').
        relation: V_T V_T^T / sqrt(d), (B, heads, N, N), or None when not
            asked for.
        cls: The class token after the final norm, (B, C_T), or for a
            teacher without one its head's pre-logit feature, (B, C_head);
            None when not asked for.
    """
    logits: torch.Tensor
    tokens: torch.Tensor
    qkv: torch.Tensor
    grid: Tuple[int, int]
    attn: Optional[torch.Tensor] = None
    relation: Optional[torch.Tensor] = None
    cls: Optional[torch.Tensor] = None

    @property
    def q(self) -> torch.Tensor:
        return self.qkv[:, :, 0].transpose(1, 2)

    @property
    def k(self) -> torch.Tensor:
        return self.qkv[:, :, 1].transpose(1, 2)

    @property
    def v(self) -> torch.Tensor:
        return self.qkv[:, :, 2].transpose(1, 2)


def split_heads(qkv: torch.Tensor, heads: int) -> torch.Tensor:
    """(B, N, 3C) -> (B, N, 3, heads, C / heads), a view."""
    B, N, C3 = qkv.shape
    return qkv.reshape(B, N, 3, heads, C3 // (3 * heads))


class TeacherReader:
    """Hooks on a teacher classifier; call it on a batch to get features.

    The hooks only store references to tensors the teacher computes anyway;
    the caller runs the teacher under ``torch.no_grad()``.

    Args:
        teacher (nn.Module): The teacher classifier.
        attention (str, optional): How Attn_T is computed, if at all:
            ``'paper'`` (Eq. 2 over the patch tokens, as the paper writes),
            ``'block'`` (the last block's real attention output
            softmax(QK^T / sqrt(d)) V over all tokens, prefix tokens
            included, read at the patch tokens; ViT/DeiT only), ``'map'``
            (the release's target: the last block's pre-softmax score map
            Q_T K_T^T / sqrt(d) between patch tokens, prefix rows and
            columns dropped; a score does not depend on other tokens, so
            this is exactly the block's map for ViT/DeiT, and the global
            reading of method.md for Swin) or ``None``.
        kernel (callable): The attention kernel, (q, k, v) ->
            softmax(q k^T / sqrt(d)) v, each (B, heads, N, d); torch's
            ``scaled_dot_product_attention`` by default (the distiller
            passes its ``accel.attention``).
        relation (bool): Also compute V_T V_T^T / sqrt(d), the teacher's
            side of L_pca's value-relation term, in the teacher's run (its
            precision, no autograd) like Attn_T. Default False.
        cls_token (bool): Also read the class token (the final normalised
            token 0), or for a teacher without prefix tokens (Swin) the
            pooled pre-logit feature its head computes
            (``head.pre_logits``). Default False.
    """

    ATTENTION = ('paper', 'block', 'map')

    def __init__(self,
                 teacher: nn.Module,
                 attention: Optional[str] = 'paper',
                 kernel: Callable = F.scaled_dot_product_attention,
                 relation: bool = False,
                 cls_token: bool = False) -> None:
        if attention not in self.ATTENTION + (None, ):
            raise ValueError(f'pca.teacher_attn={attention!r} must be one '
                             f'of {self.ATTENTION}')
        self.teacher = teacher
        self.attention = attention
        self.kernel = kernel
        self.relation = relation
        self.cls_token = cls_token
        self._store: dict = {}
        self._handles: list = []
        backbone = getattr(teacher, 'backbone', None)
        if isinstance(backbone, VisionTransformer):
            self._setup_vit(backbone)
        elif isinstance(backbone, SwinTransformer):
            self._setup_swin(backbone)
        else:
            raise TypeError(
                f'teacher backbone {type(backbone).__name__} is not '
                f'supported: CAKD reads the attention of {SUPPORTED}')
        if cls_token and not self.prefix:
            head = getattr(teacher, 'head', None)
            if not callable(getattr(head, 'pre_logits', None)):
                raise ValueError(
                    'cls_token: the teacher has neither a class token nor '
                    'a head with pre_logits (an mmpretrain ClsHead) to read '
                    'a pooled feature from; set cls_token=None')
            self._handles.append(head.register_forward_pre_hook(
                self._keep('cls', lambda a, o: head.pre_logits(a[0]))))

    def _keep(self, key: str, pick: Callable) -> Callable:

        def hook(module, args, output=None):
            self._store[key] = pick(args, output)

        return hook

    def _setup_vit(self, backbone: VisionTransformer) -> None:
        last = backbone.layers[-1]
        self.heads = last.attn.num_heads
        self.prefix = backbone.num_extra_tokens
        # h_T is the final normalised token map; a ViT built without a final
        # norm (e.g. mmpretrain's MAE fine-tuned configs, which normalise
        # after pooling) gives its last block's output instead.
        final = backbone.ln1 if backbone.final_norm else last
        # The last block's own qkv projection is applied to the whole token
        # sequence, so its output is exactly Q_T, K_T, V_T: no extra work.
        self._handles += [
            backbone.patch_embed.register_forward_hook(
                self._keep('grid', lambda a, o: tuple(o[1]))),
            last.attn.qkv.register_forward_hook(
                self._keep('qkv', lambda a, o: o)),
            final.register_forward_hook(self._keep('tokens', lambda a, o: o)),
        ]
        self._qkv = lambda: self._store.pop('qkv')

    def _setup_swin(self, backbone: SwinTransformer) -> None:
        last_stage = len(backbone.stages) - 1
        if last_stage not in backbone.out_indices:
            raise ValueError(
                'teacher: SwinTransformer must output its last stage '
                f'(out_indices={backbone.out_indices}, need {last_stage})')
        if self.attention == 'block':
            raise ValueError("pca.teacher_attn='block' reads ViT/DeiT "
                             "attention; Swin's windowed attention with its "
                             "position bias is not offered: use 'paper'")
        block = backbone.stages[-1].blocks[-1]
        self.heads = block.attn.w_msa.num_heads
        self.prefix = 0
        # Swin's qkv runs on shifted windows; read the block input instead
        # and apply the block's norm and qkv to the whole grid (one global
        # attention, as method.md specifies).
        self._handles += [
            block.register_forward_pre_hook(
                self._keep('block_in', lambda a, o: a)),
            getattr(backbone, f'norm{last_stage}').register_forward_hook(
                self._keep('tokens', lambda a, o: o)),
        ]

        def qkv() -> torch.Tensor:
            x, hw_shape = self._store.pop('block_in')
            self._store['grid'] = tuple(hw_shape)
            return block.attn.w_msa.qkv(block.norm1(x))

        self._qkv = qkv

    def __call__(self, inputs: torch.Tensor) -> TeacherFeatures:
        """Run the teacher on ``inputs`` (B, C, H, W)."""
        self._store.clear()
        logits = self.teacher(inputs, mode='tensor')
        if isinstance(logits, (tuple, list)):  # DeiT: (cls, dist) heads
            logits = sum(logits) / len(logits)
        qkv = split_heads(self._qkv(), self.heads)
        attn = None
        if self.attention == 'block':
            attn = self.kernel(
                *qkv.permute(2, 0, 3, 1, 4).unbind(0))[:, :, self.prefix:]
        tokens = self._store.pop('tokens')
        features = TeacherFeatures(logits, tokens[:, self.prefix:],
                                   qkv[:, self.prefix:],
                                   self._store.pop('grid'))
        if self.attention == 'paper':
            attn = self.kernel(features.q, features.k, features.v)
        elif self.attention == 'map':
            attn = score_map(features.q, features.k)
        features.attn = attn
        if self.cls_token:
            features.cls = (tokens[:, 0] if self.prefix else
                            self._store.pop('cls'))
        if self.relation:
            features.relation = value_relation(features.v)
        return features

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
