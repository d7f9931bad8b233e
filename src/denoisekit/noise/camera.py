"""Camera-pipeline noise: raw sensor noise carried through demosaicing and the sRGB curve.

A photo from a camera is not `clean + white noise`. The sensor records one colour per pixel
(a Bayer mosaic) in linear light, with Poisson-Gaussian noise (variance a*L + b in linear units);
demosaicing fills the two missing colours of each pixel from its neighbours, which spreads each
raw noise sample over several pixels (spatially correlated, coarser grain); the sRGB tone curve
then brightens the shadows and with them their noise; the result is clipped and usually saved as
JPEG (compose `+jpeg:Q`). A model trained only on white Gaussian noise under-reads and
under-removes this grain. The steps follow the usual description of a camera pipeline (e.g.
Guo et al., "Toward Convolutional Blind Denoising of Real Photographs", CVPR 2019; Brooks et al.,
"Unprocessing Images for Learned Raw Denoising", CVPR 2019); the code is our own and leaves out
white balance and colour-correction matrices.

The clean image stays the target: the signal is taken as perfectly demosaiced, and only the
noise goes through the mosaic and the bilinear demosaic, so no demosaicing artefact is asked to
be removed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .functional import _per_image, poisson_gaussian

# Mean share of a raw sample's variance left at a pixel after bilinear demosaicing, averaged over
# the 2x2 Bayer cell and the three channels: green keeps its own sample at half the sites and
# averages 4 at the rest (5/8); red and blue keep 1 at a quarter, average 2 at half and 4 at a
# quarter (9/16). (5/8 + 2 * 9/16) / 3 = 7/12.
DEMOSAIC_VARIANCE = 7 / 12

_CROSS = torch.tensor([[0.0, 0.25, 0.0], [0.25, 1.0, 0.25], [0.0, 0.25, 0.0]])
_BOX = torch.tensor([[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]])


def srgb_to_linear(srgb: Tensor) -> Tensor:
    """The inverse sRGB transfer curve (IEC 61966-2-1): display values to linear light."""
    return torch.where(
        srgb <= 0.04045, srgb / 12.92, ((srgb.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4
    )


def linear_to_srgb(linear: Tensor) -> Tensor:
    """The sRGB transfer curve: linear light to display values (a linear toe below 0.0031308)."""
    curve = 1.055 * linear.clamp(min=0.0031308) ** (1 / 2.4) - 0.055
    return torch.where(linear <= 0.0031308, 12.92 * linear, curve)


def srgb_slope(linear: Tensor) -> Tensor:
    """d linear_to_srgb / d linear: how much a small linear-light noise grows on the sRGB scale."""
    curve = 1.055 / 2.4 * linear.clamp(min=0.0031308) ** (1 / 2.4 - 1)
    return torch.where(linear <= 0.0031308, torch.full_like(linear, 12.92), curve)


def bayer_mask(height: int, width: int, *, like: Tensor) -> Tensor:
    """(1, 3, H, W) 0/1 mask of an RGGB mosaic: red at even rows and columns, blue at odd rows
    and columns, green at the other two sites of each 2x2 cell."""
    rows = torch.arange(height, device=like.device).view(-1, 1) % 2
    cols = torch.arange(width, device=like.device).view(1, -1) % 2
    red = (rows == 0) & (cols == 0)
    blue = (rows == 1) & (cols == 1)
    green = ~(red | blue)
    return torch.stack([red, green, blue]).unsqueeze(0).to(like.dtype)


def demosaic_bilinear(mosaic: Tensor) -> Tensor:
    """Bilinear demosaicing of a (B, 3, H, W) RGGB mosaic (zeros where a channel has no sample).

    Each missing value is the mean of its nearest samples of that colour: green from the 4 side
    neighbours, red and blue from the 2 or 4 nearest. Reflect padding keeps the 2x2 pattern at
    the border. Linear, so it may be applied to a noise field alone.
    """
    _, c, h, w = mosaic.shape
    if c != 3:
        raise ValueError(f"demosaicing takes 3 channels (RGB), got {c}")
    kernels = torch.stack([_BOX, _CROSS, _BOX]).unsqueeze(1).to(mosaic.device, mosaic.dtype)
    mode = "reflect" if min(h, w) > 1 else "replicate"
    padded = F.pad(mosaic, (1, 1, 1, 1), mode=mode)
    return F.conv2d(padded, kernels, groups=3)


def camera_pipeline(
    clean: Tensor,
    a: float | Tensor,
    b: float | Tensor,
    bayer: float | Tensor = 1,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Noise as a camera's sRGB output carries it; clipped to [0, 1] as a saved photo is.

    `clean` (B, C, H, W) in [0, 1] is taken as sRGB. Its linear light L gets raw Poisson-Gaussian
    noise of variance `a * L + b` (see `functional.poisson_gaussian`); for RGB (C = 3) images
    with `bayer` 1 (a number or one 0/1 per image) only the Bayer site of each pixel keeps its
    noise sample and bilinear demosaicing spreads those samples to the missing colours; with
    `bayer` 0 the noise stays white (a photo binned or downscaled since, or a monochrome sensor,
    as gray images always are). The noisy linear image is clipped at 0 and 1 (the sensor's
    range) and returned through the sRGB curve. A noise-free pipeline (a = b = 0) returns `clean`
    (clipped).
    """
    linear = srgb_to_linear(clean.clamp(0.0, 1.0))
    noise = poisson_gaussian(linear, a, b, generator=generator) - linear
    if clean.shape[1] == 3:
        mosaic = _per_image(bayer, clean, "bayer") > 0.5
        if mosaic.any():
            spread = demosaic_bilinear(noise * bayer_mask(*clean.shape[-2:], like=clean))
            noise = torch.where(mosaic, spread, noise)
    return linear_to_srgb((linear + noise).clamp(0.0, 1.0))


def camera_pipeline_std(
    intensity: Tensor, a: float | Tensor, b: float | Tensor, share: float = DEMOSAIC_VARIANCE
) -> Tensor:
    """Approximate noise std that `camera_pipeline` adds at sRGB intensity `intensity`:
    sqrt(share * (a*L + b)) times the slope of the sRGB curve at the linear value L. `a`, `b`:
    numbers or tensors that broadcast against `intensity`. `share` is the part of the raw variance
    left after demosaicing, averaged over the Bayer cell and channels (1 for a gray image).
    Ignores clipping, so it overstates the noise within a few std of black or white."""
    linear = srgb_to_linear(intensity.clamp(0.0, 1.0))
    return srgb_slope(linear) * (share * (a * linear + b)).clamp(min=0).sqrt()
