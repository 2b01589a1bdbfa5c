"""The baseline methods: each loss against explicit formulas on small cases,
each distiller built from tiny real models, one training step, gradient
paths, and bad options refused at build time."""
import copy
import itertools
import math

import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.logging import MessageHub

from mmcakd.engine import DistillerOptimWrapperConstructor
from mmcakd.models.losses import (DKDLoss, FitNetLoss, KDLoss, OFALoss,
                                  RKDLoss)
from mmcakd.registry import MODELS

from .tiny import batch, deit, resnet, swin, vit

# ---------------------------------------------------------------- helpers


def softmax(z, T=1.0):
    e = [math.exp(v / T) for v in z]
    return [v / sum(e) for v in e]


def kl(p, q):
    """KL(p || q) of two probability lists."""
    return sum(a * math.log(a / b) for a, b in zip(p, q) if a > 0)


def huber(x):
    return 0.5 * x * x if abs(x) < 1 else abs(x) - 0.5


def close(tensor, value, tol=1e-5):
    got = float(torch.as_tensor(tensor).detach())
    assert abs(got - value) < tol, (got, value)


Z_S = [[1.0, 2.0, 0.0], [0.5, -1.0, 3.0]]
Z_T = [[2.0, 0.0, 1.0], [0.0, 1.0, 4.0]]
Y = [0, 2]

# ---------------------------------------------------------------- losses


def test_kd_loss_by_hand():
    T, w = 2.0, 0.7
    expected = sum(
        kl(softmax(t, T), softmax(s, T)) for s, t in zip(Z_S, Z_T)) / 2
    loss = KDLoss(temperature=T, loss_weight=w)(
        torch.tensor(Z_S), torch.tensor(Z_T))
    close(loss, w * T**2 * expected)
    # Equal logits: nothing to learn.
    close(KDLoss()(torch.tensor(Z_T), torch.tensor(Z_T)), 0.0)


def test_dkd_loss_by_hand():
    """TCKD on (p_y, 1 - p_y), NCKD on p_c / (1 - p_y) for c != y."""
    alpha, beta, T = 0.5, 3.0, 2.0
    total = 0.0
    for s, t, y in zip(Z_S, Z_T, Y):
        p_s, p_t = softmax(s, T), softmax(t, T)
        tckd = kl([p_t[y], 1 - p_t[y]], [p_s[y], 1 - p_s[y]])
        rest_s = [p / (1 - p_s[y]) for c, p in enumerate(p_s) if c != y]
        rest_t = [p / (1 - p_t[y]) for c, p in enumerate(p_t) if c != y]
        total += alpha * tckd + beta * kl(rest_t, rest_s)
    loss = DKDLoss(alpha=alpha, beta=beta, temperature=T)(
        torch.tensor(Z_S), torch.tensor(Z_T), torch.tensor(Y))
    close(loss, T**2 * total / 2)


def test_dkd_reformulates_kd():
    """DKD paper Eq. 5: KD = TCKD + (1 - p_t^y) NCKD, for one sample."""
    s, t, y, T = torch.tensor([Z_S[1]]), torch.tensor([Z_T[1]]), 2, 3.0
    p_t_y = softmax(Z_T[1], T)[y]
    dkd = DKDLoss(alpha=1.0, beta=1 - p_t_y, temperature=T)(
        s, t, torch.tensor([y]))
    close(dkd, float(KDLoss(temperature=T)(s, t)))


def test_ofa_loss_by_hand():
    """Release: -sum_c ((p_t^c + 1_y^c)^eps - 1_y^c) log p_s^c."""
    eps, T, w = 1.5, 2.0, 0.8
    total = 0.0
    for s, t, y in zip(Z_S, Z_T, Y):
        p_s, p_t = softmax(s, T), softmax(t, T)
        for c in range(3):
            weight = (1 + p_t[c])**eps - 1 if c == y else p_t[c]**eps
            total -= weight * math.log(p_s[c])
    loss = OFALoss(eps=eps, temperature=T, loss_weight=w)(
        torch.tensor(Z_S), torch.tensor(Z_T), torch.tensor(Y))
    close(loss, w * total / 2)


