"""A fixed, deterministic set of image corruptions for robustness tests.

Each corruption works on a raw pixel batch ``x`` of shape (B, C, H, W) with
values in [0, 255] (before the data preprocessor normalises it), at one of
three severities, and returns a float batch of the same shape, clamped to
[0, 255]. Severities are ordered mildest first.

The families fall into two groups, so that a robustness number can tell
"robust to what training showed it" from "robust to something new":

- ``'seen'``: perturbations that the training views produce (the
  multi-view generator of MRT, ``mmcakd.models.views.MultiViewGenerator``):
  ``gaussian_noise`` (its ``GaussianNoise``), ``contrast`` (its
  ``ColorJitter`` contrast), ``occlusion`` (its ``PatchMask``, which zeroes
  patches) and ``gaussian_blur``. Blur counts as seen because the views'
  ``ResizedCrop`` resamples a crop back to full size with bilinear
  interpolation, which low-pass filters the image the way a small Gaussian
  blur does.
- ``'held_out'``: nothing in training produces them (neither the views nor
  the data pipeline's RandomCrop with padding and horizontal flip):
  ``jpeg`` (blocky 8x8 DCT quantisation artefacts and ringing),
  ``pixelate`` (blocky loss of resolution: area downsampling then nearest
  upsampling; the crop's bilinear resize is smooth, never blocky),
  ``salt_pepper`` (sparse impulse noise at the extremes 0 and 255, unlike
  the views' dense Gaussian noise), ``motion_blur`` (a long, one-directional
  line blur, unlike the short isotropic smoothing of a bilinear resize) and
  ``elastic`` (a smooth, local, non-rigid warp; the views' crops and
  rotations are global affine maps).

==============  ========  ==============================  ================
name            group     what the level is               severities
==============  ========  ==============================  ================
gaussian_noise  seen      add N(0, sigma^2); sigma in     8, 16, 32
                          pixel units
gaussian_blur   seen      Gaussian blur; sigma in pixels  0.5, 1.0, 1.5
contrast        seen      scale the deviation from the    0.9, 0.75, 0.6
                          image mean by this factor (the
                          views draw U(0.6, 1.4))
occlusion       seen      a black square at a random      0.25, 0.375, 0.5
                          position; side / shorter side
jpeg            held_out  JPEG quality (lower is worse)   30, 15, 5
pixelate        held_out  downsampled side / side (on     0.5, 0.36, 0.29
                          28 px: 14, 10, 8 px)
salt_pepper     held_out  fraction of pixels set to 0     0.02, 0.05, 0.1
                          or 255
motion_blur     held_out  length in pixels of a           3, 5, 7
                          horizontal box kernel
elastic         held_out  RMS displacement per axis in    1.0, 2.0, 3.0
                          pixels of a smooth field
                          (Gaussian sigma 3 px)
==============  ========  ==============================  ================

Randomness (noise, square positions, impulse positions, displacement
fields) comes from a generator seeded by the corruption, the severity and
the batch index, so a run over the same data in the same order gives the
same images every time. ``jpeg``, ``pixelate``, ``contrast`` and both blurs
are deterministic functions of the image.

Every family is batched: tensor ops over the whole batch, no Python loop
over samples or pixels (JPEG goes through torchvision's list form of
``encode_jpeg``/``decode_jpeg``, one call for the batch).
"""
import math
import zlib
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Tuple

import torch
import torch.nn.functional as F

SEEN, HELD_OUT = 'seen', 'held_out'
GROUP_NAMES: Tuple[str, str] = (SEEN, HELD_OUT)

# (batch, level, generator) -> corrupted batch, before the final clamp.
Apply = Callable[[torch.Tensor, float, torch.Generator], torch.Tensor]


