"""timm's ViT family as CAKD teachers: ``VisionTransformer`` (ViT, DeiT,
ViT with registers), ``VisionTransformerDistilled`` (DeiT distilled) and
``Eva`` (EVA, EVA-02), through ``TimmClassifier``."""
import torch
import torch.nn.functional as F
from timm.layers import Attention, apply_rot_embed_cat
from timm.models.eva import Eva, EvaAttention
from timm.models.vision_transformer import VisionTransformer
from torch import nn

from mmcakd.registry import TEACHER_READERS
from .timm_classifier import TimmClassifierReader


def _project(attn: nn.Module, x: torch.Tensor, rope=None) -> torch.Tensor:
    """Q, K, V as ``attn`` computes them from its input x (B, N, C), its
    q/k norms and rotary embedding included: (B, N, 3, heads, d)."""
    B, N, _ = x.shape
    heads = attn.num_heads
    if getattr(attn, 'qkv', None) is not None:
        bias = attn.qkv.bias
        if getattr(attn, 'q_bias', None) is not None:  # EVA's split biases
            split = torch.cat((attn.q_bias, attn.k_bias, attn.v_bias))
            bias = split if bias is None else bias + split
        q, k, v = F.linear(x, attn.qkv.weight, bias).reshape(
            B, N, 3, heads, -1).unbind(2)
    else:  # EVA with unfused projections
        q, k, v = (proj(x).reshape(B, N, heads, -1)
                   for proj in (attn.q_proj, attn.k_proj, attn.v_proj))
    # The q/k norms act on the head dimension, the last one here too.
    q, k = attn.q_norm(q), attn.k_norm(k)
    if rope is not None:
        # Rotary embedding on the patch tokens, as EvaAttention applies it
        # (over (B, heads, N, d)).
        npt = attn.num_prefix_tokens
        half = getattr(attn, 'rotate_half', False)
        q, k = (torch.cat([t[:, :npt], apply_rot_embed_cat(
            t[:, npt:].transpose(1, 2), rope, half=half).transpose(1, 2)],
            dim=1) for t in (q, k))
    return torch.stack((q, k, v), dim=2)


@TEACHER_READERS.register_module()
class TimmViTReader(TimmClassifierReader):
    """h_T is the final norm's token map (``model.norm``); Q/K/V are
    recomputed from the last block's attention input with its own weights
    (one linear), so fused attention kernels, split biases, q/k norms and
    EVA's rotary embedding need no edit of timm. Prefix tokens (class,
    distillation, registers) are ``model.num_prefix_tokens``."""

    describes = ('timm VisionTransformer (ViT, DeiT, DeiT distilled, '
                 'registers), Eva')
    reads_tokens = True
    block_attention = True
    ATTENTIONS = (Attention, EvaAttention)

    @classmethod
    def accepts(cls, teacher: nn.Module) -> bool:
        return (super().accepts(teacher)
                and isinstance(teacher.model, (VisionTransformer, Eva)))

    def _setup_tokens(self) -> None:
        model = self.model
        attn = model.blocks[-1].attn
        if not isinstance(attn, self.ATTENTIONS):
            raise TypeError(
                f'teacher: the last block of {type(model).__name__} has '
                f'{type(attn).__name__}; CAKD reads '
                f'{", ".join(a.__name__ for a in self.ATTENTIONS)}')
        width = (attn.qkv.out_features // 3 if attn.qkv is not None else
                 attn.q_proj.out_features)
        if width != model.embed_dim:
            raise ValueError(
                f'teacher: its attention width {width} differs from its '
                f'token width {model.embed_dim} (attn_head_dim); CAKD '
                'splits the tokens into the attention heads')
        self.heads = attn.num_heads
        self.prefix = model.num_prefix_tokens
        embed = model.patch_embed

        def keep_input(module, args, kwargs):
            self._store['attn_in'] = (args[0], kwargs.get('rope'))

        self._handles += [
            embed.register_forward_pre_hook(self._keep(
                'grid',
                lambda a, o: embed.dynamic_feat_size(tuple(a[0].shape[-2:])))),
            attn.register_forward_pre_hook(keep_input, with_kwargs=True),
            model.norm.register_forward_hook(
                self._keep('tokens', lambda a, o: o)),
        ]
        self._qkv = lambda: _project(attn, *self._store.pop('attn_in'))

    def _pooled_hook(self):
        # No prefix token (global average pooling): the head's input, after
        # timm's pooling and fc_norm.
        return self._classifier_input_hook(self.model.head)
