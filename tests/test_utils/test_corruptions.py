import pytest
import torch

from mmcakd.evaluation import SEVERITIES, corrupt


@pytest.fixture
def images():
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (4, 1, 28, 28), generator=g).float()


@pytest.mark.parametrize('name', sorted(SEVERITIES))
def test_corruptions_are_deterministic_bounded_and_graded(images, name):
    damage = []
    for level in SEVERITIES[name]:
        a = corrupt(images, name, level, batch_index=3)
        b = corrupt(images, name, level, batch_index=3)
        assert torch.equal(a, b)
        assert a.shape == images.shape
        assert a.min() >= 0 and a.max() <= 255
        damage.append((a - images).abs().mean().item())
    # Stronger severities change the images more.
    assert damage == sorted(damage) and damage[0] > 0


def test_noise_differs_between_batches(images):
    a = corrupt(images, 'gaussian_noise', 16, batch_index=0)
    b = corrupt(images, 'gaussian_noise', 16, batch_index=1)
    assert not torch.equal(a, b)


def test_occlusion_blacks_out_a_square(images):
    out = corrupt(images + 1, 'occlusion', 0.5, batch_index=0)
    zeros = (out == 0).flatten(1).sum(1)
    assert (zeros == 14 * 14).all()


def test_unknown_corruption(images):
    with pytest.raises(ValueError, match='unknown corruption'):
        corrupt(images, 'snow', 1, batch_index=0)
