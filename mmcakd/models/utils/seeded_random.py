"""A random stream owned by a module and saved in its state_dict."""
import math
import zlib
from typing import Optional, Sequence

import torch
from mmengine.dist import get_rank
from torch import nn


class SeededRandom(nn.Module):
    """A ``torch.Generator`` that travels with the model.

    The seed is drawn from torch's global generator when the module is built,
    so it follows the runner's ``randomness.seed`` (mmengine seeds torch
    before building the model); each process adds its rank, so that ranks
    draw different views. The generator's state is part of ``state_dict``
    (``_extra_state``), so a resumed run continues the same stream.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seed = int(torch.randint(0, 2**31 - 1, (1, )).item()) + get_rank()
        self._generator: Optional[torch.Generator] = None
        self._pending_state: Optional[torch.Tensor] = None

    def generator(self, device: torch.device) -> torch.Generator:
        """The generator, created on ``device`` at first use."""
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
        """One uint8 tensor: the seed (8 bytes), then the generator state if
        the generator has been used.

        A single tensor because mmengine broadcasts every ``state_dict``
        entry as a tensor when it starts a distributed run.
        """
        seed = torch.tensor([self.seed], dtype=torch.int64).view(torch.uint8)
        state = (self._generator.get_state() if self._generator is not None
                 else self._pending_state)
        return seed if state is None else torch.cat([seed, state.cpu()])

    def set_extra_state(self, state: torch.Tensor) -> None:
        """Continue the saved stream (the checkpoint holds rank 0's).

        Other ranks derive their own stream from it and their rank, so that
        after a resume the ranks still draw different views.
        """
        self.seed = int(state[:8].clone().view(torch.int64))
        self._generator = None
        self._pending_state = state[8:].clone() if state.numel() > 8 else None
        rank = get_rank()
        if rank:
            digest = zlib.crc32(state.numpy().tobytes())
            self.seed = (digest + 7919 * rank) % (2**31 - 1)
            self._pending_state = None
