"""Where a denoiser reads an image from, and where the denoised rows go.

A 24-megapixel RGB photo is 72 MB as 8-bit pixels and 288 MB per float32 copy; converting it
whole, blending tiles into a full-size float accumulator and rounding the result back held
about four such copies at once (2 GB peak with the libraries). `ImageSource` reads the input
one crop (and one channel, for the noise estimate) at a time, converted to float32 as it is
read, and `denoise_array` writes each finished band of rows (`tiles.tiled_bands`) straight
into the output array, so a numpy image costs its own size twice (input and output) plus one
band of rows. The values are those of the whole-image path to the bit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from ..errors import DataError

if TYPE_CHECKING:
    from .loaded import LoadedDenoiser
    from .tiles import Progress


@dataclass(frozen=True)
class ImageSource:
    """An image of `shape` (B, C, H, W) read a region at a time: `crop(y, x, h, w)` gives that
    region as float32 (B, C, h, w) in [0, 1]; `whole()` the whole image (only what needs it
    calls it); `channel(j)` (B, 1, H, W) of channel j (default: a crop of the whole height
    and width)."""

    crop: Callable[[int, int, int, int], Tensor]
    batch: int
    channels: int
    height: int
    width: int
    whole: Callable[[], Tensor]
    read_channel: Callable[[int], Tensor] | None = None

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return self.batch, self.channels, self.height, self.width

    def channel(self, j: int) -> Tensor:
        if self.read_channel is not None:
            return self.read_channel(j)
        return self.crop(0, 0, self.height, self.width)[:, j : j + 1]


def array_source(planes: np.ndarray) -> ImageSource:
    """An HWC numpy image (uint8, uint16 or float in [0, 1], no alpha) as a one-image source,
    each region converted to float32 by `io.to_tensor` when read."""
    from ..io import _check_float_range, to_tensor

    h, w, c = planes.shape
    if h * w * c == 0:
        raise DataError(f"the image is empty (shape {planes.shape})")
    if planes.dtype.kind == "f":
        # `to_tensor` checks each region again; this refuses a bad image before any tile runs
        _check_float_range(planes)

    def crop(y: int, x: int, height: int, width: int) -> Tensor:
        return to_tensor(planes[y : y + height, x : x + width]).unsqueeze(0)

    return ImageSource(
        crop,
        1,
        c,
        h,
        w,
        whole=lambda: crop(0, 0, h, w),
        read_channel=lambda j: to_tensor(planes[..., j : j + 1]).unsqueeze(0),
    )


@torch.no_grad()
def denoise_array(
    denoiser: LoadedDenoiser,
    image: np.ndarray,
    sigma,
    tile: int | None,
    overlap: int,
    strength: float,
    progress: Progress | None,
) -> np.ndarray:
    """`LoadedDenoiser.denoise` of a numpy HW / HWC image: the same dtype and layout back,
    alpha passed through, written band by band into the output array."""
    from ..io import _quantize

    if image.ndim not in (2, 3) or (image.ndim == 3 and not 1 <= image.shape[-1] <= 4):
        raise ValueError(f"expected an HW or HWC image with 1-4 channels, got {image.shape}")
    if image.dtype not in (np.uint8, np.uint16) and image.dtype.kind != "f":
        raise ValueError(f"unsupported image dtype {image.dtype}; use uint8, uint16 or float")
    planes = image if image.ndim == 3 else image[..., None]
    split = planes.shape[-1] in (2, 4)  # gray+alpha, RGBA
    colour = planes[..., :-1] if split else planes
    source = array_source(colour)
    bands = denoiser.denoised_bands(source, sigma, tile, overlap, strength, progress)
    result = np.empty(planes.shape, dtype=image.dtype)
    c = colour.shape[-1]
    for y, band in bands:
        rows = band[0].permute(1, 2, 0).numpy()
        result[y : y + rows.shape[0], :, :c] = _quantize(rows, image.dtype)
    if split:
        result[..., -1] = planes[..., -1]
    return result if image.ndim == 3 else result[..., 0]
