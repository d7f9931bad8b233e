"""The shipped model for an image when the user names none: by its channels and its noise.

Gray images get `gray-blind`, colour images `color-blind` (white noise), unless the noise looks
like a camera's; then the camera model for its channels (`CAMERA_MODELS`) takes it. Colour:
noise spread over neighbouring pixels by demosaicing (`noise.cues.grain_ratio` above
`CAMERA_GRAIN_RATIO`) or written as JPEG (`noise.cues.jpeg_grid` above `CAMERA_JPEG_GRID`).
Gray has no mosaic; there, noise strongest in the shadows, as sensor noise through the sRGB
curve is (`noise.cues.shadow_ratio` above `CAMERA_SHADOW_RATIO`), or JPEG holding noise that
reads at least `GRAY_JPEG_MIN_SIGMA` (a clean gray JPEG stays with gray-blind). The thresholds were
chosen on validation splits never trained on (CBSD432's for colour, Train400's for gray): no
white Gaussian image from sigma 5/255 (colour) or 15/255 (gray) to 50/255 went to a camera
model, which loses 0.4-3.3 dB there on average, while the camera noise where it gains does
(docs/results/model-choice.md). Only a blind call chooses: a given sigma or noise spec
says the noise is known, and the blind models take a known level.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

CAMERA_GRAIN_RATIO = 2.2
CAMERA_JPEG_GRID = 0.15
CAMERA_SHADOW_RATIO = 1.1
# A gray JPEG goes to the camera model only when its noise reads at least this (sigma, [0, 1]
# units): below it the JPEG carries no visible noise, and gray-camera, trained on noisy JPEGs
# only, smooths real texture away. Gray camera noise is white (no mosaic), so even weak grain
# reads above it; colour grain, spread by demosaicing, reads as low as clean JPEGs do, so colour
# has no such floor (docs/results/model-choice.md, "Gray, BSD68").
GRAY_JPEG_MIN_SIGMA = 4 / 255
# The camera model for gray (1) and colour (3) images.
CAMERA_MODELS = {1: "gray-camera", 3: "color-camera"}
CUE_SIDE = 2048  # the cues read at most this centre square of an image


def choose_pretrained(image: Any, *, blind: bool = True) -> str:
    """The pretrained name for `image`: a numpy HW / HWC array (uint8, uint16, float in [0, 1])
    or a tensor (C, H, W) / (B, C, H, W) (float in [0, 1] or uint8); alpha is left out. A batch
    is judged by the mean of its images' cues, so it all goes to one model.

    Falls back to `pretrained.default_pretrained` (the gray or colour blind model, whichever is
    installed) when the camera model for the image's channels is not installed or `blind` is
    False.
    """
    from ..checkpoints.pretrained import default_pretrained, pretrained_names

    batch = _colour_batch(image)
    channels = 1 if batch.shape[1] == 1 else 3
    fallback = default_pretrained(channels)
    camera = CAMERA_MODELS[channels]
    if not blind or camera not in pretrained_names():
        return fallback
    return camera if looks_like_camera_noise(batch) else fallback


def looks_like_camera_noise(batch: Tensor) -> bool:
    """True when the (B, C, H, W) batch in [0, 1] reads as camera noise: for colour, demosaiced
    grain or JPEG; for gray, noise strongest in the shadows, or JPEG with noise that reads at
    least `GRAY_JPEG_MIN_SIGMA` (the mean of its images' cues over the thresholds; NaN values
    read as False)."""
    from ..noise.cues import grain_ratio, jpeg_grid, shadow_ratio
    from ..noise.estimate import estimate_sigma_haar

    if batch.shape[1] == 1:
        # no mosaic, so no grain to read; the sRGB curve's mark on sensor noise is what is left
        if float(shadow_ratio(batch).nanmean()) > CAMERA_SHADOW_RATIO:
            return True
        if float(estimate_sigma_haar(batch).mean()) < GRAY_JPEG_MIN_SIGMA:
            return False
    elif float(grain_ratio(batch).mean()) > CAMERA_GRAIN_RATIO:
        return True
    return float(jpeg_grid(batch).mean()) > CAMERA_JPEG_GRID


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
