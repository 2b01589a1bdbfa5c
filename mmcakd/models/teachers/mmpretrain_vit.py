"""mmpretrain's ``VisionTransformer`` and its subclasses (DeiT, DeiT
distilled) as CAKD teachers."""
from mmpretrain.models.backbones import VisionTransformer
from torch import nn

from mmcakd.registry import TEACHER_READERS
from .mmpretrain_classifier import MMPretrainClassifierReader
from .reader import split_heads


@TEACHER_READERS.register_module()
class MMPretrainViTReader(MMPretrainClassifierReader):
    """h_T is the final normalised token map; Q/K/V the output of the last
    block's qkv linear, which is applied to the whole token sequence (no
    extra work)."""

    describes = 'mmpretrain VisionTransformer (ViT, DeiT, DeiT distilled)'
    reads_tokens = True
    block_attention = True

    @classmethod
    def accepts(cls, teacher: nn.Module) -> bool:
        return (super().accepts(teacher)
                and isinstance(teacher.backbone, VisionTransformer))

    def _setup_tokens(self) -> None:
        backbone = self.teacher.backbone
        last = backbone.layers[-1]
        self.heads = last.attn.num_heads
        self.prefix = backbone.num_extra_tokens
        # A ViT built without a final norm (e.g. mmpretrain's MAE fine-tuned
        # configs, which normalise after pooling) gives its last block's
        # output instead.
        final = backbone.ln1 if backbone.final_norm else last
        self._handles += [
            backbone.patch_embed.register_forward_hook(
                self._keep('grid', lambda a, o: tuple(o[1]))),
            last.attn.qkv.register_forward_hook(
                self._keep('qkv', lambda a, o: o)),
            final.register_forward_hook(self._keep('tokens', lambda a, o: o)),
        ]
        self._qkv = lambda: split_heads(self._store.pop('qkv'), self.heads)
