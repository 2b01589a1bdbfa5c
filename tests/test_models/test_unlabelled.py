"""Unlabelled samples: no CE in any distiller, every distillation term.

And the views as plain augmentation for every baseline (equal-view
controls), through the base distiller's ``views``.
"""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmcakd.models.losses import UNLABELLED, LabelledOnlyLoss
from mmcakd.registry import MODELS
from .test_baselines import DP, METHODS
from .tiny import projectors, resnet, vit

CAKD = dict(type='CAKDDistiller', student_stage='backbone.layer3',
            mrt=dict(d_interval=2),
            projectors=projectors(logit=dict(loss=dict(form='mse')),
                                  cls_token=dict()))
ALL = dict({k: v[0] for k, v in METHODS.items()}, cakd=CAKD)
LABELLED = torch.tensor([True, False, True, False])


def build(method, **kwargs):
    cfg = dict(ALL[method], teacher=vit(), student=resnet(),
               data_preprocessor=DP)
    cfg.update(kwargs)
    torch.manual_seed(0)
    return MODELS.build(copy.deepcopy(cfg))


def partly_labelled(labels=(3, 1, 4, 2)):
    """A preprocessed batch of 4 whose samples 1 and 3 are unlabelled."""
    g = torch.Generator().manual_seed(0)
    samples = [DataSample().set_gt_label(y if keep else UNLABELLED)
               for y, keep in zip(labels, LABELLED)]
    return dict(inputs=torch.rand(4, 1, 16, 16, generator=g),
                data_samples=samples)


def test_labelled_only_loss_is_ce_over_the_labelled():
    z = torch.randn(4, 5)
    y = torch.tensor([3, UNLABELLED, 4, UNLABELLED])
    ce = MODELS.build(dict(type='mmpretrain.CrossEntropyLoss'))
    got = LabelledOnlyLoss(ce)(z, y, avg_factor=4)
    assert torch.allclose(got, F.cross_entropy(z[[0, 2]], y[[0, 2]]))
    none = torch.full((4, ), UNLABELLED)
    assert LabelledOnlyLoss(ce)(z, none, avg_factor=4) == 0
    # Fully labelled: exactly the wrapped loss.
    y = torch.tensor([3, 1, 4, 2])
    assert torch.allclose(LabelledOnlyLoss(ce)(z, y, avg_factor=4),
                          ce(z, y, avg_factor=4))


@pytest.mark.parametrize('method', list(ALL))
def test_no_label_of_an_unlabelled_sample_reaches_a_loss(method):
    """CE gets gradient only from labelled samples, the distillation terms
    from all; the log counts the labelled ones."""
    model = build(method)
    # Eval mode: BatchNorm's running statistics, so that samples are not
    # coupled through the batch statistics (the gradient then tells
    # exactly which sample a loss reads).
    model.eval()
    data = partly_labelled()
    inputs = data['inputs'].requires_grad_()
    losses = model.loss(inputs, data['data_samples'])
    assert losses['num_labelled'] == 2
    ce = losses['loss_cls']
    grad, = torch.autograd.grad(ce, inputs, retain_graph=True)
    per_sample = grad.abs().flatten(1).sum(1)
    assert (per_sample[~LABELLED] == 0).all() and (per_sample[LABELLED] > 0
                                                   ).all()
    # CE equals the head's CE over the labelled samples alone.
    with torch.no_grad():
        logits = model.student(inputs, mode='tensor')
    weight = getattr(model, 'ce_weight', 1.0)
    expected = weight * F.cross_entropy(logits[LABELLED],
                                        torch.tensor([3, 4]))
    assert torch.allclose(ce, expected, atol=1e-6)
    distill = sum(v for k, v in losses.items()
                  if k.startswith('loss_') and k != 'loss_cls'
                  and v.requires_grad)
    grad, = torch.autograd.grad(distill, inputs, allow_unused=True)
    assert (grad.abs().flatten(1).sum(1)[~LABELLED] > 0).all()


@pytest.mark.parametrize('method', ['dkd', 'ofa'])
def test_label_aware_losses_take_the_teachers_class_when_unlabelled(
        method):
    model = build(method)
    data = partly_labelled()
    logits_t = torch.randn(4, 5)
    target = model.targets(data['data_samples'], logits_t)
    assert target.tolist() == [3, int(logits_t[1].argmax()), 4,
                               int(logits_t[3].argmax())]


@pytest.mark.parametrize('method', list(METHODS))
@pytest.mark.parametrize('teacher_view', ['clean', 'same'])
def test_every_baseline_trains_on_the_views(method, teacher_view):
    """``views`` makes the student see the multi-view generator's views
    and the teacher its ``teacher_view`` input, as in CAKD."""
    model = build(method, views=dict(prob=1.0, teacher_view=teacher_view))
    model.train()
    seen = {}
    hooks = [
        part.register_forward_pre_hook(
            lambda m, args, name=name: seen.setdefault(name, args[0]))
        for name, part in (('student', model.student.backbone),
                           ('teacher', model.teacher.backbone))
    ]
    data = partly_labelled()
    model.loss(data['inputs'], data['data_samples'])
    for hook in hooks:
        hook.remove()
    assert not torch.equal(seen['student'], data['inputs'])
    if teacher_view == 'same':
        assert torch.equal(seen['teacher'], seen['student'])
    else:
        assert torch.equal(seen['teacher'], data['inputs'])
    # Evaluation sees clean images.
    model.eval()
    seen.clear()
    hook = model.student.backbone.register_forward_pre_hook(
        lambda m, args: seen.setdefault('student', args[0]))
    model.predict(data['inputs'], data['data_samples'])
    hook.remove()
    assert torch.equal(seen['student'], data['inputs'])
