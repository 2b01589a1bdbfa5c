"""timm's ``SwinTransformer`` as a CAKD teacher, through
``TimmClassifier``."""
from timm.models.swin_transformer import SwinTransformer
from torch import nn

from mmcakd.registry import TEACHER_READERS
from .timm_classifier import TimmClassifierReader


@TEACHER_READERS.register_module()
class TimmSwinReader(TimmClassifierReader):
    """h_T is the final norm's (B, H, W, C) map as tokens; Q/K/V the last
    block's norm and qkv applied to its whole input grid (one global
    attention, method.md; timm's own runs on shifted windows)."""

    describes = 'timm SwinTransformer'
    reads_tokens = True

    @classmethod
    def accepts(cls, teacher: nn.Module) -> bool:
        return (super().accepts(teacher)
                and isinstance(teacher.model, SwinTransformer))

    def _setup_tokens(self) -> None:
        model = self.model
        block = model.layers[-1].blocks[-1]
        self.heads = block.attn.num_heads
        self.prefix = 0
        self._handles += [
            # timm's Swin blocks take and give (B, H, W, C).
            block.register_forward_pre_hook(
                self._keep('block_in', lambda a, o: a[0])),
            model.norm.register_forward_hook(
                self._keep('tokens', lambda a, o: o.flatten(1, 2))),
        ]

        def qkv():
            x = self._store.pop('block_in')
            B, H, W, _ = x.shape
            self._store['grid'] = (H, W)
            return block.attn.qkv(block.norm1(x)).reshape(
                B, H * W, 3, self.heads, -1)

        self._qkv = qkv

    def _pooled_hook(self):
        return self._classifier_input_hook(self.model.head.fc)
