"""SeededRandom.bernoulli: the per-element draw of the PCA substitution."""
import pytest
import torch

from mmcakd.models.utils.seeded_random import SeededRandom


@pytest.mark.parametrize('p,bits', [(0.1, 16), (0.3, 16), (0.5, 1),
                                    (0.25, 2), (0.375, 4), (13 / 128, 8),
                                    (0.9, 16)])
def test_bernoulli_rate_is_p_in_every_lane(p, bits):
    """Each 64-bit draw gives 64 / b elements of b bits (b = 1 at p = 0.5,
    16 where p is no multiple of 1/256): every one of the 64 bit offsets
    must give True with probability p (a sign bit left at 0 by a
    non-negative draw, or a field read from the wrong bits, would break
    some)."""
    rand = SeededRandom()
    mask = rand.bernoulli((6400, 1000), p, torch.device('cpu'))
    assert mask.dtype == torch.bool and mask.shape == (6400, 1000)
    lanes = mask.view(-1, 64).float().mean(0)
    # 100k samples per offset: the std of the rate is <= 0.0016.
    assert torch.allclose(lanes, torch.full((64, ), p), atol=0.01), lanes
    # The draw takes b bits per element: the generator advanced by
    # 6.4M * b / 64 words.
    state = rand.generator(torch.device('cpu')).get_state()
    fresh = SeededRandom()
    fresh.seed = rand.seed
    torch.randint(-2**63, 2**63 - 1, (6400000 * bits // 64, ),
                  dtype=torch.int64, generator=fresh.generator('cpu'))
    assert torch.equal(fresh.generator('cpu').get_state(), state)


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
