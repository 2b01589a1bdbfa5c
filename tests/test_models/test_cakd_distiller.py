import copy

import pytest
import torch

from mmcakd.engine import DistillerOptimWrapperConstructor

from .tiny import batch, deit, distiller, swin, vit


def optim(model, d_lr=1e-3):
    return DistillerOptimWrapperConstructor(
        dict(student=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
             discriminator=dict(optimizer=dict(type='Adam', lr=d_lr))))(model)


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@pytest.mark.parametrize('teacher,stage,size,grid,heads', [
    (vit(), 'backbone.layer3', 16, (4, 4), 2),
    (vit(img=32, patch=4), 'backbone.layer2', 32, (8, 8), 2),
    (deit(), 'backbone.layer3', 16, (4, 4), 2),
    (swin(), 'backbone.layer3', 32, (4, 4), 2),
    # Student map larger (16x16 at layer2, 32 px) than the ViT grid (4x4).
    (vit(img=32, patch=8), 'backbone.layer2', 32, (4, 4), 2),
    # Student map smaller (4x4) than the teacher grid (8x8).
    (vit(img=16, patch=2), 'backbone.layer3', 16, (8, 8), 2),
])
def test_shapes_come_from_the_models(teacher, stage, size, grid, heads):
    model = distiller(teacher=teacher, stage=stage)
    assert model.grid == grid
    assert model.pca.num_heads == heads
    model.train()
    data = model.data_preprocessor(batch(size=size), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_cls', 'loss_pca', 'loss_gl', 'loss_adv',
                           'num_labelled'}
    assert all(torch.isfinite(v) for v in losses.values())


def test_components_switch_off():
    assert set(distiller(pca=None, mrt=None).loss(
        **distiller().data_preprocessor(batch(), True))) >= {'loss_cls'}
    for kwargs, keys in [
        (dict(pca=None), {'loss_cls', 'loss_gl', 'loss_adv'}),
        (dict(gl=None, mrt=None), {'loss_cls', 'loss_pca'}),
        (dict(mrt=None), {'loss_cls', 'loss_pca', 'loss_gl'}),
    ]:
        model = distiller(**kwargs).train()
        data = model.data_preprocessor(batch(), True)
        assert set(model(**data, mode='loss')) == keys | {'num_labelled'}
    assert distiller(mrt=None).discriminator is None
    assert distiller(mrt=dict(views=None)).views is None


def test_teacher_is_frozen_for_real():
    model = distiller()
    before = snapshot(model.teacher)
    wrappers = optim(model)
    model.train()
    assert not model.teacher.training
    assert all(not p.requires_grad for p in model.teacher.parameters())
    teacher_params = {id(p) for p in model.teacher.parameters()}
    for wrapper in wrappers.values():
        for group in wrapper.optimizer.param_groups:
            assert not teacher_params & {id(p) for p in group['params']}
    for step in range(4):
        model.train_step(batch(seed=step), wrappers)
    after = snapshot(model.teacher)
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in model.teacher.parameters())


def test_teacher_features_build_no_graph():
    model = distiller().train()
    data = model.data_preprocessor(batch(), True)
    with torch.no_grad():
        t = model.reader(data['inputs'])
    assert not t.tokens.requires_grad and t.q.grad_fn is None


def grads_of(model, loss_name):
    model.zero_grad()
    model.train()
    data = model.data_preprocessor(batch(), True)
    losses = model(**data, mode='loss')
    losses[loss_name].backward()
    backbone = sum(p.grad.abs().sum() for p in
                   model.student.backbone.parameters() if p.grad is not None)
    disc = [p.grad for p in model.discriminator.parameters()]
    return backbone, disc


@pytest.mark.parametrize('name', ['loss_pca', 'loss_gl', 'loss_adv'])
def test_each_distillation_loss_reaches_the_student_but_not_d(name):
    torch.manual_seed(0)
    model = distiller()
    backbone, disc = grads_of(model, name)
    assert backbone > 0
    assert all(g is None for g in disc)


def test_discriminator_loss_reaches_d_only():
    torch.manual_seed(0)
    model = distiller(mrt=dict(d_interval=1))
    wrappers = optim(model)
    d_before = snapshot(model.discriminator)
    student_grads = []
    # Capture D's update: with d_interval=1 every step updates D.
    original = wrappers['discriminator'].update_params

    def update(loss, **kwargs):
        model.student.zero_grad()
        loss.backward(retain_graph=True)
        student_grads.append(
            [p.grad for p in model.student.parameters()])
        assert any(p.grad is not None and p.grad.abs().sum() > 0
                   for p in model.discriminator.parameters())
        model.discriminator.zero_grad()
        original(loss, **kwargs)

    wrappers['discriminator'].update_params = update
    log = model.train_step(batch(), wrappers)
    assert 'loss_disc' in log
    assert all(g is None or g.abs().sum() == 0 for g in student_grads[0])
    after = snapshot(model.discriminator)
    assert any(not torch.equal(d_before[k], after[k]) for k in after)


