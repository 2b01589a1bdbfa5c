"""Teacher families (mmcakd.models.teachers): timm ViT, DeiT distilled,
ViT with registers, EVA with rotary embedding and timm Swin, on
non-square inputs, read without editing timm."""
import pytest
import torch
import torch.nn.functional as F

from mmcakd.models.teachers import (TeacherReader, build_teacher_reader,
                                    TimmSwinReader, TimmViTReader)
from mmcakd.registry import MODELS, TEACHER_READERS

from .test_cakd_distiller import optim
from .tiny import (distiller, image_batch, resnet, timm, timm_swin,
                   timm_vit, vit)

# name, extra timm kwargs, prefix tokens
VIT_FAMILY = {
    'vit': ('vit_tiny_patch16_224', {}, 1),
    'deit-distilled': ('deit_tiny_distilled_patch16_224', {}, 2),
    'registers': ('vit_tiny_patch16_224', dict(reg_tokens=4), 5),
    'eva-rope': ('eva02_tiny_patch14_224',
                 dict(mlp_ratio=2.0, ref_feat_shape=(4, 6)), 1),
}


def built(cfg):
    model = MODELS.build(cfg)
    model.eval()
    return model


@pytest.mark.parametrize('family', list(VIT_FAMILY))
def test_timm_vit_family_qkv_is_what_the_block_attends_with(family):
    """Softmax(QK^T/sqrt(d))V over the read Q/K/V, through the block's own
    output projection, is the block's attention output: the reader gets
    exactly the Q/K/V the teacher uses (split biases, q/k norms, EVA's
    rotary embedding, prefix tokens)."""
    name, extra, prefix = VIT_FAMILY[family]
    teacher = built(timm_vit(name, **extra))
    reader = build_teacher_reader(teacher, tokens=True, attention='block')
    assert isinstance(reader, TimmViTReader) and reader.prefix == prefix
    attn = teacher.model.blocks[-1].attn
    out = {}
    handle = attn.register_forward_hook(
        lambda m, a, o: out.setdefault('attn', o))
    x = torch.randn(2, 1, 16, 24)
    with torch.no_grad():
        t = reader(x)
        qkv = reader._qkv  # not called again: recompute from the hook input
    handle.remove()
    assert t.grid == (4, 6) and t.tokens.shape == (2, 24, 32)
    assert t.qkv.shape == (2, 24, 3, 2, 16)
    # The block's attention over all tokens, recomputed from t's source.
    with torch.no_grad():
        reader._store.clear()
        reader.logits(x)
        full = qkv()
        y = F.scaled_dot_product_attention(
            *full.permute(2, 0, 3, 1, 4).unbind(0))
        y = attn.proj(attn.norm(y.transpose(1, 2).flatten(2)))
    torch.testing.assert_close(y, out['attn'], rtol=1e-4, atol=1e-5)
    # 'block' is that attention at the patch tokens, before the projection.
    assert t.attn.shape == (2, 2, 24, 16)
    # h_T is the final norm's map without the prefix tokens.
    with torch.no_grad():
        feats = teacher.model.forward_features(x)
    torch.testing.assert_close(t.tokens, feats[:, prefix:])


def test_timm_deit_distilled_logits_average_its_two_heads():
    teacher = built(timm_vit('deit_tiny_distilled_patch16_224'))
    reader = build_teacher_reader(teacher)
    x = torch.randn(2, 1, 16, 24)
    with torch.no_grad():
        feats = teacher.model.forward_features(x)
        cls_logits = teacher.model.head(feats[:, 0])
        dist_logits = teacher.model.head_dist(feats[:, 1])
        torch.testing.assert_close(reader.logits(x),
                                   (cls_logits + dist_logits) / 2)
        assert reader.pre_logits(x).shape == (2, 32)


def test_timm_swin_reads_the_last_grid_globally():
    teacher = built(timm_swin())
    reader = build_teacher_reader(teacher, tokens=True, attention='paper',
                                  cls_token=True)
    assert isinstance(reader, TimmSwinReader) and reader.prefix == 0
    block = teacher.model.layers[-1].blocks[-1]
    x = torch.randn(2, 1, 32, 48)
    with torch.no_grad():
        t = reader(x)
        feats = teacher.model.forward_features(x)
    # 32x48 px, patch 4, one merge: a 4x6 grid of 32 channels, 2 heads.
    assert t.grid == (4, 6) and t.qkv.shape == (2, 24, 3, 2, 16)
    torch.testing.assert_close(t.tokens, feats.flatten(1, 2))
    with torch.no_grad():
        pooled = teacher.model.forward_head(feats, pre_logits=True)
    torch.testing.assert_close(t.cls, pooled)
    with pytest.raises(ValueError, match="teacher_attn='block'"):
        build_teacher_reader(teacher, tokens=True, attention='block')
    assert block.attn.num_heads == 2


