"""The shipped model for an image when the user names none: by its channels and its noise.

Gray images get `gray-blind`. Colour images get `color-blind` (white noise), or `color-camera`
when the noise looks like a camera's: spread over neighbouring pixels by demosaicing
(`noise.cues.grain_ratio` above `CAMERA_GRAIN_RATIO`) or written as JPEG
(`noise.cues.jpeg_grid` above `CAMERA_JPEG_GRID`). Both thresholds were chosen on the CBSD432
validation split (never trained on): no white Gaussian image from sigma 5/255 to 50/255 went to
`color-camera`, which loses 1.5-3.3 dB there on average, while demosaiced or JPEG-compressed
noise, where it gains 0.9-4.2 dB, does (README, "Which model `denoise` picks"). Only a blind
call chooses: a given sigma or noise spec says the noise is known, and `color-blind` takes a
known level.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

CAMERA_GRAIN_RATIO = 2.2
CAMERA_JPEG_GRID = 0.15
CAMERA_MODEL = "color-camera"
CUE_SIDE = 2048  # the cues read at most this centre square of an image


def choose_pretrained(image: Any, *, blind: bool = True) -> str:
    """The pretrained name for `image`: a numpy HW / HWC array (uint8, uint16, float in [0, 1])
    or a tensor (C, H, W) / (B, C, H, W) (float in [0, 1] or uint8); alpha is left out. A batch
    is judged by the mean of its images' cues, so it all goes to one model.

    Falls back to `pretrained.default_pretrained` (the gray or colour blind model, whichever is
    installed) when `color-camera` is not installed, the image is gray, or `blind` is False.
    """
    from ..pretrained import default_pretrained, pretrained_names

    colour = _colour_batch(image)
    channels = 1 if colour.shape[1] == 1 else 3
    fallback = default_pretrained(channels)
    if channels == 1 or not blind or CAMERA_MODEL not in pretrained_names():
        return fallback
    return CAMERA_MODEL if looks_like_camera_noise(colour) else fallback


def looks_like_camera_noise(colour: Tensor) -> bool:
    """True when the (B, 3, H, W) batch in [0, 1] reads as demosaiced or JPEG-compressed noise
    (the mean of its images' cues over the thresholds; NaN values read as False)."""
    from ..noise.cues import grain_ratio, jpeg_grid

    if float(grain_ratio(colour).mean()) > CAMERA_GRAIN_RATIO:
        return True
    return float(jpeg_grid(colour).mean()) > CAMERA_JPEG_GRID


def _centre(length: int) -> slice:
    start = max(0, (length - CUE_SIDE) // 2)
    return slice(start, start + CUE_SIDE)


def _colour_batch(image: Any) -> Tensor:
    """(B, C, H, W) float32 in [0, 1] of the centre `CUE_SIDE` square at most, alpha (the 2nd /
    4th channel) dropped. The cues are statistics: 4 MP read them as well as 24 MP, and a
    24 MP photo in float32 would take 1 GB more memory to read whole."""
    if isinstance(image, Tensor):
        batch = image if image.dim() == 4 else image.unsqueeze(0)
        if batch.dim() != 4:
            raise ValueError(
                f"expected a (C, H, W) or (B, C, H, W) tensor, got {tuple(image.shape)}"
            )
        batch = batch[:, :-1] if batch.shape[1] in (2, 4) else batch
        batch = batch[..., _centre(batch.shape[-2]), _centre(batch.shape[-1])]
        return batch.float() / 255.0 if batch.dtype == torch.uint8 else batch.float()
    from ..io import to_tensor

    image = np.asarray(image)
    if image.ndim in (2, 3):
        image = image[_centre(image.shape[0]), _centre(image.shape[1])]
    return to_tensor(image).unsqueeze(0)