def test_ofa_with_eps_one_is_cross_entropy_to_the_teacher():
    """eps = 1: CE(p_t, p_s) = KL(p_t || p_s) + H(p_t), i.e. KD at T=1."""
    s, t, y = torch.tensor(Z_S), torch.tensor(Z_T), torch.tensor(Y)
    entropy = sum(-p * math.log(p) for z in Z_T for p in softmax(z)) / 2
    close(OFALoss(eps=1.0)(s, t, y),
          float(KDLoss(temperature=1.0)(s, t)) + entropy)


def test_fitnet_loss_by_hand():
    hint = torch.tensor([[[1.0, 2.0], [0.0, 0.0]]])  # (B=1, N=2, C=2)
    tokens = torch.tensor([[[0.0, 0.0], [0.0, 3.0]]])
    close(FitNetLoss(loss_weight=2.0)(hint, tokens),
          2.0 * (1 + 4 + 0 + 9) / 4)


def rkd_by_hand(s, t, w_d, w_a):
    """The release's RKD with explicit loops over pairs and triples."""
    B = len(s)

    def dist(e):
        d = [[math.dist(e[i], e[j]) for j in range(B)] for i in range(B)]
        mean = sum(d[i][j] for i in range(B) for j in range(B) if i != j) / (
            B * (B - 1))
        return [[v / mean for v in row] for row in d]

    def angle(e, i, j, k):
        """cos of the angle at e_i between e_j and e_k (0 if degenerate)."""
        u = [a - b for a, b in zip(e[j], e[i])]
        v = [a - b for a, b in zip(e[k], e[i])]
        nu, nv = math.hypot(*u), math.hypot(*v)
        if nu == 0 or nv == 0:
            return 0.0
        return sum(a * b for a, b in zip(u, v)) / (nu * nv)

    ds, dt = dist(s), dist(t)
    loss_d = sum(huber(ds[i][j] - dt[i][j])
                 for i in range(B) for j in range(B)) / B**2
    loss_a = sum(huber(angle(s, i, j, k) - angle(t, i, j, k))
                 for i, j, k in itertools.product(range(B), repeat=3)) / B**3
    return w_d * loss_d + w_a * loss_a


def test_rkd_loss_by_hand():
    s = [[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [0.0, 3.0]]  # D_s = 2
    t = [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0],
         [1.0, 1.0, 1.0]]  # D_t = 3: widths may differ
    loss = RKDLoss(distance_weight=25.0, angle_weight=50.0)(
        torch.tensor(s), torch.tensor(t))
    close(loss, rkd_by_hand(s, t, 25.0, 50.0), tol=1e-4)
    close(RKDLoss(distance_weight=1.0, angle_weight=0.0)(
        torch.tensor(s), torch.tensor(t)), rkd_by_hand(s, t, 1.0, 0.0))


def test_rkd_ignores_scale_rotation_and_translation():
    torch.manual_seed(0)
    t = torch.randn(6, 4)
    rot, _ = torch.linalg.qr(torch.randn(4, 4))
    s = 3.0 * t @ rot + 1.0
    close(RKDLoss()(s, t), 0.0, tol=1e-4)
    assert float(RKDLoss()(torch.randn(6, 4), t)) > 0


def test_rkd_single_sample_batch_is_zero_but_connected():
    s = torch.randn(1, 4, requires_grad=True)
    loss = RKDLoss()(s, torch.randn(1, 8))
    assert float(loss.detach()) == 0.0 and loss.requires_grad


