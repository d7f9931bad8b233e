"""Read and write images of any common kind; the one place where numpy arrays become tensors.

Arrays at the API edge are `HW` (gray) or `HWC` (C = 2 gray+alpha, 3 RGB, 4 RGBA) with dtype
uint8, uint16 or float. Tensors inside the toolkit are `(C, H, W)` float32 in [0, 1]; alpha is
split off (see `split_alpha`) because no denoiser should see it.

Pillow decodes 8-bit files and 16-bit gray PNGs, but silently truncates 16-bit colour PNG/TIFF to
8 bits, so those go through a small PNG codec (`png16.py`) and through `tifffile` (a
scikit-image dependency, `imagedecode.py`) respectively.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from .decoders import (
    READ_ERRORS,
    frame_count,
    header_size,
    pixel_limit_lifted,
    warnings_as_one_note,
)
from .errors import DataError, InputWarning
from .files import atomic_path
from .imagedecode import orient, read_pil, read_tiff
from .imagemeta import NONE, ImageMetadata
from .png16 import decode_png16, encode_png16

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".ppm", ".pgm")
_SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF"}
GRAY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma

Size = int | tuple[int, int]
ArrayOrTensor = np.ndarray | Tensor


def _hw(size: Size) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


# ----------------------------------------------------------------------------- reading


def read_image(
    path: str | os.PathLike, *, size: Size | None = None, allow_large: bool = False
) -> np.ndarray:
    """Decode an image file to `HW`/`HWC` uint8, uint16 or float32, EXIF orientation applied.

    `size` (H, W) or an int for a square, is a speed hint for 8-bit files: JPEGs are decoded at a
    reduced DCT scale no smaller than `size` and then resized with antialiasing, which is several
    times faster than a full decode for large photos. Other files come back at stored size.
    Images with more pixels than Pillow's decompression-bomb limit (`Image.MAX_IMAGE_PIXELS`,
    89.5 MP) are refused unless `allow_large`, by the size in the header of whichever decoder
    reads the file, before any pixel is read. Raises DataError naming the file when it is
    missing, unreadable, corrupt or too large. Only the first frame of an animation or
    multi-page TIFF is read: an InputWarning says so, as it does for damaged metadata.
    """
    path = Path(path)
    if not path.is_file():
        if path.is_symlink() and not path.exists():
            raise DataError(f"cannot read image {path}: a link to a missing file")
        if path.exists():  # a folder, a FIFO (reading it would wait forever), a device
            raise DataError(f"cannot read image {path}: not a regular file")
        raise DataError(f"image file not found: {path}")
    with pixel_limit_lifted() as limit, warnings_as_one_note(path):
        try:
            if not allow_large:
                _check_pixel_count(path, limit)
            image = _decode(path, size)
            frames = frame_count(path)
        except DataError:
            raise
        except READ_ERRORS as exc:
            raise DataError(f"cannot read image {path}: {exc}") from None
        if frames > 1:
            warnings.warn(
                InputWarning(f"{path} holds {frames} frames; frame 1 of {frames} was read"),
                stacklevel=2,
            )
        if image.dtype.kind == "f":
            _check_float_range(image, str(path))
        return image


def _check_pixel_count(path: Path, limit: int | None) -> None:
    if limit is None:  # the caller turned Pillow's limit off
        return
    found = header_size(path)
    if found is None:
        return  # no header any decoder knows: the decoder reports the file as unreadable
    w, h = found
    if w * h > limit:
        raise DataError(
            f"{path} is {w}x{h} ({w * h / 1e6:.1f} MP), above the decompression-bomb limit of "
            f"{limit / 1e6:.1f} MP; if you trust the file, pass --allow-large"
        )


def _decode(path: Path, size: Size | None) -> np.ndarray:
    if path.suffix.lower() in (".tif", ".tiff"):
        array = read_tiff(path)
        if array is not None:
            return array
    png16 = decode_png16(path)
    if png16 is not None:
        return orient(*png16)
    return read_pil(path, None if size is None else _hw(size))


# ----------------------------------------------------------------------------- conversion


def split_alpha(image: ArrayOrTensor) -> tuple[ArrayOrTensor, ArrayOrTensor | None]:
    """(colour, alpha) of an HWC array or (C, H, W) tensor with 2 or 4 channels; alpha None else.

    Alpha keeps its channel axis: `(H, W, 1)` for arrays, `(1, H, W)` for tensors.
    """
    if isinstance(image, Tensor):
        if image.dim() == 3 and image.shape[0] in (2, 4):
            return image[:-1], image[-1:]
        return image, None
    if image.ndim == 3 and image.shape[-1] in (2, 4):
        return image[..., :-1], image[..., -1:]
    return image, None


# Float pixels are on the [0, 1] scale; unclipped noise may take them past either end (sigma
# 50/255 reaches about 1.8 in a large image, and 2.5 only 7.6 sigma out), but not past this: a
# value of 3 or 200 means a 0-255 (or other) scale, which would be read wrong, so it is refused.
FLOAT_RANGE = (-1.5, 2.5)


def _check_float_range(array: np.ndarray, what: str = "a float image") -> None:
    if array.size == 0:
        return
    low, high = float(np.min(array)), float(np.max(array))
    if not (np.isfinite(low) and np.isfinite(high)):
        raise DataError(f"{what} holds NaN or inf pixels; float images must be finite")
    if low < FLOAT_RANGE[0] or high > FLOAT_RANGE[1]:
        raise DataError(
            f"{what} has float pixels from {low:.4g} to {high:.4g}; float images are on the "
            f"[0, 1] scale ({FLOAT_RANGE[0]:g} to {FLOAT_RANGE[1]:g} allowed for unclipped "
            "noise): divide 0-255 values by 255, or pass uint8 / uint16"
        )


def to_tensor(array: np.ndarray) -> Tensor:
    """HW/HWC array -> (C, H, W) float32 in [0, 1]; alpha dropped (use `split_alpha` to keep it).

    uint8 is divided by 255, uint16 by 65535, bool maps to {0, 1}; float input is assumed to be
    on the [0, 1] scale already and passes through unchanged. A float array with values
    outside `FLOAT_RANGE` (e.g. on a 0-255 scale), nan or inf is a DataError.
    """
    array = np.asarray(array)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(f"expected an HW or HWC image with 1-4 channels, got {array.shape}")
    array, _ = split_alpha(array)
    if array.dtype == np.uint8:
        scale = 255.0
    elif array.dtype == np.uint16:
        scale = 65535.0
    elif array.dtype == np.bool_:
        scale = 1.0
    elif array.dtype.kind == "f":
        _check_float_range(array)
        scale = 1.0
    else:
        raise ValueError(f"unsupported image dtype {array.dtype}; use uint8, uint16 or float")
    # a copy: never a view of the caller's (maybe read-only) array
    tensor = torch.from_numpy(np.array(array.transpose(2, 0, 1), dtype=np.float32, order="C"))
    return tensor / scale if scale != 1.0 else tensor


def from_tensor(tensor: Tensor, dtype: type | np.dtype = np.uint8) -> np.ndarray:
    """(C, H, W) or (1, C, H, W) tensor in [0, 1] -> HWC array (HW when C == 1).

    Integer dtypes are clipped to [0, 1] and rounded to the full range (255 or 65535); float
    dtypes pass values through unclipped.
    """
    t = tensor.detach().to("cpu", torch.float32)
    if t.dim() == 4 and t.shape[0] == 1:
        t = t[0]
    if t.dim() == 2:
        t = t.unsqueeze(0)
    if t.dim() != 3:
        raise ValueError(f"expected a (C, H, W) tensor, got {tuple(tensor.shape)}")
    array = t.permute(1, 2, 0).numpy()
    array = array[..., 0] if array.shape[-1] == 1 else array
    return _quantize(array, np.dtype(dtype))


def _quantize(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Convert between uint8 / uint16 / [0, 1] float, rescaling to the target's full range."""
    if array.dtype == dtype:
        return np.array(array, order="C")  # always a copy: never alias the caller's tensor
    if dtype.kind == "f":
        return _unit_scale(array).astype(dtype)
    top = float(np.iinfo(dtype).max)
    if array.dtype == np.bool_:
        return array.astype(dtype) * dtype.type(top)
    return np.round(np.clip(_unit_scale(array), 0.0, 1.0) * top).astype(dtype)


