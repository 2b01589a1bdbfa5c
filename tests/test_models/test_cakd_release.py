"""The release's CAKD terms, the ramp's cap, the teacher's view and the
diagnostics, each on a small case computed by hand."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmengine.model import BaseModule

from mmcakd.models import (ClassTokenLoss, ClassTokenProjector, LogitLoss,
                           MultiViewGenerator, PCAProjector)
from mmcakd.registry import MODELS

from .test_cakd_distiller import optim
from .tiny import batch, deit, distiller, resnet, swin, vit


def test_logit_mse_by_hand():
    z_s = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    z_t = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    # ((1)^2 + (2)^2 + (-1)^2 + (-1)^2) / 4 elements
    assert LogitLoss('mse')(z_s, z_t).item() == pytest.approx(1.75)
    assert LogitLoss('mse', loss_weight=2.0)(z_s, z_t).item() == \
        pytest.approx(3.5)


def test_logit_kl_by_hand():
    z_s = torch.tensor([[0.0, 0.0]])
    z_t = torch.tensor([[math.log(3.0) * 2, 0.0]])  # p_t = (3/4, 1/4) at T=2
    kl = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)
    loss = LogitLoss('kl', temperature=2.0, loss_weight=0.5)(z_s, z_t)
    assert loss.item() == pytest.approx(0.5 * 4 * kl, rel=1e-6)


def test_class_token_term_by_hand():
    proj = ClassTokenProjector(2, 3)
    with torch.no_grad():
        proj.proj.weight.copy_(torch.tensor([[1.0, 0], [0, 1], [1, 1]]))
        proj.proj.bias.zero_()
    pooled = torch.tensor([[1.0, 2.0]])  # -> (1, 2, 3)
    cls_t = torch.tensor([[1.0, 0.0, 0.0]])  # errors 0, 2, 3
    loss = ClassTokenLoss(loss_weight=0.5)(proj(pooled), cls_t)
    assert loss.item() == pytest.approx(0.5 * (0 + 4 + 9) / 3)


def test_pca_map_target_by_hand():
    """target='map': g(Q) g(K)^T / sqrt(d); at p=0, Q_S K_S^T / sqrt(d)."""
    pca = PCAProjector(3, 4, 2, p=0.0, target='map').eval()
    feat = torch.randn(2, 3, 2, 2)
    q, k, v = pca.project(feat)
    scores, v_s = pca(feat)
    assert scores.shape == (2, 2, 4, 4)
    torch.testing.assert_close(scores, q @ k.transpose(-2, -1) / 2**0.5)
    torch.testing.assert_close(v_s, v)


def test_pca_map_with_full_substitution_is_the_teachers_map():
    """target='map' in training at p=1: g(Q) = Q_T, g(K) = K_T, so the
    student's map is Q_T K_T^T / sqrt(d), the teacher's."""
    pca = PCAProjector(3, 4, 2, p=1.0, target='map').train()
    feat = torch.randn(2, 3, 2, 2)
    teacher_qkv = torch.randn(2, 4, 3, 2, 2)  # (B, N, 3, heads, d)
    scores, _ = pca(feat, teacher_qkv)
    q_t, k_t = teacher_qkv[:, :, 0].transpose(1, 2), teacher_qkv[:, :, 1]
    torch.testing.assert_close(
        scores, q_t @ k_t.permute(0, 2, 3, 1) / 2**0.5)


def test_teacher_map_is_the_last_block_score_map_without_prefix():
    """The reader's map is the last block's real pre-softmax scores (the
    ones its softmax turns into its output), CLS row and column dropped."""
    model = distiller(pca=dict(target='map')).train()
    inputs = model.data_preprocessor(batch(), True)['inputs']
    attn = model.teacher.backbone.layers[-1].attn
    seen = {}
    handle = attn.register_forward_hook(
        lambda m, a, o: seen.update(x=a[0], out=o))
    with torch.no_grad():
        t = model.reader(inputs)
    handle.remove()
    B, L, C = seen['x'].shape
    q, k, v = attn.qkv(seen['x']).reshape(B, L, 3, 2, C // 2).permute(
        2, 0, 3, 1, 4)
    full = q @ k.transpose(-2, -1) / (C // 2)**0.5
    out = (full.softmax(-1) @ v).transpose(1, 2).reshape(B, L, C)
    torch.testing.assert_close(attn.proj(out), seen['out'])  # real scores
    torch.testing.assert_close(t.attn, full[:, :, 1:, 1:])
    losses = model(**model.data_preprocessor(batch(), True), mode='loss')
    assert torch.isfinite(losses['loss_pca'])


@pytest.mark.parametrize('teacher,size', [(vit(), 16), (deit(), 16),
                                          (swin(), 32)])
def test_class_token_is_read_from_the_teacher(teacher, size):
    """ViT/DeiT: the final normalised token 0 (what ViT's head reads);
    Swin: the pooled pre-logit feature of its head."""
    model = distiller(teacher=teacher, cls_token=dict()).train()
    inputs = model.data_preprocessor(batch(size=size), True)['inputs']
    with torch.no_grad():
        t = model.reader(inputs)
        feats = model.teacher.extract_feat(inputs)
        expected = model.teacher.head.pre_logits(feats)
    if isinstance(expected, tuple):  # DeiT: (cls, dist)
        expected = expected[0]
    torch.testing.assert_close(t.cls, expected)
    assert model.cls_token.proj.out_features == expected.shape[-1]
    assert model.cls_token.proj.in_features == 32  # the student's GAP


def test_release_terms_reach_the_student_and_projection():
    model = distiller(logit=dict(loss=dict(form='mse')),
                      cls_token=dict(loss=dict(loss_weight=1.0)),
                      mrt=None).train()
    data = model.data_preprocessor(batch(), True)
    losses = model(**data, mode='loss')
    assert {'loss_logit', 'loss_cls_token'} <= set(losses)
    # loss_logit is MSE(z_s, z_t) of this very batch.
    with torch.no_grad():
        z_t = model.teacher(data['inputs'], mode='tensor')
        z_s = model.student(data['inputs'], mode='tensor')
    assert losses['loss_logit'].item() == pytest.approx(
        F.mse_loss(z_s, z_t).item(), rel=1e-5)
    losses['loss_cls_token'].backward()
    assert model.cls_token.proj.weight.grad.abs().sum() > 0
    assert model.student.backbone.layer3[0].conv1.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.teacher.parameters())


def test_release_ramp_with_cap():
    """w(epoch) = min(max(epoch - 25, 0) / 50, 0.2), by epoch and by iter."""
    hub = MessageHub.get_current_instance()
    try:
        for by_epoch, key in ((True, 'epoch'), (False, 'iter')):
            model = distiller(ramp=dict(begin=25, end=75, max_weight=0.2,
                                        by_epoch=by_epoch))
            for t in (0, 24, 25, 26, 30, 35, 36, 80, 120):
                hub.update_info(key, t)
                assert model.distill_weight() == pytest.approx(
                    min(max(t - 25, 0) / 50, 0.2)), (key, t)
    finally:
        hub.update_info('epoch', 0)
        hub.update_info('iter', 0)
    assert distiller(ramp=dict(max_weight=0.3)).distill_weight() == 0.3


def square_batch(n=8, size=16):
    """Black images with one bright 4x4 square each, at varied places."""
    x = torch.zeros(n, 1, size, size)
    for i in range(n):
        r, c = 2 + (i % 3) * 4, 2 + (i // 3) * 4
        x[i, :, r:r + 4, c:c + 4] = 1.0
    return x


def token_of_pattern(x, grid):
    """The token (row-major index on ``grid``) holding most of the square."""
    return F.adaptive_avg_pool2d(x, grid).flatten(1).argmax(1)


@pytest.mark.parametrize('teacher_view', ['clean', 'geometric', 'same'])
def test_teacher_view_for_crops(teacher_view):
    """Under 'geometric' a square moved by a crop lands in the same token
    of the teacher's grid as in the student's; under 'clean' it does not."""
    crop = [dict(type='ResizedCrop', scale=(0.3, 0.5))]
    model = distiller(mrt=dict(views=dict(prob=1.0, transforms=crop,
                                          teacher_view=teacher_view)),
                      data_preprocessor=None).train()
    seen = {}
    model.teacher.backbone.patch_embed.register_forward_pre_hook(
        lambda m, a: seen.update(teacher=a[0]))
    model.student.backbone.register_forward_pre_hook(
        lambda m, a: seen.update(student=a[0]))
    x = square_batch()
    model.loss(x, batch(n=8)['data_samples'])
    assert not torch.equal(seen['student'], x)  # every sample was cropped
    grid = model.grid
    same = token_of_pattern(seen['teacher'], grid) == token_of_pattern(
        seen['student'], grid)
    if teacher_view == 'clean':
        torch.testing.assert_close(seen['teacher'], x)
        assert not same.all()
    else:
        torch.testing.assert_close(seen['teacher'], seen['student'])
        assert same.all()


def test_geometric_teacher_view_keeps_photometric_views_student_only():
    views = MultiViewGenerator(prob=1.0, teacher_view='geometric')
    x = torch.randn(64, 1, 8, 8)
    out, choice = views(x)
    teacher = views.teacher_inputs(x, out, choice)
    geometric = torch.tensor([views.transforms[c]['kind'] in
                              ('ResizedCrop', 'Rotation') for c in choice])
    assert 0 < geometric.sum() < 64
    torch.testing.assert_close(teacher[geometric], out[geometric])
    torch.testing.assert_close(teacher[~geometric], x[~geometric])


def test_ce_is_computed_on_the_student_view():
    model = distiller(mrt=dict(views=dict(prob=1.0, teacher_view='clean')),
                      data_preprocessor=None).train()
    x, samples = square_batch(), batch(n=8)['data_samples']
    state = model.views.random.get_extra_state()
    loss = model.loss(x, samples)['loss_cls']
    model.views.random.set_extra_state(state)
    views = model.views(x)[0]
    with torch.no_grad():
        expected = model.student(views, samples, mode='loss')['loss']
    assert not torch.equal(views, x)
    torch.testing.assert_close(loss.detach(), expected)


def sign_discriminator(model):
    """D(x) has the sign of sum(x): every weight 0.1, no bias (LeakyReLU
    keeps the sign)."""
    with torch.no_grad():
        for m in model.discriminator.modules():
            if isinstance(m, torch.nn.Linear):
                m.weight.fill_(0.1)
                m.bias.zero_()


def test_discriminator_accuracy_by_hand():
    """Teacher tokens of +1 are called real, student tokens of -1 fake:
    both accuracies 1; swapped, both 0."""
    model = distiller()
    sign_discriminator(model)
    plus, minus = torch.ones(2, 16, 32), -torch.ones(2, 16, 32)
    for real, fake, acc in ((plus, minus, 1.0), (minus, plus, 0.0)):
        extras = dict(real=real, fake=fake,
                      fake_logits=model._judge_frozen(fake))
        out = model.diagnostics({}, extras)
        assert out['acc_disc_real'].item() == acc
        assert out['acc_disc_fake'].item() == acc


def test_diagnostics_under_autocast():
    """Under --amp the student's tokens come in bf16 while D stays fp32."""
    model = distiller().train()
    data = model.data_preprocessor(batch(), True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses, extras = model._losses(data['inputs'], data['data_samples'])
    assert extras['fake'].dtype == torch.bfloat16
    out = model.diagnostics(losses, extras)
    assert 0 <= out['acc_disc_real'].item() <= 1


def test_diagnostics_in_a_training_step():
    """The shares of the distillation terms sum to 1; diagnostics are
    logged, never summed into the loss."""
    model = distiller(logit=dict(), cls_token=dict()).train()
    with torch.no_grad():  # a D that calls everything real
        last = [m for m in model.discriminator.modules()
                if isinstance(m, torch.nn.Linear)][-1]
        last.weight.zero_()
        last.bias.fill_(5.0)
    log = model.train_step(batch(), optim(model))
    assert log['acc_disc_real'].item() == 1.0
    assert log['acc_disc_fake'].item() == 0.0
    shares = {k: v for k, v in log.items() if k.startswith('share_')}
    assert set(shares) == {'share_pca', 'share_gl', 'share_adv',
                           'share_logit', 'share_cls_token'}
    assert sum(shares.values()).item() == pytest.approx(1.0)
    total = sum(log[f'loss_{k[6:]}'].abs() for k in shares)
    assert shares['share_gl'].item() == pytest.approx(
        (log['loss_gl'] / total).item())
    # Diagnostics are logged, never summed into the loss.
    assert log['loss'].item() == pytest.approx(sum(
        v.item() for k, v in log.items()
        if k.startswith('loss_') and k != 'loss_disc'), rel=1e-5)


def test_release_preset_builds_every_release_choice():
    from mmengine.config import Config
    cfg = Config.fromfile('configs/_base_/distillers/cakd_release.py').model
    cfg = cfg.to_dict()
    model = distiller(projectors=cfg['projectors'], ramp=cfg['ramp'],
                      mrt=dict(cfg['mrt'], d_interval=2))
    assert model.pca.target == 'map' and model.reader.attention == 'map'
    assert model.pca.p == 0.0  # the release has no substitution
    assert model.logit_loss.form == 'mse'
    assert model.logit_loss.loss_weight == 1.0
    assert model.cls_token_loss.loss_weight == 1.0
    assert model.views.teacher_view == 'same'
    assert model.ramp == dict(begin=25, end=75, max_weight=0.2,
                              by_epoch=True)


@MODELS.register_module()
class HeadWithoutPreLogits(BaseModule):
    """A user's head that has no ``pre_logits``: no pooled feature to read."""

    def __init__(self, in_channels, num_classes):
        super().__init__()
        self.fc = torch.nn.Linear(in_channels, num_classes)

    def forward(self, feats):
        return self.fc(feats[-1])


def test_class_token_term_refused_without_class_token_or_pre_logits():
    teacher = swin()
    teacher['head'] = dict(type='HeadWithoutPreLogits', in_channels=32,
                           num_classes=5)
    with pytest.raises(ValueError, match='^cls_token: the teacher has '
                       'neither') as err:
        distiller(teacher=teacher, cls_token=dict())
    assert '\n' not in str(err.value)


@pytest.mark.parametrize('kwargs,field', [
    (dict(mrt=dict(views=dict(teacher_view='left'))),
     r"mrt\.views\.teacher_view='left'"),
    (dict(pca=dict(target='outputs')),
     r"projectors\.pca\.target='outputs'"),
    (dict(logit=dict(loss=dict(loss_weight=-1))),
     r'projectors\.logit\.loss\.loss_weight=-1'),
    (dict(logit=dict(loss=dict(form='l1'))),
     r"projectors\.logit\.loss\.form='l1'"),
    (dict(logit=dict(loss=dict(temperature=0))),
     r'projectors\.logit\.loss\.temperature=0'),
    (dict(cls_token=dict(loss=dict(loss_weight=-0.5))),
     r'projectors\.cls_token\.loss\.loss_weight'),
    (dict(cls_token=dict(weight=1)), 'projectors.cls_token: unknown option'),
    (dict(cls_token=dict(loss=dict(loss_weight=True))),
     r'projectors\.cls_token\.loss\.loss_weight'),
    (dict(logit=dict(scale=2)), 'projectors.logit: unknown option'),
    (dict(pca=dict(target='map', teacher_attn='block')), 'teacher_attn'),
    (dict(ramp=dict(max_weight=0.2, by_epoch='yes')), r'ramp\.by_epoch'),
    (dict(ramp=dict(begin=0, end=5, max_weight=-0.2)), r'ramp\.max_weight'),
    (dict(ramp=dict(begin=0, end=5, cap=0.2)), 'ramp: unknown option'),
])
def test_bad_release_option_names_its_field(kwargs, field):
    with pytest.raises(ValueError, match=field) as err:
        distiller(**kwargs)
    assert '\n' not in str(err.value)


@pytest.mark.parametrize('preset', ['cakd.py', 'cakd_release.py'])
@pytest.mark.parametrize('teacher,size,grid', [
    # A non-square ViT grid (patch 4): 4 x 6 tokens.
    (dict(vit(), backbone=dict(vit()['backbone'], img_size=(16, 24))),
     (16, 24), (4, 6)),
    (swin(), (32, 32), (4, 4)),
])
def test_presets_inherited_by_an_outside_config(tmp_path, preset, teacher,
                                                size, grid):
    """A user's config inherits a preset and sets its own pair and grid."""
    import os.path as osp

    from mmengine.config import Config

    from ..conftest import ROOT
    config = tmp_path / 'mine.py'
    base = osp.join(ROOT, 'configs', '_base_', 'distillers', preset)
    config.write_text(
        f'_base_ = {base!r}\n'
        f'model = dict(teacher={teacher!r}, student={resnet()!r},\n'
        "              student_stage='backbone.layer3',\n"
        f'              input_size=(1, {size[0]}, {size[1]}),\n'
        '              data_preprocessor=dict(num_classes=5, mean=[0.0],\n'
        '                                     std=[1.0]))\n')
    cfg = Config.fromfile(str(config))
    model = MODELS.build(cfg.model).train()
    assert model.grid == grid
    data = dict(inputs=[torch.rand(1, *size) * 255 for _ in range(4)],
                data_samples=batch()['data_samples'])
    wrappers = optim(model)
    log = model.train_step(data, wrappers)
    release = preset == 'cakd_release.py'
    assert ('loss_logit' in log) is release
    assert ('loss_cls_token' in log) is release
    assert all(torch.isfinite(v) for v in log.values())