@pytest.mark.parametrize('loss', [KDLoss, DKDLoss, OFALoss])
def test_teacher_logits_get_no_gradient(loss):
    s = torch.tensor(Z_S, requires_grad=True)
    t = torch.tensor(Z_T, requires_grad=True)
    loss()(s, t, torch.tensor(Y)).backward()
    assert s.grad.abs().sum() > 0
    assert t.grad is None


# ---------------------------------------------------------------- distillers

DP = dict(num_classes=5, mean=[0.0], std=[1.0])
STAGES = ['backbone.layer1', 'backbone.layer2', 'backbone.layer3']
METHODS = {
    'kd': (dict(type='LogitDistiller',
                distill_loss=dict(type='KDLoss', temperature=2.0,
                                  loss_weight=0.7), ce_weight=0.3),
           {'loss_cls', 'loss_kd'}),
    'dkd': (dict(type='LogitDistiller', distill_loss=dict(type='DKDLoss')),
            {'loss_cls', 'loss_dkd'}),
    'fitnet': (dict(type='FitNetDistiller', student_stage='backbone.layer3'),
               {'loss_cls', 'loss_fitnet'}),
    'rkd': (dict(type='RKDDistiller'), {'loss_cls', 'loss_rkd'}),
    'ofa': (dict(type='OFADistiller', stages=STAGES,
                 distill_loss=dict(type='OFALoss', eps=1.5)),
            {'loss_cls', 'loss_ofa', 'loss_ofa_exits'}),
}
# The method's own trainable parts (dropped after training).
PROJECTIONS = {'fitnet': 'regressor', 'ofa': 'exits'}


def build(method, teacher=None, **kwargs):
    cfg = dict(METHODS[method][0], teacher=teacher or vit(),
               student=resnet(), data_preprocessor=DP)
    cfg.update(kwargs)
    return MODELS.build(copy.deepcopy(cfg))


def optim(model):
    return DistillerOptimWrapperConstructor(
        dict(student=dict(optimizer=dict(type='SGD', lr=0.1,
                                         momentum=0.9))))(model)


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@pytest.mark.parametrize('method', list(METHODS))
@pytest.mark.parametrize('teacher,size', [(vit(), 16), (deit(), 16),
                                          (swin(), 32)])
def test_one_training_step(method, teacher, size):
    torch.manual_seed(0)
    model = build(method, teacher)
    wrappers = optim(model)
    teacher_params = {id(p) for p in model.teacher.parameters()}
    optimised = {id(p) for g in wrappers['student'].optimizer.param_groups
                 for p in g['params']}
    assert not teacher_params & optimised
    if method in PROJECTIONS:
        part = getattr(model, PROJECTIONS[method])
        assert {id(p) for p in part.parameters()} <= optimised
    before_t, before_s = snapshot(model.teacher), snapshot(model.student)
    log = model.train_step(batch(size=size), wrappers)
    assert set(log) == METHODS[method][1] | {'loss', 'num_labelled'}
    assert all(torch.isfinite(v) for v in log.values())
    after_t, after_s = snapshot(model.teacher), snapshot(model.student)
    assert all(torch.equal(before_t[k], after_t[k]) for k in before_t)
    assert any(not torch.equal(before_s[k], after_s[k]) for k in before_s)
    assert not model.teacher.training


@pytest.mark.parametrize('method', list(METHODS))
def test_distillation_term_reaches_student_and_projection_not_teacher(
        method):
    torch.manual_seed(0)
    model = build(method).train()
    data = model.data_preprocessor(batch(), True)
    losses = model(**data, mode='loss')
    term = sum(v for k, v in losses.items() if k != 'loss_cls')
    term.backward()
    backbone = sum(p.grad.abs().sum()
                   for p in model.student.backbone.parameters()
                   if p.grad is not None)
    assert backbone > 0
    if method in PROJECTIONS:
        part = getattr(model, PROJECTIONS[method])
        assert all(p.grad is not None and p.grad.abs().sum() > 0
                   for p in part.parameters() if p.dim() > 1)
    assert all(p.grad is None for p in model.teacher.parameters())


