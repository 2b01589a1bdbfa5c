"""Reading a frozen teacher: its logits, pooled feature and, for the
Transformer families, its token grid and last-block Q/K/V, by hooks, without
editing the teacher's code.

A teacher family is a :class:`TeacherReader` subclass registered in
``TEACHER_READERS`` (one file per family in this package);
:func:`build_teacher_reader` picks the one whose :meth:`accepts` takes the
teacher. For CAKD (method.md, "Where features are taken") a token family
gives Q_T, K_T, V_T of the teacher's last block over the patch tokens
(prefix tokens such as CLS, DeiT's distillation token or registers
dropped), and h_T, the backbone's final normalised patch-token map.
"""
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from mmcakd.models.utils.gram import score_map, value_relation
from mmcakd.registry import TEACHER_READERS


@dataclass
class TeacherFeatures:
    """One teacher forward pass.

    Attributes:
        logits: (B, num_classes).
        tokens: h_T, (B, N, C_T) with N = H_T * W_T, row-major over the grid.
        qkv: Q_T, K_T, V_T as the block's attention uses them,
            (B, N, 3, heads, d) with d = C_T / heads; ``q``, ``k`` and ``v``
            are (B, heads, N, d) views of it.
        grid: (H_T, W_T).
        attn: The PCA target, or None when not asked for: Attn_T,
            (B, heads, N, d) (``attention`` 'paper' or 'block'), or the
            score map Q_T K_T^T / sqrt(d), (B, heads, N, N) ('map').
        relation: V_T V_T^T / sqrt(d), (B, heads, N, N), or None when not
            asked for.
        cls: The class token after the final norm, (B, C_T), or for a
            teacher without one its head's pooled input, (B, C_head); None
            when not asked for.
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


def mean_of_heads(out) -> torch.Tensor:
    """A two-head teacher's (DeiT's class and distillation heads) outputs
    averaged, as DeiT predicts at test time; one tensor is returned as is."""
    if isinstance(out, (tuple, list)):
        return sum(out) / len(out)
    return out


class TeacherReader:
    """Base of the teacher families; call it on a batch to get features.

    A family implements :meth:`accepts`, :meth:`pre_logits` and, where it
    reads tokens (``reads_tokens = True``), :meth:`_setup_tokens`, which
    sets ``heads`` and ``prefix`` and registers hooks that store
    ``'tokens'`` (B, prefix + N, C_T) and ``'grid'`` (H_T, W_T) and sets
    ``_qkv``, a callable returning (B, prefix + N, 3, heads, d) after the
    forward. The hooks only keep references to tensors the teacher computes
    anyway (or recompute the last block's Q/K/V from its input: one linear);
    the caller runs the teacher under ``torch.no_grad()``.

    Args:
        teacher (nn.Module): The teacher classifier.
        tokens (bool): Read the token grid and Q/K/V (CAKD, FitNet); False
            for logits and pooled features only (every family).
        attention (str, optional): How Attn_T is computed, if at all:
            ``'paper'`` (Eq. 2 over the patch tokens, as the paper writes),
            ``'block'`` (the last block's real attention output
            softmax(QK^T / sqrt(d)) V over all tokens, prefix tokens
            included, read at the patch tokens; ViT-family teachers only),
            ``'map'`` (the release's target: the last block's pre-softmax
            score map Q_T K_T^T / sqrt(d) between patch tokens, prefix rows
            and columns dropped; a score does not depend on other tokens,
            so this is exactly the block's map for a ViT, and the global
            reading of method.md for Swin) or ``None``.
        kernel (callable): The attention kernel, (q, k, v) ->
            softmax(q k^T / sqrt(d)) v, each (B, heads, N, d); torch's
            ``scaled_dot_product_attention`` by default (the distiller
            passes its ``attention_kernel``).
        relation (bool): Also compute V_T V_T^T / sqrt(d), the teacher's
            side of L_pca's value-relation term, in the teacher's run (its
            precision, no autograd) like Attn_T. Default False.
        cls_token (bool): Also read the class token (the final normalised
            token 0), or for a teacher without prefix tokens the pooled
            feature its classifier layer receives. Default False.
    """

    ATTENTION = ('paper', 'block', 'map')
    # What the family reads, for error messages: 'timm VisionTransformer'.
    describes = ''
    # Whether the family reads tokens and Q/K/V, and whether 'block'
    # attention (a global attention over the sequence) is the real one.
    reads_tokens = False
    block_attention = False

    def __init__(self,
                 teacher: nn.Module,
                 tokens: bool = False,
                 attention: Optional[str] = None,
                 kernel: Callable = F.scaled_dot_product_attention,
                 relation: bool = False,
                 cls_token: bool = False) -> None:
        if attention not in self.ATTENTION + (None, ):
            raise ValueError(f'teacher_attn={attention!r} must be one '
                             f'of {self.ATTENTION}')
        self.teacher = teacher
        self.attention = attention
        self.kernel = kernel
        self.relation = relation
        self.cls_token = cls_token
        self._store: dict = {}
        self._handles: list = []
        if not tokens:
            return
        if attention == 'block' and not self.block_attention:
            raise ValueError(
                f"teacher_attn='block' reads a ViT's global attention; "
                f"{self.describes}'s attention is windowed: use 'paper'")
        self._setup_tokens()
        if cls_token and not self.prefix:
            self._handles.append(self._pooled_hook())

    @classmethod
    def accepts(cls, teacher: nn.Module) -> bool:
        """Whether this family reads ``teacher``."""
        raise NotImplementedError

    # -- what every family gives -------------------------------------------
    def logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, K); a two-head teacher's heads averaged."""
        return mean_of_heads(self.teacher(inputs, mode='tensor'))

    def pre_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C_pool): the feature the classifier layer
        receives (a two-head teacher's two averaged)."""
        raise NotImplementedError

    def input_size(self) -> Optional[Tuple[int, int, int]]:
        """(C, H, W) the teacher was built for, or None if it does not
        say (a CNN)."""
        return None

    def patch_size(self) -> Tuple[int, int]:
        """The stride of the teacher's patch embedding, (1, 1) without
        one: the image sides must be multiples of it."""
        return (1, 1)

    # -- what a token family adds ------------------------------------------
    def _setup_tokens(self) -> None:
        raise TypeError(f'{self.describes} teachers give no token grid')

    def _pooled_hook(self):
        """A hook storing ``'cls'``, (B, C_pool), for a family without
        prefix tokens; returns its handle."""
        raise ValueError(
            'cls_token: the teacher has neither a class token nor a head '
            f'whose pooled input {self.describes} readers can take; '
            'switch the class-token projector off (model.projectors)')

    def _keep(self, key: str, pick: Callable) -> Callable:

        def hook(module, args, output=None):
            self._store[key] = pick(args, output)

        return hook

    def __call__(self, inputs: torch.Tensor) -> TeacherFeatures:
        """Run the teacher on ``inputs`` (B, C, H, W)."""
        self._store.clear()
        logits = self.logits(inputs)
        qkv = self._qkv()
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


def _families(tokens: bool) -> Sequence[type]:
    """Registered families, those that read tokens first (a token family
    is more specific than the generic classifier of its library)."""
    readers = list(TEACHER_READERS.module_dict.values())
    if tokens:
        return [r for r in readers if r.reads_tokens]
    return sorted(readers, key=lambda r: not r.reads_tokens)


def build_teacher_reader(teacher: nn.Module,
                         tokens: bool = False,
                         method: str = 'this distiller',
                         **kwargs) -> TeacherReader:
    """The registered family that reads ``teacher``, built with ``kwargs``.

    Args:
        teacher (nn.Module): The teacher classifier.
        tokens (bool): The family must read tokens and Q/K/V.
        method (str): Named in the error (``'CAKD'``).
    """
    import mmcakd.models.teachers  # noqa: F401 (registers the families)
    for family in _families(tokens):
        if family.accepts(teacher):
            return family(teacher, tokens=tokens, **kwargs)
    name = type(teacher).__name__
    inner = getattr(teacher, 'backbone', getattr(teacher, 'model', None))
    if isinstance(inner, nn.Module):
        name += f' with {type(inner).__name__}'
    supported = ', '.join(f.describes for f in _families(tokens))
    need = ('reads the token grid and last attention block of'
            if tokens else 'reads the logits of')
    raise TypeError(
        f'teacher: {name} is not supported: {method} {need} '
        f'{supported}; docs/new_models.md shows how to register a family')
