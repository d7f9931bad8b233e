"""Hostile files made byte by byte: headers that lie about their size, broken EXIF blocks."""

import struct
import zlib
from pathlib import Path

import numpy as np
import tifffile


def png_claiming(path: Path, width: int, height: int) -> Path:
    """A PNG whose header says width x height 8-bit gray, with a few bytes of pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )
    return path


def tiff_claiming(path: Path, width: int, height: int) -> Path:
    """A float32 RGB TIFF (which Pillow cannot open) whose header says width x height."""
    tifffile.imwrite(path, np.zeros((8, 8, 3), np.float32), photometric="rgb")
    data = bytearray(path.read_bytes())
    assert data[:2] == b"II"
    ifd = struct.unpack_from("<I", data, 4)[0]
    (count,) = struct.unpack_from("<H", data, ifd)
    for i in range(count):
        at = ifd + 2 + 12 * i
        tag = struct.unpack_from("<H", data, at)[0]
        if tag in (256, 257):  # ImageWidth, ImageLength: made LONGs with the claimed size
            struct.pack_into("<HHII", data, at, tag, 4, 1, width if tag == 256 else height)
    path.write_bytes(bytes(data))
    return path


def exif_block(entries: list[tuple[int, int, int, bytes]], next_ifd: bytes = b"") -> bytes:
    """A little-endian EXIF block (as Pillow's `exif=` takes it) of one IFD of
    (tag, type, count, 4-byte value) entries, then `next_ifd` appended as the following IFD."""
    body = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        body += struct.pack("<HHI", tag, kind, count) + value
    following = 8 + len(body) + 4 if next_ifd else 0
    return b"Exif\0\0II*\0" + struct.pack("<I", 8) + body + struct.pack("<I", following) + next_ifd