def _unit_scale(array: np.ndarray) -> np.ndarray:
    """Array values as float32 on the [0, 1] scale (uint8 / 255, uint16 / 65535)."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535.0
    return array.astype(np.float32)


def convert_channels(image: Tensor, channels: int | None) -> Tensor:
    """(..., C, H, W) -> `channels` channels: RGB->gray with BT.601 weights, gray->RGB repeats."""
    have = image.shape[-3]
    if channels is None or channels == have:
        return image
    if channels == 1 and have == 3:
        weights = image.new_tensor(GRAY_WEIGHTS).view(3, 1, 1)
        return (image * weights).sum(-3, keepdim=True)
    if channels == 3 and have == 1:
        return image.expand(*image.shape[:-3], 3, *image.shape[-2:]).clone()
    raise ValueError(f"cannot convert a {have}-channel image to {channels} channels (use 1 or 3)")


def resize(image: Tensor, size: Size) -> Tensor:
    """Resize (C, H, W) or (B, C, H, W) to `size` (H, W) or size x size: bicubic, antialiased."""
    h, w = _hw(size)
    if tuple(image.shape[-2:]) == (h, w):
        return image
    batch = image if image.dim() == 4 else image.unsqueeze(0)
    out = F.interpolate(batch, size=(h, w), mode="bicubic", align_corners=False, antialias=True)
    out = out.clamp_(0.0, 1.0)  # bicubic overshoots at edges
    return out if image.dim() == 4 else out[0]


def load_image(
    path: str | os.PathLike,
    *,
    channels: int | None = None,
    size: Size | None = None,
    allow_large: bool = False,
) -> Tensor:
    """Read a file into a (C, H, W) float32 tensor in [0, 1]; alpha is dropped.

    `channels`: None keeps the stored count, 1 converts to gray, 3 to RGB. `size`: resize to
    (H, W) or size x size (aspect ratio not kept), antialiased; None keeps the stored size.
    `allow_large`: see `read_image`.
    """
    image = to_tensor(read_image(path, size=size, allow_large=allow_large))
    if size is not None:
        image = resize(image, size)  # 16-bit and float files are not resized while decoding
    return convert_channels(image, channels)


# ----------------------------------------------------------------------------- writing


def save_image(
    image: Tensor | np.ndarray,
    path: str | os.PathLike,
    *,
    bit_depth: int = 8,
    alpha: Tensor | np.ndarray | None = None,
    quality: int = 95,
    metadata: ImageMetadata = NONE,
) -> Path:
    """Write an image atomically (temp file in the same folder, then os.replace).

    `image`: (C, H, W) / (1, C, H, W) tensor in [0, 1], or an HW/HWC array (uint8, uint16 or
    [0, 1] float). `alpha`: optional (1, H, W) tensor or HW array appended as the last channel.
    The format follows the extension (.png, .jpg/.jpeg, .tif/.tiff); `bit_depth` is 8 or 16
    (16 for PNG and TIFF only). `metadata`: ICC profile, EXIF and DPI to write (see
    `imagemeta`; TIFF gets no EXIF). Parent folders are created. Returns the path written.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in _SAVE_FORMATS:
        raise DataError(f"cannot save {path}: unknown extension; use one of .png, .jpg, .tif")
    if bit_depth not in (8, 16):
        raise DataError(f"cannot save {path}: bit_depth must be 8 or 16, not {bit_depth}")
    if bit_depth == 16 and _SAVE_FORMATS[ext] == "JPEG":
        raise DataError(f"cannot save {path}: JPEG holds 8 bits; use .png or .tif for 16-bit")
    dtype = np.dtype(np.uint8 if bit_depth == 8 else np.uint16)
    array = _as_array(image, dtype)
    if alpha is not None:
        alpha_array = _as_array(alpha, dtype)
        array = np.concatenate([array.reshape(*array.shape[:2], -1), alpha_array[..., None]], -1)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 3 and array.shape[-1] in (2, 4) and _SAVE_FORMATS[ext] == "JPEG":
        raise DataError(f"cannot save {path}: JPEG has no alpha channel; use .png")

    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        _encode(array, f, _SAVE_FORMATS[ext], quality, metadata)
    return path


