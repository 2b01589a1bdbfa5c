import pytest
import torch

from mmcakd.models import GLProjector, PCAProjector
from mmcakd.models.projectors.pca import PartialSubstitution
from mmcakd.models.utils import SeededRandom, align_to_grid


def reference_gl(gl: GLProjector, feat: torch.Tensor) -> torch.Tensor:
    """Eq. 5 written out: one Linear per position, chosen by its group."""
    B, C, H, W = feat.shape
    gw = -(-W // gl.group_size)
    out = []
    for h in range(H):
        for w in range(W):
            g = (h // gl.group_size) * gw + w // gl.group_size
            out.append(feat[:, :, h, w] @ gl.weight[g] + gl.bias[g])
    return torch.stack(out, 1)


@pytest.mark.parametrize('grid,groups', [((7, 7), 4), ((14, 14), 16),
                                         ((6, 10), 6), ((4, 4), 1),
                                         ((1, 3), 1)])
def test_gl_matches_the_per_position_definition(grid, groups):
    gl = GLProjector(5, 12, grid, group_size=4, dropout=0.0)
    assert gl.num_groups == groups
    feat = torch.randn(3, 5, *grid)
    out = gl(feat)
    assert out.shape == (3, grid[0] * grid[1], 12)
    torch.testing.assert_close(out, reference_gl(gl, feat))


def test_gl_groups_do_not_share_weights():
    gl = GLProjector(2, 3, (8, 8), group_size=4, dropout=0.0)
    feat = torch.randn(1, 2, 8, 8)
    gl(feat).sum().backward()
    # Every group's weight gets its own gradient.
    assert (gl.weight.grad.abs().sum(dim=(1, 2)) > 0).all()


def test_gl_refuses_another_grid():
    gl = GLProjector(2, 3, (7, 7))
    with pytest.raises(ValueError, match='grid'):
        gl(torch.randn(1, 2, 14, 14))


@pytest.mark.parametrize('grid', [(7, 7), (14, 14), (3, 5)])
def test_pca_shapes(grid):
    pca = PCAProjector(6, 16, num_heads=4, p=0.5).train()
    N = grid[0] * grid[1]
    teacher_qkv = torch.randn(2, N, 3, 4, 4)  # a qkv linear's layout
    attn, v = pca(torch.randn(2, 6, *grid), teacher_qkv)
    assert attn.shape == v.shape == (2, 4, N, 4)


def test_pca_is_plain_attention_in_eval_and_at_p0():
    feat = torch.randn(2, 6, 3, 3)
    pca = PCAProjector(6, 8, num_heads=2, p=0.0).train()
    q, k, v = pca.project(feat)
    expected = torch.softmax(q @ k.transpose(-2, -1) / 2.0, -1) @ v
    attn, _ = pca(feat, torch.randn(2, 9, 3, 2, 4))
    torch.testing.assert_close(attn, expected)
    pca.p = 1.0
    pca.eval()
    torch.testing.assert_close(pca(feat, torch.randn(2, 9, 3, 2, 4))[0],
                               expected)


def test_pca_substitution_rate_is_p_and_gradients_flow_through_kept():
    torch.manual_seed(0)
    pca = PCAProjector(4, 32, num_heads=4, p=0.3).train()
    feat = torch.randn(4, 4, 7, 7, requires_grad=True)
    qkv_s = pca.project_tokens(feat).detach()
    # A teacher that differs everywhere makes the substituted elements
    # visible: capture g(M) by comparing against the student's own values.
    teacher = torch.full_like(qkv_s, 1e3)
    captured = {}
    original = torch.nn.functional.scaled_dot_product_attention

    def spy(q, k, v):
        captured['mixed'] = torch.stack([q, k, v])
        return original(q, k, v)

    pca.kernel = spy
    attn, _ = pca(feat, teacher)
    rate = (captured['mixed'] == 1e3).float().mean().item()
    assert abs(rate - 0.3) < 0.02
    attn.sum().backward()
    assert feat.grad.abs().sum() > 0


def test_pca_gradient_flows_only_through_kept_elements(monkeypatch):
    pca = PCAProjector(4, 8, num_heads=2, p=0.5).train()
    own = torch.randn(2, 9, 3, 2, 4, requires_grad=True)  # (B, N, 3, h, d)
    monkeypatch.setattr(pca, 'project_tokens', lambda feat: own)
    captured = {}
    original = torch.nn.functional.scaled_dot_product_attention

    def spy(q, k, v):
        captured['mixed'] = torch.stack([q, k, v])  # (3, B, h, N, d)
        return original(q, k, v)

    pca.kernel = spy
    pca(torch.randn(2, 4, 3, 3), torch.full_like(own, 1e3))
    mixed = captured['mixed']
    taken = mixed == 1e3
    assert 0 < taken.sum() < taken.numel()
    weights = torch.randn_like(mixed)
    (mixed * weights).sum().backward()
    expected = torch.where(taken, 0.0, weights).permute(1, 3, 0, 2, 4)
    torch.testing.assert_close(own.grad, expected)


@pytest.mark.parametrize('used', [(0, 1, 2, 3), (0, 1, 2), (2, 3), (3, )])
def test_partial_substitution_matches_autograd_through_lerp(used):
    # The fused function against the composed ops it replaces: the same
    # values, and the same bits of the student's gradient for any subset of
    # outputs used (unused ones get no gradient, as with views).
    torch.manual_seed(0)
    student = torch.randn(3, 10, 3, 2, 4, requires_grad=True)
    teacher = torch.randn(3, 11, 3, 2, 4)[:, 1:]  # a prefix token dropped
    take = SeededRandom().bernoulli(student.shape, 0.5, student.device,
                                    dtype=student.dtype)
    got = PartialSubstitution.apply(student, teacher, take)
    mixed = torch.lerp(student, teacher, take)
    expected = (*mixed.permute(2, 0, 3, 1, 4).unbind(0),
                student[:, :, 2].transpose(1, 2))
    weights = [torch.randn(3, 2, 10, 4) for _ in range(4)]
    for a, b in zip(got, expected):
        assert a.is_contiguous() and torch.equal(a, b)

    def grad(outputs):
        loss = sum((outputs[i] * weights[i]).sum() for i in used)
        return torch.autograd.grad(loss, student)[0]

    torch.testing.assert_close(grad(got), grad(expected), rtol=0, atol=0)


@pytest.mark.parametrize('batch,channels,last_dim_contiguous', [
    (8, 4, True),  # 8 * 7 * 7 = 392 positions > 4 * 9 weights per channel
    (2, 16, False),  # 98 positions < 144 weights per channel
])
def test_pca_conv_layout_changes_nothing(batch, channels,
                                         last_dim_contiguous):
    # The conv runs channels-last when its output is larger than its weight
    # (per output channel), else in the standard layout: the tokens and
    # the gradients are the same either way (up to rounding), and in the
    # first case the tokens are already contiguous.
    torch.manual_seed(0)
    pca = PCAProjector(channels, 8, num_heads=2)
    feat = torch.randn(batch, channels, 7, 7, requires_grad=True)
    tokens = pca.project_tokens(feat)
    grad = torch.randn_like(tokens)
    params = (feat, pca.qkv.weight, pca.qkv.bias)
    got = torch.autograd.grad(tokens, params, grad)
    expected = torch.nn.functional.conv2d(
        feat, pca.qkv.weight, pca.qkv.bias, padding=1)
    expected = expected.flatten(2).transpose(1, 2).reshape(batch, 49, 3, 2,
                                                           4)
    torch.testing.assert_close(tokens, expected)
    for a, b in zip(got, torch.autograd.grad(expected, params, grad)):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
    assert tokens.is_contiguous() == last_dim_contiguous


def test_pca_rejects_p_outside_unit_interval():
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r'^p='):
            PCAProjector(4, 8, 2, p=p)


@pytest.mark.parametrize('size,grid', [((14, 14), (7, 7)), ((4, 4), (7, 7)),
                                       ((7, 7), (7, 7)), ((28, 20), (7, 5)),
                                       ((3, 9), (6, 6))])
def test_align_to_teacher_grid(size, grid):
    feat = torch.randn(2, 3, *size)
    out = align_to_grid(feat, grid)
    assert out.shape == (2, 3, *grid)
    if size == grid:
        assert out is feat


def test_align_pools_a_larger_map():
    feat = torch.arange(16.).view(1, 1, 4, 4)
    out = align_to_grid(feat, (2, 2))
    assert out.flatten().tolist() == [2.5, 4.5, 10.5, 12.5]


def test_align_pools_the_longer_axis_and_upsamples_the_shorter():
    feat = torch.randn(2, 3, 14, 3)
    out = align_to_grid(feat, (7, 3))
    torch.testing.assert_close(out, (feat[:, :, 0::2] + feat[:, :, 1::2]) / 2)
    mixed = align_to_grid(feat, (7, 6))
    torch.testing.assert_close(
        mixed,
        torch.nn.functional.interpolate(
            out, size=(7, 6), mode='bilinear', align_corners=False))


def test_a_new_projector_is_one_registered_class():
    """What docs/new_models.md shows: a projector of one's own is one
    registered class and a config entry; MRT judges its tokens."""
    from torch import nn

    from mmcakd.engine import DistillerOptimWrapperConstructor
    from mmcakd.models.projectors import BaseProjector
    from mmcakd.registry import PROJECTORS
    from .tiny import batch, distiller, projectors

    @PROJECTORS.register_module()
    class ConvTokenProjector(BaseProjector):
        targets = ('tokens', )
        gives_tokens = True
        default_loss = dict(type='GLLoss', loss_weight=0.05)

        def __init__(self, in_channels, embed_dims):
            super().__init__()
            self.conv = nn.Conv2d(in_channels, embed_dims, 1)

        @classmethod
        def shape_args(cls, student, teacher):
            return dict(in_channels=student.shape[1],
                        embed_dims=teacher.tokens.shape[-1])

        def forward(self, feat):
            return self.conv(feat).flatten(2).transpose(1, 2)

    try:
        model = distiller(projectors=dict(
            projectors(gl=None), conv=dict(type='ConvTokenProjector')))
        assert model.conv.conv.in_channels == 32  # the student's layer3
        assert model.conv.conv.out_channels == 32  # the teacher's width
        wrappers = DistillerOptimWrapperConstructor(dict(
            student=dict(optimizer=dict(type='SGD', lr=0.1)),
            discriminator=dict(optimizer=dict(type='Adam', lr=1e-3))))(model)
        before = model.conv.conv.weight.detach().clone()
        log = model.train_step(batch(), wrappers)
        log = model.train_step(batch(seed=1), wrappers)
        assert {'loss_pca', 'loss_conv', 'loss_adv', 'loss_disc'} <= set(log)
        assert not torch.equal(before, model.conv.conv.weight)
    finally:
        PROJECTORS.module_dict.pop('ConvTokenProjector')
