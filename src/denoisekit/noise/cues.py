"""Cues to what kind of noise an image carries, read from the image alone, for choosing a model.

- `grain_ratio`: how much coarser than single pixels the noise is (demosaiced camera grain).
- `jpeg_grid`: how strongly the image carries JPEG's 8x8 block quantisation.

Pure functions on (B, C, H, W) float batches in [0, 1] returning one float per image; no
randomness. `inference/choose.py` combines them; `benchmarks/model_choice.py` measures that.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .estimate import check_batch_shape, estimate_sigma, haar_average

# JPEG's 8x8 DCT coefficients with u + v >= this are the ones its tables quantise hardest.
_HIGH_FREQUENCY = 5
# A coefficient within this of 0 (on the 0-255 scale) counts as zeroed: JPEG's decoded, rounded
# output leaves about +-0.3 where the encoder wrote 0; noise of std 5/255 rarely lands there.
_ZERO = 1.0
_GRID_CROP = 512  # the centre crop jpeg_grid reads, so its cost does not grow with the image


def grain_ratio(noisy: Tensor) -> Tensor:
    """How much coarser than single pixels the noise of `noisy` (B, C, H, W) is -> (B,).

    The ratio of `estimate_sigma` one Haar scale down (on `haar_average`) to `estimate_sigma`
    at the finest scale. White noise reads the same at both scales (about 1; texture adds to
    the coarser reading, up to about 2 on photos with weak noise). Camera grain, spread over
    neighbouring pixels by demosaicing, reads 2-3.5 one scale down (README, "Which model
    `denoise` picks"). Images under 4x4 pixels, or with no noise at the finest scale, give 1.
    """
    check_batch_shape(noisy)
    ones = torch.ones(noisy.shape[0])
    if min(noisy.shape[-2:]) < 4:
        return ones
    noisy = noisy.detach().float()
    fine = estimate_sigma(noisy).cpu()
    coarse = estimate_sigma(haar_average(noisy)).cpu()
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
    on the luma of a centre crop of at most 512x512 pixels. Measured (README): white or camera
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
