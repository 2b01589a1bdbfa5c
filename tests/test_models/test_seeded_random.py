"""SeededRandom.bernoulli: the per-element draw of the PCA substitution."""
import pytest
import torch

from mmcakd.models.utils.seeded_random import SeededRandom


@pytest.mark.parametrize('p', [0.1, 0.3, 0.5, 0.9])
def test_bernoulli_rate_is_p_in_every_lane(p):
    """Each 64-bit draw gives four elements: every one of the four int16
    lanes must be True with probability p (a sign bit left at 0 by a
    non-negative draw would break one lane)."""
    mask = SeededRandom().bernoulli((4000, 4, 25), p, torch.device('cpu'))
    assert mask.dtype == torch.bool and mask.shape == (4000, 4, 25)
    lanes = mask.flatten()[:400000].view(-1, 4).float().mean(0)
    # 100k samples per lane: the std of the rate is <= 0.0016.
    assert torch.allclose(lanes, torch.full((4, ), p), atol=0.01), lanes


def test_bernoulli_extremes_and_odd_sizes():
    rand = SeededRandom()
    cpu = torch.device('cpu')
    assert not rand.bernoulli((3, 5, 7), 0.0, cpu).any()
    assert rand.bernoulli((3, 5, 7), 1.0, cpu).all()
    assert rand.bernoulli((1, ), 0.5, cpu).shape == (1, )
    for p in (-0.1, 1.5):  # an int16 threshold would wrap silently
        with pytest.raises(ValueError, match='p='):
            rand.bernoulli((4, ), p, cpu)


def test_bernoulli_stream_resumes_from_the_saved_state():
    rand = SeededRandom()
    cpu = torch.device('cpu')
    rand.bernoulli((10, ), 0.5, cpu)
    state = rand.get_extra_state()
    expected = rand.bernoulli((1000, ), 0.5, cpu)
    other = SeededRandom()
    other.set_extra_state(state)
    assert torch.equal(other.bernoulli((1000, ), 0.5, cpu), expected)
    assert not torch.equal(rand.bernoulli((1000, ), 0.5, cpu), expected)
