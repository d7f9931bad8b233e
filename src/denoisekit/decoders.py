"""Guards around Pillow's decoders, shared by pixel reading (`io.py`) and metadata reading
(`imagemeta.py`)."""

from __future__ import annotations

import contextlib
import struct
import zlib

from PIL import Image

# What decoders raise on corrupt or hostile files (DecompressionBombError: absurd pixel counts).
READ_ERRORS = (
    *(OSError, ValueError, SyntaxError, EOFError, IndexError),
    *(struct.error, zlib.error, Image.DecompressionBombError),
)


@contextlib.contextmanager
def pixel_limit_lifted():
    """Pillow's own bomb check off while decoding (yields its limit): `_check_pixel_count`
    applies the limit first, with a message that says what to do."""
    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        yield limit
    finally:
        Image.MAX_IMAGE_PIXELS = limit