@dataclass(frozen=True)
class Family:
    """One corruption family: its group, its severities and what it does.

    Attributes:
        name (str): The name used on the command line and in results.
        group (str): ``'seen'`` or ``'held_out'`` (see the module docstring).
        levels (tuple[float]): Three severities, mildest first.
        apply (callable): ``(x, level, generator) -> x`` on a float
            (B, C, H, W) batch in [0, 255]; the result is clamped afterwards.
        level_meaning (str): What a level measures, for tables and docs.
    """

    name: str
    group: str
    levels: Tuple[float, ...]
    apply: Apply
    level_meaning: str


def _generator(name: str, level: float, batch_index: int) -> torch.Generator:
    key = f'{name}/{level}/{batch_index}'.encode()
    return torch.Generator().manual_seed(zlib.crc32(key))


def _gaussian_kernel(sigma: float, dtype: torch.dtype) -> torch.Tensor:
    """A normalised 1-D Gaussian, radius ceil(3 sigma) (at least 1): (K, )."""
    radius = max(1, math.ceil(3 * sigma))
    taps = torch.arange(-radius, radius + 1, dtype=dtype)
    kernel = torch.exp(-taps**2 / (2 * sigma**2))
    return kernel / kernel.sum()


def _separable(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Convolve each channel of (B, C, H, W) with ``kernel`` (K, ) along W
    and then H, reflect-padded so the size is kept (K must be odd)."""
    c, radius = x.shape[1], kernel.numel() // 2
    x = F.pad(x, (radius, radius, radius, radius), mode='reflect')
    x = F.conv2d(x, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur with reflect padding, per channel.

    Args:
        x (Tensor): (B, C, H, W) float.
        sigma (float): Standard deviation in pixels.

    Returns:
        Tensor: (B, C, H, W), the blurred batch.
    """
    return _separable(x, _gaussian_kernel(sigma, x.dtype))


def _gaussian_noise(x: torch.Tensor, sigma: float,
                    gen: torch.Generator) -> torch.Tensor:
    """x + N(0, sigma^2) per pixel and channel, sigma in pixel units."""
    return x + sigma * torch.randn(x.shape, generator=gen, dtype=x.dtype)


def _blur(x: torch.Tensor, sigma: float, gen: torch.Generator) -> torch.Tensor:
    return gaussian_blur(x, sigma)


def _contrast(x: torch.Tensor, factor: float,
              gen: torch.Generator) -> torch.Tensor:
    """mean + (x - mean) * factor, the mean per image over C, H, W.

    The same operation as the views' ColorJitter contrast, which draws the
    factor from U(0.6, 1.4).
    """
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return mean + (x - mean) * factor


def _occlusion(x: torch.Tensor, fraction: float,
               gen: torch.Generator) -> torch.Tensor:
    """A zero (black) square of side round(fraction * min(H, W)), fully
    inside the image at a uniformly random position per sample."""
    B, _, H, W = x.shape
    side = max(1, round(fraction * min(H, W)))
    top = torch.randint(0, H - side + 1, (B, ), generator=gen)
    left = torch.randint(0, W - side + 1, (B, ), generator=gen)
    rows = torch.arange(H).view(1, H, 1)
    cols = torch.arange(W).view(1, 1, W)
    inside = ((rows >= top.view(B, 1, 1)) &
              (rows < (top + side).view(B, 1, 1)) &
              (cols >= left.view(B, 1, 1)) &
              (cols < (left + side).view(B, 1, 1)))
    return x.masked_fill(inside.unsqueeze(1), 0.0)


def _jpeg(x: torch.Tensor, quality: float,
          gen: torch.Generator) -> torch.Tensor:
    """Encode each image as JPEG at ``quality`` (1-100) and decode it.

    JPEG works on 8-bit images with 1 or 3 channels, so the batch is rounded
    to uint8 first. torchvision's encoder and decoder take a list of
    (C, H, W) images: one call each for the whole batch.
    """
    # Imported here: only this family needs torchvision's image codecs.
    import warnings

    from torchvision.io import ImageReadMode, decode_jpeg, encode_jpeg
    if x.shape[1] not in (1, 3):
        raise ValueError(f'jpeg needs 1 or 3 channels, got {x.shape[1]}')
    images = list(x.round().clamp(0, 255).to(torch.uint8))
    with warnings.catch_warnings():
        # torchvision 0.29 deprecates its codecs in favour of TorchCodec;
        # they still work, and the warning would repeat for every batch.
        warnings.simplefilter('ignore')
        encoded = encode_jpeg(images, quality=int(quality))
        decoded = decode_jpeg(encoded, mode=ImageReadMode.UNCHANGED)
    return torch.stack(decoded).to(x.dtype)


def _pixelate(x: torch.Tensor, fraction: float,
              gen: torch.Generator) -> torch.Tensor:
    """Average-pool ("area") down to round(fraction * side) per side, then
    scale back up with nearest neighbour, so each low-resolution pixel
    becomes a constant block (of side 1 / fraction where that divides)."""
    H, W = x.shape[-2:]
    small = (max(1, round(fraction * H)), max(1, round(fraction * W)))
    x = F.interpolate(x, size=small, mode='area')
    return F.interpolate(x, size=(H, W), mode='nearest')


def _salt_pepper(x: torch.Tensor, fraction: float,
                 gen: torch.Generator) -> torch.Tensor:
    """Set a random ``fraction`` of pixel positions to 0 (pepper, half of
    them in expectation) or 255 (salt), the same in every channel of a
    pixel (impulse noise hits a pixel, not a colour plane)."""
    B, _, H, W = x.shape
    u = torch.rand((B, 1, H, W), generator=gen, dtype=x.dtype)
    x = x.masked_fill(u < fraction / 2, 0.0)
    return x.masked_fill((u >= fraction / 2) & (u < fraction), 255.0)


def _motion_blur(x: torch.Tensor, length: float,
                 gen: torch.Generator) -> torch.Tensor:
    """Average over ``length`` consecutive pixels along each row: the blur
    of a horizontal camera or object motion. One grouped conv2d with a
    (1, L) box kernel; reflect padding keeps the size (for even L one more
    pixel of padding on the right)."""
    L, c = int(length), x.shape[1]
    kernel = torch.full((c, 1, 1, L), 1.0 / L, dtype=x.dtype)
    x = F.pad(x, ((L - 1) // 2, L // 2, 0, 0), mode='reflect')
    return F.conv2d(x, kernel, groups=c)


ELASTIC_SIGMA = 3.0  # smoothness (pixels) of the elastic displacement field


def _elastic(x: torch.Tensor, alpha: float,
             gen: torch.Generator) -> torch.Tensor:
    """Elastic distortion (Simard et al., 2003), all samples at once.

    A displacement field (B, 2, H, W) of white N(0, 1) noise is smoothed
    with a Gaussian of sigma ``ELASTIC_SIGMA`` pixels, rescaled to unit
    standard deviation (dividing by the smoothing's exact gain, not by the
    draw's own std, so the strength does not depend on the draw) and
    multiplied by ``alpha``: ``alpha`` is the RMS displacement per axis in
    pixels. Each output pixel is read at its displaced position with
    bilinear ``grid_sample``, borders replicated.
    """
    B, _, H, W = x.shape
    kernel = _gaussian_kernel(ELASTIC_SIGMA, x.dtype)
    # Gain of the 2-D kernel k k^T on unit white noise: the output std is
    # sqrt(sum_ij (k_i k_j)^2) = sum_i k_i^2.
    gain = float((kernel**2).sum())
    # Noise on a canvas larger by the kernel radius on every side, filtered
    # without padding: the field is stationary up to the border (no padding
    # artefacts) and any image size works.
    r = kernel.numel() // 2
    noise = torch.randn((B * 2, 1, H + 2 * r, W + 2 * r), generator=gen,
                        dtype=x.dtype)
    noise = F.conv2d(noise, kernel.view(1, 1, 1, -1))
    noise = F.conv2d(noise, kernel.view(1, 1, -1, 1))
    field = noise.view(B, 2, H, W) * (alpha / gain)  # pixels
    # Base grid at pixel centres in grid_sample's [-1, 1] coordinates
    # (align_corners=False); one pixel is 2 / W (2 / H) there.
    ys = (torch.arange(H, dtype=x.dtype) * 2 + 1) / H - 1
    xs = (torch.arange(W, dtype=x.dtype) * 2 + 1) / W - 1
    grid = torch.stack(torch.meshgrid(xs, ys, indexing='xy'), dim=-1)
    grid = grid.unsqueeze(0) + torch.stack(
        [field[:, 0] * 2 / W, field[:, 1] * 2 / H], dim=-1)
    return F.grid_sample(x, grid, mode='bilinear', padding_mode='border',
                         align_corners=False)


# The table: names, groups and severities (mildest first). The severities
# were measured (docs/robustness.md): at the mildest level the Fashion-MNIST
# teacher and a student trained alone both stay well above chance (10%),
# and the strongest level is clearly harder. Contrast is mild because the
# student alone collapses once the black background is lifted by a few grey
# levels (x0.8 already puts it at 19%); its strongest level, 0.6, is the
# edge of the views' range. Pixelate stops at 8 px, not 7: 4-pixel blocks
# would line up exactly with the ViT teacher's 4-pixel patches (18.9% there
# against 55% at 8 px), a grid coincidence rather than a harder corruption.
FAMILIES: Dict[str, Family] = {
    f.name: f
    for f in (
        Family('gaussian_noise', SEEN, (8.0, 16.0, 32.0), _gaussian_noise,
               'noise std (pixel units)'),
        Family('gaussian_blur', SEEN, (0.5, 1.0, 1.5), _blur,
               'blur sigma (pixels)'),
        Family('contrast', SEEN, (0.9, 0.75, 0.6), _contrast,
               'contrast factor'),
        Family('occlusion', SEEN, (0.25, 0.375, 0.5), _occlusion,
               'square side / image side'),
        Family('jpeg', HELD_OUT, (30.0, 15.0, 5.0), _jpeg, 'JPEG quality'),
        Family('pixelate', HELD_OUT, (0.5, 0.36, 0.29), _pixelate,
               'downsampled side / side'),
        Family('salt_pepper', HELD_OUT, (0.02, 0.05, 0.1), _salt_pepper,
               'fraction of pixels'),
        Family('motion_blur', HELD_OUT, (3.0, 5.0, 7.0), _motion_blur,
               'kernel length (pixels)'),
        Family('elastic', HELD_OUT, (1.0, 2.0, 3.0), _elastic,
               'RMS displacement (pixels)'),
    )
}
SEVERITIES: Dict[str, List[float]] = {
    name: list(f.levels) for name, f in FAMILIES.items()}
GROUPS: Dict[str, str] = {name: f.group for name, f in FAMILIES.items()}


def check_families(names: Iterable[str]) -> List[str]:
    """Return ``names`` as a list if every one is a known family.

    Raises:
        ValueError: one line naming the first unknown family and listing the
            known ones.
    """
    names = list(names)
    for name in names:
        if name not in FAMILIES:
            raise ValueError(f'unknown corruption {name!r}; choose from '
                             f'{", ".join(FAMILIES)}')
    return names


def corrupt(x: torch.Tensor, name: str, level: float,
            batch_index: int) -> torch.Tensor:
    """Apply corruption ``name`` at ``level`` to a raw pixel batch.

    Args:
        x (Tensor): (B, C, H, W), values in [0, 255], any dtype.
        name (str): A key of :data:`FAMILIES`.
        level (float): The severity (usually one of ``SEVERITIES[name]``).
        batch_index (int): Seeds the random draws together with ``name``
            and ``level``, so the same batch gets the same corruption.

    Returns:
        Tensor: (B, C, H, W) float32 (or ``x``'s float dtype) in [0, 255].

    Raises:
        ValueError: ``name`` is not a known family.
    """
    check_families([name])
    x = x if x.is_floating_point() else x.float()
    gen = _generator(name, level, batch_index)
    return FAMILIES[name].apply(x, level, gen).clamp(0, 255)
