"""Decoding image files to `HW`/`HWC` arrays through Pillow and tifffile, upright.

`io.read_image` picks the decoder (16-bit PNGs go to `png16.py`) and guards the read; this
module turns each decoder's pixels and modes into the uint8 / uint16 / float32 arrays the
toolkit works with, EXIF orientation applied.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .decoders import READ_ERRORS
from .errors import DataError
from .imagemeta import EXIF_ORIENTATION


def read_pil(path: Path, hw: tuple[int, int] | None) -> np.ndarray:
    """Decode with Pillow, upright; `hw` (H, W) resizes 8-bit images, JPEGs at a reduced DCT
    scale first, or None keeps the stored size."""
    with Image.open(path) as img:
        orientation = _orientation(img)
        if hw is not None and img.format == "JPEG":
            h, w = hw
            if orientation in (5, 6, 7, 8):  # stored transposed: ask for the stored shape
                h, w = w, h
            img.draft(img.mode, (w, h))
        img.load()
        if orientation != 1:  # not ImageOps.exif_transpose: it re-writes the EXIF, and can fail
            img = img.transpose(_TRANSPOSE[orientation])
        if hw is not None and img.mode in ("L", "RGB", "RGBA", "LA"):
            h, w = hw
            if img.size != (w, h):
                img = img.resize((w, h), Image.Resampling.BICUBIC)
        return _pil_to_array(img, path)


# EXIF orientation -> the Pillow transpose that makes the image upright
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _orientation(img) -> int:
    """The EXIF orientation (1-8); 1 when the EXIF block is damaged: the pixels are still good."""
    try:
        orientation = img.getexif().get(EXIF_ORIENTATION, 1)
    except READ_ERRORS:
        return 1
    return orientation if orientation in range(1, 9) else 1


def _pil_to_array(img, path: Path) -> np.ndarray:
    mode = img.mode
    if mode in ("P", "PA"):
        keep_alpha = mode == "PA" or "transparency" in img.info
        img = img.convert("RGBA" if keep_alpha else "RGB")
    elif mode in ("1", "La"):
        img = img.convert("L" if mode == "1" else "LA")
    elif mode == "RGBa":
        img = img.convert("RGBA")
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        img = img.convert("RGB")
    array = np.asarray(img)
    if array.dtype.kind == "u" and array.itemsize == 2:
        return array.astype(np.uint16)  # big-endian I;16B -> native
    if img.mode == "I":  # 32-bit integer: Pillow's name for some 16-bit files
        if array.size and (array.min() < 0 or array.max() > 65535):
            raise DataError(f"cannot read image {path}: 32-bit integer pixels are not supported")
        return array.astype(np.uint16)
    if array.dtype not in (np.uint8, np.float32):
        raise DataError(f"cannot read image {path}: unsupported pixel mode {img.mode}")
    return np.array(array)  # own writable copy, detached from the Pillow buffer


def read_tiff(path: Path) -> np.ndarray | None:
    """First page of a TIFF via tifffile, or None to let Pillow try (e.g. JPEG-in-TIFF)."""
    import tifffile

    as_stored = (tifffile.PHOTOMETRIC.MINISBLACK, tifffile.PHOTOMETRIC.RGB)
    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            if page.photometric not in as_stored:
                return None  # CMYK, palette, YCbCr, Lab, inverted gray: Pillow converts them
            array = page.asarray()
    except (ValueError, NotImplementedError, KeyError, IndexError):
        return None
    if array.ndim == 3 and array.shape[0] <= 4 < array.shape[-1]:  # planar CHW storage
        array = array.transpose(1, 2, 0)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if array.dtype.kind == "f":
        return array.astype(np.float32)
    if array.dtype not in (np.uint8, np.uint16) or array.ndim not in (2, 3):
        raise DataError(f"cannot read image {path}: unsupported TIFF {array.dtype} {array.shape}")
    return array


def orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) to an HW/HWC array, as ImageOps.exif_transpose does."""
    if orientation in (2, 4, 5, 7):
        array = array[:, ::-1]
    turns = {3: 2, 4: 2, 5: 1, 6: 3, 7: 3, 8: 1}.get(orientation, 0)  # counter-clockwise
    return np.ascontiguousarray(np.rot90(array, turns))
