"""mmpretrain's ``SwinTransformer`` as a CAKD teacher."""
from mmpretrain.models.backbones import SwinTransformer
from torch import nn

from mmcakd.registry import TEACHER_READERS
from .mmpretrain_classifier import MMPretrainClassifierReader
from .reader import split_heads


@TEACHER_READERS.register_module()
class MMPretrainSwinReader(MMPretrainClassifierReader):
    """h_T is the last stage's normalised output; Q/K/V the last block's
    norm and qkv applied to its whole input grid (one global attention, as
    method.md specifies: Swin's own qkv runs on shifted windows)."""

    describes = 'mmpretrain SwinTransformer'
    reads_tokens = True

    @classmethod
    def accepts(cls, teacher: nn.Module) -> bool:
        return (super().accepts(teacher)
                and isinstance(teacher.backbone, SwinTransformer))

    def _setup_tokens(self) -> None:
        backbone = self.teacher.backbone
        last_stage = len(backbone.stages) - 1
        if last_stage not in backbone.out_indices:
            raise ValueError(
                'teacher: SwinTransformer must output its last stage '
                f'(out_indices={backbone.out_indices}, need {last_stage})')
        block = backbone.stages[-1].blocks[-1]
        self.heads = block.attn.w_msa.num_heads
        self.prefix = 0
        self._handles += [
            block.register_forward_pre_hook(
                self._keep('block_in', lambda a, o: a)),
            getattr(backbone, f'norm{last_stage}').register_forward_hook(
                self._keep('tokens', lambda a, o: o)),
        ]

        def qkv():
            x, hw_shape = self._store.pop('block_in')
            self._store['grid'] = tuple(hw_shape)
            return split_heads(block.attn.w_msa.qkv(block.norm1(x)),
                               self.heads)

        self._qkv = qkv
