"""Cues to what kind of noise an image carries, read from the image alone, for choosing a model.

- `grain_ratio`: how much coarser than single pixels the noise is (demosaiced camera grain).
- `jpeg_grid`: how strongly the image carries JPEG's 8x8 block quantisation.
- `shadow_ratio`: how much stronger the noise is in the shadows than in the mid-tones (sensor
  noise brightened by the sRGB curve).

Pure functions on (B, C, H, W) float batches in [0, 1] returning one float per image; no
randomness. `inference/choose.py` combines them; `benchmarks/model_choice.py` measures that.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .estimate import (
    MAD_TO_SIGMA,
    check_batch_shape,
    estimate_sigma_haar,
    haar_average,
    haar_diagonal,
)

# JPEG's 8x8 DCT coefficients with u + v >= this are the ones its tables quantise hardest.
_HIGH_FREQUENCY = 5
# A coefficient within this of 0 (on the 0-255 scale) counts as zeroed: JPEG's decoded, rounded
# output leaves about +-0.3 where the encoder wrote 0; noise of std 5/255 rarely lands there.
_ZERO = 1.0
_GRID_CROP = 512  # the centre crop jpeg_grid reads, so its cost does not grow with the image
# shadow_ratio's brightness ranges (of 2x2 block means, [0, 1]): shadows above clipped black,
# and mid-tones; each needs this many 2x2 blocks for a median to be trusted.
_SHADOWS, _MIDTONES, _MIN_BLOCKS = (0.02, 0.25), (0.35, 0.8), 1000


def grain_ratio(noisy: Tensor) -> Tensor:
    """How much coarser than single pixels the noise of `noisy` (B, C, H, W) is -> (B,).

    The ratio of `estimate_sigma_haar` one Haar scale down (on `haar_average`) to its reading
    at the finest scale. White noise reads the same at both scales (about 1; texture adds to
    the coarser reading, up to about 2 on photos with weak noise). Camera grain, spread over
    neighbouring pixels by demosaicing, reads 2-3.5 one scale down (docs/results/model-choice.md,
    "Colour, CBSD68"). Images under 4x4 pixels, or with no noise at the finest scale, give 1.
    """
    check_batch_shape(noisy)
    ones = torch.ones(noisy.shape[0])
    if min(noisy.shape[-2:]) < 4:
        return ones
    noisy = noisy.detach().float()
    fine = estimate_sigma_haar(noisy).cpu()
    coarse = estimate_sigma_haar(haar_average(noisy)).cpu()
    return torch.where(fine > 0, coarse / fine.clamp_min(1e-12), ones)


def _dct8() -> Tensor:
    """The orthonormal 8-point DCT-II matrix, JPEG's transform along each axis."""
    k = torch.arange(8, dtype=torch.float32)
    matrix = torch.cos(math.pi * (2 * k[None, :] + 1) * k[:, None] / 16) * math.sqrt(2 / 8)
    matrix[0] /= math.sqrt(2)
    return matrix


def jpeg_grid(noisy: Tensor) -> Tensor:
    """How strongly `noisy` (B, C, H, W) carries JPEG block quantisation -> (B,), about 0 to 0.6.

    JPEG stores each 8x8 block of luma as DCT coefficients rounded to steps that are coarse at
    high frequencies, so a JPEG image (noisy or not) has many high-frequency coefficients at
    exactly 0, but only on its own block grid. This is the share of such zeroed coefficients on
    the best-scoring of the 64 grid offsets minus the median share over all offsets, so
    cropped JPEGs count and image content (which is the same on every offset) cancels. Read
    on the luma of a centre crop of at most 512x512 pixels. Measured: white or camera
    noise written as JPEG quality 80-90 scores 0.22-0.65; unJPEGed noise of std 5/255 or more
    at most 0.06, even on photos that were JPEG before the noise. Under 16x16 pixels: 0.
    """
    check_batch_shape(noisy)
    b, c, h, w = noisy.shape
    side = min(_GRID_CROP, (min(h, w) - 8) // 8 * 8)
    if side < 8:
        return torch.zeros(b)
    x = noisy.detach().float().cpu() * 255
    if c == 3:  # JPEG quantises luma (BT.601) hardest
        luma = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
    else:
        luma = x.mean(1)
    top, left = (h - side - 8) // 2, (w - side - 8) // 2
    dct = _dct8()
    high = (torch.arange(8)[:, None] + torch.arange(8)[None, :]) >= _HIGH_FREQUENCY
    shares = []
    for dy in range(8):
        for dx in range(8):
            crop = luma[:, top + dy : top + dy + side, left + dx : left + dx + side]
            blocks = crop.reshape(b, side // 8, 8, side // 8, 8).transpose(2, 3)
            coefficients = dct @ blocks @ dct.T
            zeroed = coefficients[..., high].abs() < _ZERO
            shares.append(zeroed.float().mean(dim=(1, 2, 3)))
    shares = torch.stack(shares, dim=1)  # (B, 64)
    return shares.max(dim=1).values - shares.median(dim=1).values


def shadow_ratio(noisy: Tensor) -> Tensor:
    """How much stronger the noise of `noisy` (B, C, H, W) is in the shadows than in the
    mid-tones -> (B,); NaN where an image lacks either.

    Sensor noise is recorded in linear light and written through the sRGB curve, whose slope
    is steep near black, so a camera's sRGB output is noisiest in its shadows; white Gaussian
    noise is the same everywhere, and Poisson-Gaussian noise added to sRGB values grows with
    brightness instead. Per image, on the channel mean: the finest Haar diagonal band's
    median(|HH|) / 0.6745 over the 2x2 blocks whose mean lies in the shadows (0.02-0.25), over
    the same in the mid-tones (0.35-0.8). White noise reads about 1 (weak noise over texture
    spreads it, 0.4-1.6 at sigma 5/255); camera-pipeline noise a median of 1.2-1.4 (0.7-2.2)
    on Train400's validation images (docs/results/model-choice.md, "Gray, BSD68"). NaN when
    either range holds fewer than 1000 blocks, or the mid-tones no noise at all.
    """
    check_batch_shape(noisy)
    mean = noisy.detach().float().mean(dim=1, keepdim=True)
    hh = haar_diagonal(mean).abs().flatten(1)
    block = (haar_average(mean) / 2).flatten(1)  # the 2x2 block means
    ratios = []
    for coefficients, brightness in zip(hh, block, strict=True):
        sigmas = []
        for low, high in (_SHADOWS, _MIDTONES):
            inside = coefficients[(brightness > low) & (brightness < high)]
            enough = inside.numel() >= _MIN_BLOCKS
            sigmas.append(inside.median() / MAD_TO_SIGMA if enough else torch.tensor(math.nan))
        shadows, midtones = sigmas
        ratios.append(shadows / midtones if midtones > 0 else torch.tensor(math.nan))
    return torch.stack(ratios) if ratios else torch.zeros(0)
