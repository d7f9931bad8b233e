"""Photometric and geometric training augmentation beyond the 8 dihedral transforms
(`patches.augment`): brightness/contrast jitter and random resized crops.

Both act per image of a (B, C, H, W) batch with numbers drawn from an explicit generator, and
both draw nothing when off, so a run without them repeats the noise of runs made before they
existed. The crops keep the image size (crop, then resize back), so a batch stays one tensor.
(Not named augment.py: a submodule of that name would replace `denoisekit.data.augment`, the
dihedral function, as an attribute of the package once imported.)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import ConfigError

# Random resized crops keep an aspect ratio within [3/4, 4/3] of the original, as the
# ImageNet recipe does: a pistachio or a texture stays recognisable, never a sliver.
ASPECT_RANGE = (3 / 4, 4 / 3)


def check_augment(jitter: float, crop_scale: float, where: str = "data") -> None:
    """ConfigError for a jitter outside [0, 1) or a crop scale outside (0, 1]."""
    if not 0.0 <= jitter < 1.0:
        raise ConfigError(f"{where}.jitter must be in [0, 1), got {jitter}")
    if not 0.0 < crop_scale <= 1.0:
        raise ConfigError(f"{where}.crop_scale must be in (0, 1] (1: no crops), got {crop_scale}")


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> Tensor:
    u = torch.rand(n, generator=generator, device=generator.device)
    return (low + (high - low) * u).cpu()


def jitter(clean: Tensor, amount: float, generator: torch.Generator) -> Tensor:
    """Each image's brightness shifted by up to +-`amount` and its contrast (around the image
    mean) scaled by a factor in [1 - amount, 1 + amount]; clamped to [0, 1]."""
    n = clean.shape[0]
    shift = _uniform(n, -amount, amount, generator).to(clean.device).view(n, 1, 1, 1)
    gain = _uniform(n, 1 - amount, 1 + amount, generator).to(clean.device).view(n, 1, 1, 1)
    mean = clean.mean(dim=(1, 2, 3), keepdim=True)
    return ((clean - mean) * gain + mean + shift).clamp(0.0, 1.0)


def resized_crops(clean: Tensor, min_scale: float, generator: torch.Generator) -> Tensor:
    """Each image cropped to a random window of [min_scale, 1] of its area (aspect within
    `ASPECT_RANGE`, clipped to the image) and resized back to (H, W) bilinearly."""
    n, _, h, w = clean.shape
    area = _uniform(n, min_scale, 1.0, generator)
    log_aspect = _uniform(n, *(math.log(a) for a in ASPECT_RANGE), generator)
    place = _uniform(2 * n, 0.0, 1.0, generator).view(n, 2)
    out = torch.empty_like(clean)
    for i in range(n):
        aspect = math.exp(float(log_aspect[i]))
        ch = min(h, max(1, round(math.sqrt(float(area[i]) * h * w / aspect))))
        cw = min(w, max(1, round(math.sqrt(float(area[i]) * h * w * aspect))))
        top = int(float(place[i, 0]) * (h - ch + 1)) if h > ch else 0
        left = int(float(place[i, 1]) * (w - cw + 1)) if w > cw else 0
        crop = clean[i : i + 1, :, top : top + ch, left : left + cw]
        if (ch, cw) == (h, w):
            out[i] = crop[0]
        else:
            out[i] = F.interpolate(crop, size=(h, w), mode="bilinear", align_corners=False)[0]
    return out.clamp_(0.0, 1.0)


def augment_more(
    clean: Tensor, *, jitter_amount: float, crop_scale: float, generator: torch.Generator
) -> Tensor:
    """`clean` (B, C, H, W) with random resized crops (when `crop_scale` < 1), then jitter
    (when `jitter_amount` > 0); unchanged, drawing nothing, when both are off."""
    check_augment(jitter_amount, crop_scale)
    if crop_scale < 1.0:
        clean = resized_crops(clean, crop_scale, generator)
    if jitter_amount > 0.0:
        clean = jitter(clean, jitter_amount, generator)
    return clean
