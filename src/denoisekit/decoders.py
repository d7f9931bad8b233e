"""Guards around Pillow's decoders, shared by pixel reading (`io.py`) and metadata reading
(`imagemeta.py`)."""

from __future__ import annotations

import contextlib
import struct
import warnings
import zlib
from pathlib import Path

from PIL import Image

# What decoders raise on corrupt or hostile files (DecompressionBombError: absurd pixel counts;
# MemoryError: a size the header check let through with --allow-large).
READ_ERRORS = (
    *(OSError, ValueError, SyntaxError, EOFError, IndexError, MemoryError),
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


def header_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of an image from its header alone, by whichever decoder will read its
    pixels: tifffile's first page for a TIFF (Pillow cannot open float or planar TIFFs, whose
    size would otherwise go unchecked), else Pillow; None when neither can parse it."""
    if path.suffix.lower() in (".tif", ".tiff"):
        size = _tiff_size(path)
        if size is not None:
            return size
    try:
        with Image.open(path) as img:
            return img.size
    except READ_ERRORS:
        return None


def _tiff_size(path: Path) -> tuple[int, int] | None:
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            return int(page.imagewidth), int(page.imagelength)
    except (*READ_ERRORS, NotImplementedError, KeyError, TypeError, AttributeError):
        return None


def frame_count(path: Path) -> int:
    """How many frames (GIF, APNG, WebP) or full-size pages (TIFF) a file holds; 1 when it
    cannot tell. Camera JPEGs with an embedded preview (MPO) count as 1: the preview is not
    another picture."""
    if path.suffix.lower() in (".tif", ".tiff"):
        import tifffile

        try:
            with tifffile.TiffFile(path) as tif:
                return sum(1 for page in tif.pages if not getattr(page, "is_reduced", False))
        except (*READ_ERRORS, NotImplementedError, KeyError, TypeError, AttributeError):
            return 1
    try:
        with Image.open(path) as img:
            if img.format in ("GIF", "PNG", "WEBP"):
                return int(getattr(img, "n_frames", 1))
    except READ_ERRORS:
        pass
    return 1


@contextlib.contextmanager
def warnings_as_one_note(path: Path):
    """Pillow's and tifffile's warnings while reading `path` (a damaged EXIF block, a
    truncated tag) become one InputWarning naming the file, which the CLI prints as one
    `note:` line; InputWarnings raised inside pass through as they are."""
    from .errors import InputWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    ours = [w for w in caught if issubclass(w.category, InputWarning)]
    theirs = [str(w.message) for w in caught if not issubclass(w.category, InputWarning)]
    for w in ours:
        warnings.warn(w.message, stacklevel=3)
    if theirs:
        more = f" (and {len(theirs) - 1} more)" if len(theirs) > 1 else ""
        first = " ".join(theirs[0].split())
        warnings.warn(InputWarning(f"{path}: {first}{more}"), stacklevel=3)
