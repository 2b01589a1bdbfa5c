"""The corruption families of the robustness test, on tiny batches.

Every family: deterministic, shape and float dtype kept, range [0, 255],
the image changed, more damage at each stronger severity. Plus what makes
single families what they are, and the CLI's refusal of an unknown family.
"""
import os
import subprocess

import pytest
import torch

from mmcakd.evaluation import (FAMILIES, GROUP_NAMES, GROUPS, SEVERITIES,
                               check_families, corrupt)

from ..conftest import PYTHON, ROOT

RANDOM = ('gaussian_noise', 'occlusion', 'salt_pepper', 'elastic')


@pytest.fixture
def images() -> torch.Tensor:
    """(4, 1, 28, 28) uniform noise in [0, 255]: every family changes it."""
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (4, 1, 28, 28), generator=g).float()


@pytest.fixture
def shapes() -> torch.Tensor:
    """(4, 1, 28, 28) bright rectangles on black, like Fashion-MNIST: flat
    regions and sharp edges, where noise-like images would hide blur. Edges
    at odd pixels, so that no pixelate block grid lines up with them."""
    x = torch.zeros(4, 1, 28, 28)
    for i, (t, b, l, r) in enumerate([(5, 23, 7, 21), (3, 25, 5, 23),
                                      (7, 21, 9, 19), (9, 19, 3, 25)]):
        x[i, :, t:b, l:r] = 60.0 * (i + 1)
    return x


def test_table_is_consistent():
    assert set(SEVERITIES) == set(GROUPS) == set(FAMILIES)
    assert set(GROUPS.values()) == set(GROUP_NAMES)
    assert {n for n, g in GROUPS.items() if g == 'seen'} == {
        'gaussian_noise', 'gaussian_blur', 'contrast', 'occlusion'}
    assert {'jpeg', 'pixelate', 'salt_pepper', 'motion_blur',
            'elastic'} <= {n for n, g in GROUPS.items() if g == 'held_out'}
    assert all(len(levels) == 3 for levels in SEVERITIES.values())


@pytest.mark.parametrize('name', list(FAMILIES))
@pytest.mark.parametrize('fixture', ['images', 'shapes'])
def test_deterministic_bounded_and_graded(name, fixture, request):
    x = request.getfixturevalue(fixture)
    damage = []
    for level in SEVERITIES[name]:
        a = corrupt(x, name, level, batch_index=3)
        b = corrupt(x, name, level, batch_index=3)
        assert torch.equal(a, b)
        assert a.shape == x.shape and a.dtype == torch.float32
        assert a.min() >= 0 and a.max() <= 255
        damage.append((a - x).abs().mean().item())
    # Stronger severities change the images more, and the mildest already
    # changes them.
    assert damage[0] > 0
    assert damage == sorted(damage), damage


def test_integer_input_gives_float(images):
    out = corrupt(images.to(torch.uint8), 'pixelate', 0.5, batch_index=0)
    assert out.dtype == torch.float32


@pytest.mark.parametrize('name', RANDOM)
def test_random_families_differ_between_batches(images, name):
    level = SEVERITIES[name][1]
    a = corrupt(images, name, level, batch_index=0)
    b = corrupt(images, name, level, batch_index=1)
    assert not torch.equal(a, b)


@pytest.mark.parametrize('name', sorted(set(FAMILIES) - set(RANDOM)))
def test_deterministic_families_ignore_the_batch(images, name):
    level = SEVERITIES[name][1]
    assert torch.equal(corrupt(images, name, level, batch_index=0),
                       corrupt(images, name, level, batch_index=1))


def test_occlusion_blacks_out_a_square(images):
    out = corrupt(images + 1, 'occlusion', 0.5, batch_index=0)
    zeros = (out == 0).flatten(1).sum(1)
    assert (zeros == 14 * 14).all()


def test_jpeg_high_quality_is_close_to_identity(shapes):
    out = corrupt(shapes, 'jpeg', 95, batch_index=0)
    assert (out - shapes).abs().mean() < 2.0
    assert (out - shapes).abs().mean() < (
        corrupt(shapes, 'jpeg', 5, batch_index=0) - shapes).abs().mean()


def test_jpeg_colour_images(shapes):
    rgb = shapes.repeat(1, 3, 1, 1)
    out = corrupt(rgb, 'jpeg', 50, batch_index=0)
    assert out.shape == rgb.shape
    with pytest.raises(ValueError, match='1 or 3 channels'):
        corrupt(shapes.repeat(1, 2, 1, 1), 'jpeg', 50, batch_index=0)


def test_pixelate_is_piecewise_constant_on_blocks(images):
    # 0.25 of 28 is 7: blocks of 4 x 4 pixels, each the block's mean.
    out = corrupt(images, 'pixelate', 0.25, batch_index=0)
    blocks = out.view(4, 1, 7, 4, 7, 4)
    assert torch.equal(blocks, blocks[:, :, :, :1, :, :1].expand_as(blocks))
    means = images.view(4, 1, 7, 4, 7, 4).mean(dim=(3, 5))
    assert torch.allclose(blocks[:, :, :, 0, :, 0], means, atol=1e-3)


def test_salt_pepper_sets_extremes(shapes):
    x = shapes.clamp(1, 254)  # no pixel is 0 or 255 before
    out = corrupt(x, 'salt_pepper', 0.1, batch_index=0)
    hit = out != x
    assert torch.all((out[hit] == 0) | (out[hit] == 255))
    assert 0.05 < hit.float().mean() < 0.15
    assert (out == 0).any() and (out == 255).any()


def test_motion_blur_is_horizontal():
    # Full-width rows are invariant under a row blur; full-height columns
    # smear sideways.
    x = torch.zeros(1, 1, 28, 28)
    x[..., 10:12, :] = 200.0
    assert torch.allclose(corrupt(x, 'motion_blur', 5, batch_index=0), x)
    y = x.transpose(-1, -2)
    assert not torch.allclose(corrupt(y, 'motion_blur', 5, batch_index=0), y)


def test_elastic_keeps_a_constant_image():
    # A warp only moves pixels: a constant image stays constant.
    x = torch.full((2, 1, 28, 28), 77.0)
    assert torch.allclose(corrupt(x, 'elastic', 3.0, batch_index=0), x)


def test_unknown_family_raises_naming_it(images):
    with pytest.raises(ValueError, match="unknown corruption 'snow'") as err:
        corrupt(images, 'snow', 1, batch_index=0)
    assert len(str(err.value).splitlines()) == 1
    assert all(name in str(err.value) for name in FAMILIES)
    with pytest.raises(ValueError, match="'fog'"):
        check_families(['jpeg', 'fog'])
    assert check_families(['jpeg', 'elastic']) == ['jpeg', 'elastic']


def test_cli_refuses_unknown_corruption(tmp_path):
    # Exits before building anything: the config and checkpoint need not
    # exist, and the output folder is not created.
    out = tmp_path / 'out'
    proc = subprocess.run(
        [PYTHON, 'tools/analysis_tools/robustness.py', 'no_config.py',
         'no_ckpt.pth', '--out-dir', str(out), '--corruptions', 'jpeg',
         'snow'], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert 'Traceback' not in proc.stderr, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith('error: ') and "'snow'" in lines[0]
    assert all(name in lines[0] for name in FAMILIES)
    assert proc.stdout == ''
    assert not out.exists()