def _as_array(image: Tensor | np.ndarray, dtype: np.dtype) -> np.ndarray:
    if isinstance(image, Tensor):
        return from_tensor(image, dtype)
    array = np.asarray(image)
    if array.ndim not in (2, 3):
        raise ValueError(f"expected an HW or HWC array, got shape {array.shape}")
    return _quantize(array, dtype)


# zlib level of 8-bit PNGs: 1 writes a 4 MP photo in 0.39 s against 1.37 s at Pillow's default
# 6, for a file 4.5 % larger (measured on a denoised 2048x2048 photo, 2026-12-06); a denoised
# photo is written once and is not where the disk goes.
PNG_LEVEL = 1


def _encode(array: np.ndarray, f, fmt: str, quality: int, metadata: ImageMetadata) -> None:
    if fmt == "TIFF":
        import tifffile

        options = _tiff_options(array) | metadata.tifffile_options()
        tifffile.imwrite(f, array, compression="zlib", **options)
    elif fmt == "PNG" and array.dtype == np.uint16:
        f.write(encode_png16(array, metadata))
    else:
        options = {"JPEG": {"quality": quality}, "PNG": {"compress_level": PNG_LEVEL}}.get(fmt, {})
        Image.fromarray(array).save(f, format=fmt, **options, **metadata.pillow_options(fmt))


def _tiff_options(array: np.ndarray) -> dict:
    channels = 1 if array.ndim == 2 else array.shape[-1]
    options = {"photometric": "rgb" if channels >= 3 else "minisblack", "planarconfig": "contig"}
    if channels in (2, 4):  # without this tifffile reads the last axis as extra pages/planes
        options["extrasamples"] = ("unassalpha",)
    return options