def test_plain_optim_wrapper_works():
    """A single optimizer given as a plain OptimWrapper."""
    model = build('kd')
    params = [p for n, p in model.named_parameters()
              if not n.startswith('teacher.')]
    wrapper = OptimWrapper(torch.optim.SGD(params, lr=0.1))
    log = model.train_step(batch(), wrapper)
    assert {'loss_cls', 'loss_kd'} <= set(log)


def test_kd_weights_and_ramp():
    """loss_cls is ce_weight * CE; the ramp scales the distillation term."""
    torch.manual_seed(0)
    model = build('kd', ramp=dict(begin=1, end=3, by_epoch=True)).train()
    data = model.data_preprocessor(batch(), True)
    hub = MessageHub.get_current_instance()
    hub.update_info('epoch', 0)
    losses = model(**data, mode='loss')
    assert float(losses['loss_kd'].detach()) == 0.0
    ce = model.student(data['inputs'], data['data_samples'], mode='loss')
    close(losses['loss_cls'], 0.3 * float(ce['loss'].detach()))
    hub.update_info('epoch', 2)
    logits_s = model.student(data['inputs'], mode='tensor')
    logits_t = model.teacher(data['inputs'], mode='tensor')
    expected = 0.5 * float(KDLoss(2.0, 0.7)(logits_s, logits_t).detach())
    close(model(**data, mode='loss')['loss_kd'], expected)
    hub.update_info('epoch', 0)


def test_logit_distiller_uses_the_labels():
    """DKD's and OFA's target class is the sample's label."""
    torch.manual_seed(0)
    model = build('dkd').train()
    data = model.data_preprocessor(batch(), True)
    labels = model.targets(data['data_samples'])
    assert labels.tolist() == [0, 1, 2, 3]
    logits_s = model.student(data['inputs'], mode='tensor')
    logits_t = model.teacher(data['inputs'], mode='tensor')
    expected = DKDLoss()(logits_s, logits_t, labels)
    hub = MessageHub.get_current_instance()
    hub.update_info('epoch', 0)
    close(model(**data, mode='loss')['loss_dkd'], expected)


def test_ofa_exits_follow_the_release():
    """SepConvs down to the last stage's resolution, width max(C_S, C_T)."""
    model = build('ofa', teacher=vit(dims=48))
    branches = model.exits.branches
    assert len(branches) == 3
    # Tiny ResNet at 16 px: layer1 16x16, layer2 8x8, layer3 4x4 (32 ch).
    sepconvs = [sum(1 for m in b if isinstance(m, torch.nn.Sequential))
                for b in branches]
    assert sepconvs == [2, 1, 0]
    assert isinstance(branches[2][0], torch.nn.Conv2d)  # 1x1 at 4x4
    assert all(b[-1].in_features == 48 for b in branches)  # max(32, 48)
    assert all(b[-1].out_features == 5 for b in branches)
    feats = [torch.zeros(2, 8, 16, 16), torch.zeros(2, 16, 8, 8),
             torch.zeros(2, 32, 4, 4)]
    assert [z.shape for z in model.exits(feats)] == [(2, 5)] * 3


def test_fitnet_aligns_to_the_teacher_grid():
    # Student layer2 is 16x16 at 32 px; the teacher's grid is 4x4.
    model = build('fitnet', teacher=vit(img=32, patch=8),
                  student_stage='backbone.layer2')
    assert model.grid == (4, 4)
    assert tuple(model.regressor.weight.shape) == (32, 16, 1, 1)
    log = model.train_step(batch(size=32), optim(model))
    assert torch.isfinite(log['loss_fitnet'])


def test_rkd_works_with_a_cnn_teacher():
    """RKD and logit KD need no Transformer teacher (input_size given)."""
    for method in ('rkd', 'kd'):
        model = build(method, teacher=resnet(width=16), input_size=(1, 16, 16))
        assert torch.isfinite(model.train_step(batch(), optim(model))['loss'])