@pytest.mark.parametrize('d_interval', [1, 3])
def test_discriminator_updated_every_d_interval_steps(d_interval):
    model = distiller(mrt=dict(d_interval=d_interval))
    wrappers = optim(model)
    updated = []
    for step in range(7):
        before = snapshot(model.discriminator)
        log = model.train_step(batch(seed=step), wrappers)
        after = snapshot(model.discriminator)
        changed = any(not torch.equal(before[k], after[k]) for k in after)
        assert changed == ('loss_disc' in log)
        updated.append(changed)
    assert updated == [(s + 1) % d_interval == 0 for s in range(7)]
    assert int(model.num_steps) == 7


def run_losses(seed, steps=3):
    torch.manual_seed(seed)
    model = distiller()
    wrappers = optim(model)
    return [{k: float(v) for k, v in model.train_step(batch(seed=s),
                                                      wrappers).items()}
            for s in range(steps)]


def test_same_seed_same_losses():
    assert run_losses(1) == run_losses(1)
    assert run_losses(1) != run_losses(2)


def test_random_streams_are_saved_and_restored():
    torch.manual_seed(0)
    model = distiller()
    wrappers = optim(model)
    model.train_step(batch(), wrappers)
    state = copy.deepcopy(model.state_dict())
    assert any(k.endswith('random._extra_state') for k in state)
    views_a, _ = model.views(torch.zeros(8, 1, 16, 16) + 1)
    torch.manual_seed(123)  # a different global seed: must not matter
    other = distiller()
    other.load_state_dict(state)
    views_b, _ = other.views(torch.zeros(8, 1, 16, 16) + 1)
    assert torch.equal(views_a, views_b)


def test_every_rank_resumes_its_own_stream(monkeypatch):
    """Rank 1 draws other views than rank 0, and after a resume from the
    checkpoint rank 0 wrote it draws what it would have drawn."""
    from mmcakd.models.utils import seeded_random

    def on_rank(rank):
        monkeypatch.setattr(seeded_random, 'get_rank', lambda: rank)

    images = torch.zeros(16, 1, 16, 16) + 1
    torch.manual_seed(0)
    rank0 = distiller()
    torch.manual_seed(0)
    rank1 = distiller()
    on_rank(0)
    rank0.views(images)
    state = copy.deepcopy(rank0.state_dict())  # the checkpoint
    on_rank(1)
    rank1.views(images)
    torch.manual_seed(1)
    resumed = distiller()
    resumed.load_state_dict(state)
    after = rank1.views(images)[0]
    assert torch.equal(resumed.views(images)[0], after)
    on_rank(0)
    assert not torch.equal(rank0.views(images)[0], after)


def test_eval_mode_predicts_with_the_student():
    model = distiller(eval_teacher=True).eval()
    data = model.data_preprocessor(batch(), False)
    samples = model(**data, mode='predict')
    assert len(samples) == 4
    assert samples[0].pred_score.shape == (5, )
    assert samples[0].teacher_pred_score.shape == (5, )
    torch.testing.assert_close(
        torch.stack([s.pred_score for s in samples]),
        model.student(data['inputs'], mode='tensor').softmax(1))


def test_ramp_weight():
    from mmengine.logging import MessageHub
    model = distiller(ramp=dict(begin=2, end=4, by_epoch=True))
    hub = MessageHub.get_current_instance()
    weights = []
    for epoch in range(6):
        hub.update_info('epoch', epoch)
        weights.append(model.distill_weight())
    assert weights == [0.0, 0.0, 0.0, 0.5, 1.0, 1.0]