@pytest.mark.parametrize('teacher', [
    timm_vit(), timm_vit('deit_tiny_distilled_patch16_224'), timm_swin()],
    ids=['vit', 'deit-distilled', 'swin'])
def test_cakd_trains_with_a_timm_teacher_on_non_square_images(teacher):
    size = (32, 48) if 'swin' in teacher['model_name'] else (16, 24)
    model = distiller(teacher=teacher, cls_token=dict(), logit=dict())
    assert model.grid == ((4, 6))
    before = model.teacher.state_dict()
    log = model.train_step(image_batch(size=size), optim(model))
    assert {'loss_cls', 'loss_pca', 'loss_gl', 'loss_adv', 'loss_logit',
            'loss_cls_token'} <= set(log)
    assert all(torch.isfinite(v) for v in log.values())
    after = model.teacher.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


BASELINES = {
    'kd': dict(type='LogitDistiller', distill_loss=dict(type='KDLoss')),
    'dkd': dict(type='LogitDistiller', distill_loss=dict(type='DKDLoss')),
    'fitnet': dict(type='FitNetDistiller', student_stage='backbone.layer3'),
    'rkd': dict(type='RKDDistiller', student_stage='neck'),
    'ofa': dict(type='OFADistiller',
                stages=['backbone.layer2', 'backbone.layer3']),
}


@pytest.mark.parametrize('kind', list(BASELINES))
@pytest.mark.parametrize('teacher', [timm_vit(), timm_swin()],
                         ids=['vit', 'swin'])
def test_baselines_take_timm_teachers(kind, teacher):
    size = (32, 48) if 'swin' in teacher['model_name'] else (16, 24)
    model = MODELS.build(dict(
        teacher=teacher, student=resnet(),
        data_preprocessor=dict(num_classes=5, mean=[0.0], std=[1.0]),
        **BASELINES[kind]))
    log = model.train_step(image_batch(size=size), optim(model))
    assert 'loss_cls' in log and len(log) > 1
    assert all(torch.isfinite(v) for v in log.values())


def test_a_timm_cnn_teacher_is_refused_by_cakd_and_taken_by_kd():
    cnn = timm('resnet10t', img=None)
    cnn.pop('img_size')
    with pytest.raises(TypeError, match='^teacher: TimmClassifier with '
                       'ResNet is not supported: CAKD reads the token grid'):
        distiller(teacher=cnn)
    kd = MODELS.build(dict(
        type='LogitDistiller', teacher=cnn, student=resnet(),
        input_size=(1, 16, 24), distill_loss=dict(type='KDLoss'),
        data_preprocessor=dict(num_classes=5, mean=[0.0], std=[1.0])))
    log = kd.train_step(image_batch(), optim(kd))
    assert {'loss_cls', 'loss_kd'} <= set(log)


def test_a_new_family_is_one_registered_class():
    """What docs/new_models.md shows: a family for a teacher the registry
    does not know (here mmpretrain's ViT inside a module of its own) is one
    registered class; CAKD then trains with it."""

    @MODELS.register_module(force=True)
    class WrappedViT(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.inner = MODELS.build(vit())

        def forward(self, x, mode='tensor'):
            return self.inner(x, mode=mode)

    @TEACHER_READERS.register_module(force=True)
    class WrappedViTReader(TeacherReader):
        describes = 'WrappedViT'
        reads_tokens = True

        @classmethod
        def accepts(cls, teacher):
            return isinstance(teacher, WrappedViT)

        def __init__(self, teacher, **kwargs):
            # The family of what it wraps reads it.
            self.inner = build_teacher_reader(teacher.inner, **kwargs)
            super().__init__(teacher)

        def __call__(self, inputs):
            return self.inner(inputs)

        def input_size(self):
            return self.inner.input_size()

        def patch_size(self):
            return self.inner.patch_size()

    try:
        model = distiller(teacher=dict(type='WrappedViT'))
        assert model.grid == (4, 4)
        log = model.train_step(image_batch(size=(16, 16)), optim(model))
        assert {'loss_pca', 'loss_gl'} <= set(log)
    finally:
        TEACHER_READERS.module_dict.pop('WrappedViTReader')
    with pytest.raises(TypeError, match='^teacher: WrappedViT is not '
                       'supported: this distiller reads the logits of'):
        distiller(teacher=dict(type='WrappedViT'))
    MODELS.module_dict.pop('WrappedViT')
