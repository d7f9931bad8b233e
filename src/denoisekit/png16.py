"""A small 16-bit colour PNG codec: Pillow decodes such files to 8 bits and cannot write them."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import DataError
from .imagemeta import EXIF_ORIENTATION, NONE, PNG_SIGNATURE, ImageMetadata

_PNG_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # PNG colour type -> samples per pixel


def _png_chunks(data: bytes):
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        yield kind, data[pos + 8 : pos + 8 + length]
        pos += 12 + length


def decode_png16(path: Path) -> tuple[np.ndarray, int] | None:
    """(HWC uint16 array, EXIF orientation) of a 16-bit colour PNG; None for any other file.

    Pillow keeps only the high byte of such files, hence this decoder."""
    with open(path, "rb") as f:
        head = f.read(29)
    if len(head) < 29 or head[:8] != PNG_SIGNATURE:
        return None
    width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", head[16:29])
    if depth != 16 or ctype not in (2, 4, 6):
        return None
    if interlace:
        raise DataError(f"cannot read image {path}: interlaced 16-bit colour PNG; re-save it")
    chunks = list(_png_chunks(path.read_bytes()))
    idat = b"".join(body for kind, body in chunks if kind == b"IDAT")
    channels = _PNG_CHANNELS[ctype]
    raw = _unfilter(zlib.decompress(idat), height, width * channels * 2, channels * 2)
    array = raw.view(">u2").reshape(height, width, channels).astype(np.uint16)
    orientation = 1
    for kind, body in chunks:
        if kind == b"eXIf":
            exif = Image.Exif()
            exif.load(body)
            orientation = exif.get(EXIF_ORIENTATION, 1)
    return array, orientation


def _unfilter(data: bytes, rows: int, stride: int, bpp: int) -> np.ndarray:
    """Undo PNG row filters (RFC 2083 section 6); returns (rows, stride) uint8."""
    lines = np.frombuffer(data, np.uint8)[: rows * (stride + 1)].reshape(rows, stride + 1)
    out = np.zeros((rows, stride), np.uint8)
    prev = np.zeros(stride, np.uint8)
    for y in range(rows):
        kind, line = lines[y, 0], lines[y, 1:]
        if kind == 0:
            out[y] = line
        elif kind == 1:  # Sub: running sum of each byte lane, wrapping mod 256
            out[y] = np.cumsum(line.reshape(-1, bpp), axis=0, dtype=np.uint8).ravel()
        elif kind == 2:
            out[y] = line + prev
        elif kind in (3, 4):  # Average / Paeth depend on the decoded left byte: sequential
            out[y] = _unfilter_sequential(kind, line.tolist(), prev.tolist(), bpp)
        else:
            raise ValueError(f"bad PNG filter type {kind}")
        prev = out[y]
    return out


def _unfilter_sequential(kind: int, line: list[int], up: list[int], bpp: int) -> list[int]:
    cur = [0] * len(line)
    for i, v in enumerate(line):
        a = cur[i - bpp] if i >= bpp else 0
        b = up[i]
        if kind == 3:
            cur[i] = (v + ((a + b) >> 1)) & 255
            continue
        c = up[i - bpp] if i >= bpp else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        cur[i] = (v + pred) & 255
    return cur


def encode_png16(array: np.ndarray, metadata: ImageMetadata = NONE) -> bytes:
    """16-bit PNG of an HW/HWC uint16 array (Pillow cannot write 16-bit colour), with the ICC
    profile, EXIF and DPI of `metadata`."""
    height, width = array.shape[:2]
    channels = 1 if array.ndim == 2 else array.shape[-1]
    ctype = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = array.astype(">u2").reshape(height, -1).view(np.uint8)
    # "Up" filter on every row: vectorised here and in `_unfilter`, and smaller than no filter.
    up = np.vstack([np.zeros_like(rows[:1]), rows[:-1]])
    body = np.hstack([np.full((height, 1), 2, np.uint8), rows - up])

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload)
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 16, ctype, 0, 0, 0)
    compressed = zlib.compress(body.tobytes(), 6)
    extra = b""
    if metadata.icc_profile is not None:  # name, NUL, compression method 0 (zlib), profile
        extra += chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(metadata.icc_profile))
    if metadata.dpi is not None:  # pixels per metre, unit 1
        x, y = (round(d / 0.0254) for d in metadata.dpi)
        extra += chunk(b"pHYs", struct.pack(">IIB", x, y, 1))
    if metadata.exif is not None:
        extra += chunk(b"eXIf", _strip_exif_header(metadata.exif))
    ihdr, idat = chunk(b"IHDR", header), chunk(b"IDAT", compressed)
    return PNG_SIGNATURE + ihdr + extra + idat + chunk(b"IEND", b"")


def _strip_exif_header(exif: bytes) -> bytes:
    """PNG's eXIf holds the TIFF-structured block without JPEG's "Exif\\0\\0" prefix."""
    return exif[6:] if exif.startswith(b"Exif\0\0") else exif
