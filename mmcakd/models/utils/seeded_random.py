"""A random stream owned by a module and saved in its state_dict."""
import hashlib
import math
from typing import Optional, Sequence

import torch
from mmengine.dist import get_rank
from torch import nn


# Marks the state layout with a draw count (older checkpoints hold the seed
# and rank 0's generator state only).
_COUNTED = torch.tensor([0x5EEDC0DE5EEDC0DE], dtype=torch.int64)


class SeededRandom(nn.Module):
    """A ``torch.Generator`` that travels with the model.

    The seed is drawn from torch's global generator when the module is built,
    so it follows the runner's ``randomness.seed`` (mmengine seeds torch
    before building the model). Rank 0 (and a single process) draws from one
    generator seeded with it; rank r > 0 draws its n-th batch of numbers
    from a generator seeded with a hash of (seed, r, n), so that ranks draw
    different views. The state (seed, draw count n, rank 0's generator
    state) is part of ``state_dict`` (``_extra_state``): a resumed run
    continues every rank's stream exactly, although the checkpoint is
    written by rank 0 alone.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seed = int(torch.randint(0, 2**31 - 1, (1, )).item())
        self.draws = 0
        self._generator: Optional[torch.Generator] = None
        self._pending_state: Optional[torch.Tensor] = None

    def generator(self, device: torch.device) -> torch.Generator:
        """The generator for the next draw, on ``device``: rank 0's own
        (created at first use), or rank r's for draw n."""
        self.draws += 1
        rank = get_rank()
        if rank:
            key = f'{self.seed}:{rank}:{self.draws}'.encode()
            seed = int.from_bytes(
                hashlib.blake2b(key, digest_size=8).digest(), 'little')
            return torch.Generator(device=device).manual_seed(seed >> 1)
        gen = self._generator
        if gen is None or gen.device.type != torch.device(device).type:
            gen = torch.Generator(device=device)
            gen.manual_seed(self.seed)
            if self._pending_state is not None:
                gen.set_state(self._pending_state)
                self._pending_state = None
            self._generator = gen
        return gen

    def bernoulli(self,
                  shape: Sequence[int],
                  p: float,
                  device: torch.device,
                  dtype: torch.dtype = torch.bool) -> torch.Tensor:
        """A mask of ``shape``, each element True (1) with probability p.

        Each element takes the fewest random bits b in (1, 2, 4, 8) that
        express p exactly as m / 2^b (one bit for p = 0.5), else 16 bits
        with p rounded to a multiple of 2^-16 (off by < 8e-6); the bits come
        64 at a time from ``randint``. On CPU this is far cheaper than
        ``torch.rand``, which makes one Mersenne Twister call per element,
        and at p = 0.5 sixteen times fewer draws than 16 bits each.
        ``dtype``: the mask's, bool or 0/1 numbers (a float ``dtype`` gives
        a 0/1 weight drawn straight into it, without a conversion pass).
        """
        if not 0.0 <= p <= 1.0:
            raise ValueError(f'bernoulli: p={p} must be in [0, 1]')
        p = float(p)
        bits = next((b for b in (1, 2, 4, 8) if (p * 2**b).is_integer()), 16)
        m = round(p * 2**bits)
        if m == 2**bits:  # p = 1 (a 16-bit threshold would overflow int16)
            return torch.ones(shape, dtype=dtype, device=device)
        n = math.prod(shape)
        words = torch.randint(
            -2**63, 2**63 - 1, (-(-n * bits // 64), ), device=device,
            dtype=torch.int64, generator=self.generator(device))
        if bits == 16:
            # int16 lanes are uniform on [-2^15, 2^15): x < t w.p. m / 2^16.
            mask = (words.view(torch.int16) < m - 2**15).to(dtype)
        else:
            # Each byte holds 8 / b fields: look its mask row up in a
            # 256-row table (the b-bit field at offset s is < m exactly when
            # the byte, other fields masked out, is < m << s).
            shifts = torch.arange(0, 8, bits, device=device)
            table = (torch.arange(256, device=device)[:, None]
                     & ((2**bits - 1) << shifts)) < (m << shifts)
            table = table.to(dtype)
            mask = torch.index_select(table, 0, words.view(torch.uint8).long())
        return mask.flatten()[:n].view(shape)

    def get_extra_state(self) -> torch.Tensor:
        """One uint8 tensor: the seed, a layout mark and the draw count (8
        bytes each), then rank 0's generator state if it has been used.

        A single tensor because mmengine broadcasts every ``state_dict``
        entry as a tensor when it starts a distributed run.
        """
        head = torch.cat([
            torch.tensor([self.seed], dtype=torch.int64), _COUNTED,
            torch.tensor([self.draws], dtype=torch.int64)
        ]).view(torch.uint8)
        state = (self._generator.get_state() if self._generator is not None
                 else self._pending_state)
        return head if state is None else torch.cat([head, state.cpu()])

    def set_extra_state(self, state: torch.Tensor) -> None:
        """Continue the saved stream on every rank (rank 0's generator state;
        the draw count for the other ranks). A state without a draw count
        (saved before it was kept) resumes rank 0 exactly and restarts the
        count."""
        words = state[:24].clone().view(torch.int64) \
            if state.numel() >= 24 else None
        counted = words is not None and bool(words[1] == _COUNTED[0])
        self.seed = int(state[:8].clone().view(torch.int64))
        self.draws = int(words[2]) if counted else 0
        rest = state[24:] if counted else state[8:]
        self._generator = None
        self._pending_state = rest.clone() if rest.numel() else None
