"""SeededRandom.bernoulli: the per-element draw of the PCA substitution."""
import pytest
import torch

from mmcakd.models.utils.seeded_random import SeededRandom


def expected_mask(words: torch.Tensor, n: int, p: float,
                  bits: int) -> torch.Tensor:
    """The draw written out: element i is the i-th b-bit field of the
    words (little-endian, from each byte's low bits up), True when it is
    below m = p * 2^b; 16-bit fields are read as signed int16."""
    if bits == 16:
        return words.view(torch.int16)[:n] < round(p * 2**16) - 2**15
    as_bytes = words.view(torch.uint8).long()
    fields = torch.stack([(as_bytes >> s) & (2**bits - 1)
                          for s in range(0, 8, bits)], dim=1)
    return fields.flatten()[:n] < round(p * 2**bits)


@pytest.mark.parametrize('p,bits', [(0.1, 16), (0.3, 16), (0.5, 1),
                                    (0.25, 2), (0.375, 4), (13 / 128, 8),
                                    (0.9, 16)])
def test_bernoulli_takes_b_bits_per_element_and_rate_p(p, bits):
    """Element i is decided by its own b bits of the stream (b = 1 at
    p = 0.5, 16 where p is no multiple of 1/256), and every one of the 64
    bit offsets of a draw gives True with probability p."""
    rand = SeededRandom()
    n = 6400 * 1000
    mask = rand.bernoulli((6400, 1000), p, torch.device('cpu'))
    assert mask.dtype == torch.bool and mask.shape == (6400, 1000)
    # The same words again, from a generator with the same seed.
    fresh = SeededRandom()
    fresh.seed = rand.seed
    words = torch.randint(-2**63, 2**63 - 1, (-(-n * bits // 64), ),
                          dtype=torch.int64,
                          generator=fresh.generator('cpu'))
    assert torch.equal(mask.flatten(), expected_mask(words, n, p, bits))
    assert torch.equal(fresh.generator('cpu').get_state(),
                       rand.generator('cpu').get_state())
    lanes = mask.view(-1, 64).float().mean(0)
    # 100k samples per offset: the std of the rate is <= 0.0016.
    assert torch.allclose(lanes, torch.full((64, ), p), atol=0.01), lanes


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


@pytest.mark.parametrize('p', [0.0, 0.3, 0.5, 13 / 128, 1.0])
def test_bernoulli_in_a_number_dtype_is_the_same_draw(p):
    # A float mask (the PCA substitution's 0/1 weight) holds the same draw
    # as the bool one from the same stream.
    cpu = torch.device('cpu')
    rand = SeededRandom()
    state = rand.get_extra_state()
    bools = rand.bernoulli((37, 11), p, cpu)
    for dtype in (torch.float32, torch.bfloat16, torch.float64):
        rand = SeededRandom()
        rand.set_extra_state(state)
        numbers = rand.bernoulli((37, 11), p, cpu, dtype=dtype)
        assert numbers.dtype == dtype
        assert torch.equal(numbers, bools.to(dtype))