def test_teacher_attention_paper_and_block():
    """'paper': Eq. 2 over the patch tokens; 'block': the last block's real
    attention over all tokens (CLS included), read at the patch tokens."""
    paper = distiller(pca=dict(teacher_attn='paper')).train()
    block = distiller(pca=dict(teacher_attn='block')).train()
    block.teacher.load_state_dict(paper.teacher.state_dict())
    inputs = paper.data_preprocessor(batch(), True)['inputs']
    with torch.no_grad():
        t_paper, t_block = paper.reader(inputs), block.reader(inputs)
        last = paper.teacher.backbone.layers[-1]
        captured = {}
        handle = last.attn.register_forward_hook(
            lambda m, a, o: captured.update(x=a[0]))
        paper.teacher(inputs, mode='tensor')
        handle.remove()
        B, L, C = captured['x'].shape
        qkv = last.attn.qkv(captured['x']).reshape(B, L, 3, 2, C // 2)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        full = torch.softmax(q @ k.transpose(-2, -1) / (C // 2)**0.5, -1) @ v
        patch = torch.softmax(q[:, :, 1:] @ k[:, :, 1:].transpose(-2, -1) /
                              (C // 2)**0.5, -1) @ v[:, :, 1:]
    torch.testing.assert_close(t_block.attn, full[:, :, 1:])
    torch.testing.assert_close(t_paper.attn, patch)
    torch.testing.assert_close(t_paper.q, q[:, :, 1:])
    assert not torch.allclose(t_paper.attn, t_block.attn)
    # The teacher's side of the V V^T term, over the patch tokens in both.
    vv = v[:, :, 1:] @ v[:, :, 1:].transpose(-2, -1) / (C // 2)**0.5
    torch.testing.assert_close(t_paper.relation, vv)
    torch.testing.assert_close(t_block.relation, vv)


def test_teacher_relation_only_when_the_vv_term_is_on():
    inputs = batch()
    for pca, wanted in ((dict(), True),
                        (dict(loss=dict(vv_weight=0.0)), False)):
        model = distiller(pca=pca).train()
        assert model.reader.relation is wanted
        t = model.run_teacher(
            model.reader, model.data_preprocessor(inputs, True)['inputs'])
        assert (t.relation is not None) is wanted
        losses = model(**model.data_preprocessor(inputs, True), mode='loss')
        assert torch.isfinite(losses['loss_pca'])


def test_block_attention_is_refused_for_swin():
    with pytest.raises(ValueError, match='teacher_attn'):
        distiller(teacher=swin(), pca=dict(teacher_attn='block'))
    with pytest.raises(ValueError, match='teacher_attn'):
        distiller(pca=dict(teacher_attn='windows'))


def test_timm_student_through_timm_backbone():
    """Any timm CNN plugs in as an mmpretrain TIMMBackbone student."""
    student = dict(
        type='ImageClassifier',
        backbone=dict(type='TIMMBackbone', model_name='resnet18',
                      pretrained=False, in_channels=1),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=5, in_channels=512))
    model = distiller(teacher=vit(img=32, patch=4), student=student,
                      stage='backbone.timm_model.layer2')
    assert model.grid == (8, 8) and model.gl.weight.shape[1] == 128
    wrappers = optim(model)
    log = model.train_step(batch(size=32), wrappers)
    assert {'loss_cls', 'loss_pca', 'loss_gl', 'loss_adv'} <= set(log)


def test_projectors_asking_the_same_teacher_output_in_any_order():
    """What one projector does not ask for never conflicts with what
    another asks: a second PCA entry without the value relation builds in
    either order, and the relation is computed."""
    from .tiny import PROJECTORS
    quiet = dict(PROJECTORS['pca'], loss=dict(type='PCALoss', vv_weight=0.0))
    for first, second in ((PROJECTORS['pca'], quiet),
                          (quiet, PROJECTORS['pca'])):
        model = distiller(projectors=dict(a=first, b=second), mrt=None)
        assert model.reader.relation is True


def test_checkpoint_from_before_the_registry_loads():
    """A release-form checkpoint saved when the class-token projector was
    the attribute ``cls_proj`` loads into the registered ``cls_token``
    entry, strictly."""
    model = distiller(cls_token=dict(), logit=dict())
    state = {(k.replace('cls_token.', 'cls_proj.', 1)
              if k.startswith('cls_token.') else k): v.clone() + 1
             if k.startswith('cls_token.') else v
             for k, v in model.state_dict().items()}
    assert any(k.startswith('cls_proj.') for k in state)
    model.load_state_dict(state, strict=True)
    torch.testing.assert_close(model.cls_token.proj.weight,
                               state['cls_proj.proj.weight'])


def test_a_checkpoint_is_checked_as_mmengine_loads_it():
    """tools/test.py's check (as_loaded + check_fits) sees what mmengine's
    loader loads: a run checkpoint's ``state_dict`` with former attribute
    names and a DDP ``module.`` prefix fits, BN batch counters may be
    absent; weights under another key (``model``), which mmengine would
    not load at all, do not fit."""
    from mmcakd.models.utils import as_loaded, check_fits
    model = distiller(cls_token=dict(), logit=dict())
    state = {'module.' + k.replace('cls_token.', 'cls_proj.', 1): v
             for k, v in model.state_dict().items()
             if not k.endswith('num_batches_tracked')}
    check = dict(source='ckpt', fix='fix', optional=('num_batches_tracked',))
    check_fits(model, as_loaded(model, {'state_dict': state}), **check)
    with pytest.raises(ValueError, match='does not fit the configured model: '
                       r'\d+ missing keys .*; \d+ unexpected keys'):
        check_fits(model, as_loaded(model, {'model': state}), **check)
    with pytest.raises(ValueError, match=r'\d+ missing keys \(e.g. '
                       r'.*num_batches_tracked\)'):
        check_fits(model, as_loaded(model, {'state_dict': state}),
                   source='ckpt', fix='fix')