def test_predict_evaluates_the_student():
    model = build('ofa', eval_teacher=True).eval()
    data = model.data_preprocessor(batch(), False)
    samples = model(**data, mode='predict')
    torch.testing.assert_close(
        torch.stack([s.pred_score for s in samples]),
        model.student(data['inputs'], mode='tensor').softmax(1))
    assert samples[0].teacher_pred_score.shape == (5, )


# ---------------------------------------------------------------- bad options


@pytest.mark.parametrize('loss,match', [
    (dict(type='KDLoss', temperature=0), 'temperature'),
    (dict(type='KDLoss', temperature=-1.0), 'temperature'),
    (dict(type='KDLoss', loss_weight=-0.5), 'loss_weight'),
    (dict(type='DKDLoss', alpha=-1), 'alpha'),
    (dict(type='DKDLoss', beta='8'), 'beta'),
    (dict(type='DKDLoss', temperature=0.0), 'temperature'),
    (dict(type='OFALoss', eps=0), 'eps'),
    (dict(type='OFALoss', temperature=0), 'temperature'),
    (dict(type='FitNetLoss', loss_weight=float('nan')), 'loss_weight'),
    (dict(type='RKDLoss', distance_weight=-25), 'distance_weight'),
    (dict(type='RKDLoss', angle_weight=-1), 'angle_weight'),
])
def test_bad_loss_options(loss, match):
    with pytest.raises(ValueError, match=match):
        MODELS.build(loss)


@pytest.mark.parametrize('method,kwargs,match', [
    ('kd', dict(ce_weight=-1), 'ce_weight'),
    ('kd', dict(distill_loss=dict(type='KDLoss', temperature=0)),
     r'distill_loss\.temperature'),
    ('kd', dict(distill_loss=dict(type='NoSuchLoss')), 'distill_loss.type'),
    ('kd', dict(distill_loss=None), 'distill_loss'),
    ('kd', dict(ramp=dict(begin=3, end=1)), 'ramp'),
    ('kd', dict(student=resnet(classes=7)), 'classes'),
    ('dkd', dict(distill_loss=dict(type='DKDLoss', beta=-1)), 'beta'),
    ('ofa', dict(stages=['backbone.layer9']), 'stages'),
    ('ofa', dict(stages=[]), 'stages'),
    ('ofa', dict(stages='backbone.layer1'), 'stages'),
    ('ofa', dict(stages=['backbone.layer1', 'backbone.layer1']), 'stages'),
    ('ofa', dict(stages=['neck']), 'stages'),
    ('ofa', dict(exit_weight=-1), 'exit_weight'),
    ('ofa', dict(distill_loss=dict(type='OFALoss', eps=-1.0)), 'eps'),
    ('fitnet', dict(student_stage='backbone.layer7'), 'student_stage'),
    ('fitnet', dict(student_stage=None), 'student_stage'),
    ('fitnet', dict(student_stage='neck'), 'student_stage'),
    ('fitnet', dict(input_size=(16, 16)), 'input_size'),
    ('rkd', dict(student_stage='backbone.nope'), 'student_stage'),
])
def test_bad_distiller_options(method, kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        build(method, **kwargs)
    assert '\n' not in str(info.value)


def test_fitnet_needs_a_token_teacher():
    with pytest.raises(TypeError, match='FitNet reads the token grid'):
        build('fitnet', teacher=resnet(width=16), input_size=(1, 16, 16))


def test_logit_distiller_refuses_a_stage():
    from mmcakd.registry import MODELS
    from .tiny import resnet, vit
    with pytest.raises(ValueError, match='student_stage: a logit'):
        MODELS.build(dict(type='LogitDistiller', teacher=vit(),
                          student=resnet(), student_stage='backbone.layer3',
                          data_preprocessor=DP))
