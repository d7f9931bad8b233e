"""What an image file says about its pixels besides their values: colour profile, EXIF, DPI.

A camera photo's ICC profile says which colour space its numbers are in (Display P3, Adobe RGB,
...): a file written without it is shown as sRGB, with visibly different colours. Its EXIF holds
the camera, exposure, date and place. The file-writing verbs (`denoise`, `noise`) copy all of
this to their outputs, so a denoised photo looks and sorts like the original.

Pixels are read upright (EXIF orientation applied, `io.read_image`), so the copied EXIF says
orientation 1 and, for a file that was stored transposed, swaps the stored width/height tags and
the horizontal/vertical DPI. A profile for another colour space than the output's (the CMYK
profile of a CMYK JPEG read as RGB, an RGB profile on a gray output) is dropped rather than
written wrong. XMP packets are not copied: they may repeat the old orientation.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, replace
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

EXIF_ORIENTATION = 0x0112  # the EXIF tag of the orientation (1-8)
_EXIF_IFD = 0x8769
_PIXEL_X, _PIXEL_Y = 0xA002, 0xA003  # stored width and height, inside the Exif sub-IFD
_TRANSPOSED = (5, 6, 7, 8)  # EXIF orientations stored with width and height swapped
_JPEG_EXIF_MAX = 65533 - 8  # APP1 payload limit, less the marker's own length field


@dataclass(frozen=True)
class ImageMetadata:
    """Metadata to write beside pixels. `exif`: an EXIF block as Pillow writes it, already
    describing upright pixels; `dpi`: (horizontal, vertical) dots per inch."""

    icc_profile: bytes | None = None
    exif: bytes | None = None
    dpi: tuple[float, float] | None = None

    def for_channels(self, channels: int) -> ImageMetadata:
        """This metadata for an output with `channels` channels (alpha included): the ICC
        profile is kept only when its colour space is the output's (RGB or gray)."""
        wanted = b"GRAY" if channels in (1, 2) else b"RGB "
        if self.icc_profile is not None and profile_space(self.icc_profile) != wanted:
            return replace(self, icc_profile=None)
        return self

    def pillow_options(self, fmt: str) -> dict:
        """Keyword arguments for Pillow's `Image.save` in format `fmt` (PNG, JPEG, WEBP, ...)."""
        options: dict = {}
        if fmt in ("PNG", "JPEG", "WEBP"):  # BMP and PPM hold none of it
            if self.icc_profile is not None:
                options["icc_profile"] = self.icc_profile
            # a JPEG marker holds 64 KiB; re-serialised EXIF with a big maker note can exceed it
            if self.exif is not None and (fmt != "JPEG" or len(self.exif) <= _JPEG_EXIF_MAX):
                options["exif"] = self.exif
        if self.dpi is not None and fmt in ("PNG", "JPEG"):
            options["dpi"] = self.dpi
        return options

    def tifffile_options(self) -> dict:
        """Keyword arguments for `tifffile.imwrite`: the profile and the resolution."""
        options: dict = {}
        if self.icc_profile is not None:
            options["iccprofile"] = self.icc_profile
        if self.dpi is not None:
            options["resolution"] = self.dpi
            options["resolutionunit"] = "INCH"
        return options


NONE = ImageMetadata()


def profile_space(icc_profile: bytes) -> bytes:
    """The data colour space signature of an ICC profile: b"RGB ", b"GRAY", b"CMYK", ..."""
    return bytes(icc_profile[16:20])


def read_metadata(path: str | os.PathLike) -> ImageMetadata:
    """The ICC profile, EXIF (made to describe the upright image) and DPI of an image file.

    Only the header is read; a file that cannot be parsed has none. TIFF files give their
    profile and DPI but no EXIF, since their tags describe the TIFF layout.
    """
    from PIL import Image

    from .decoders import READ_ERRORS, pixel_limit_lifted, warnings_as_one_note

    path = Path(path)
    if path.suffix.lower() in (".tif", ".tiff"):
        with warnings_as_one_note(path):
            return _tiff_metadata(path)
    try:  # called once the pixels were read, so their size has passed (or skipped) the check
        with warnings_as_one_note(path), pixel_limit_lifted(), Image.open(path) as img:
            info = dict(img.info)
            exif = _exif(img, path)
            transposed = exif is not None and exif.get(EXIF_ORIENTATION, 1) in _TRANSPOSED
            exif_bytes = _upright_exif(exif, transposed) if exif else None
    except READ_ERRORS:  # a damaged block: the image is written without it
        return NONE
    icc = info.get("icc_profile") or None
    dpi = _dpi(info.get("dpi"))
    if dpi is not None and transposed:
        dpi = (dpi[1], dpi[0])
    return ImageMetadata(icc_profile=icc, exif=exif_bytes, dpi=dpi)


def _tiff_metadata(path: Path) -> ImageMetadata:
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            icc = page.iccprofile or None
            unit = page.tags.get("ResolutionUnit")
            dpi = page.get_resolution(2) if unit is not None and unit.value in (2, 3) else None
    except (OSError, ValueError, KeyError, IndexError, TypeError, NotImplementedError):
        return NONE
    return ImageMetadata(icc_profile=icc, dpi=_dpi(dpi))


def _exif(img, path):
    """The file's EXIF, without decoding pixels (Pillow's PNG `getexif` would, when the eXIf
    chunk comes after the image data)."""
    from PIL import Image

    if img.format == "PNG" and "exif" not in img.info:
        raw = _png_chunk(Path(path), b"eXIf")
        if raw is None:
            return None
        exif = Image.Exif()
        exif.load(raw)
        return exif
    return img.getexif()


def _upright_exif(exif, transposed: bool) -> bytes:
    exif[EXIF_ORIENTATION] = 1
    if transposed:
        sub = exif.get_ifd(_EXIF_IFD)
        if _PIXEL_X in sub and _PIXEL_Y in sub:
            sub[_PIXEL_X], sub[_PIXEL_Y] = sub[_PIXEL_Y], sub[_PIXEL_X]
    return exif.tobytes()


def _dpi(value) -> tuple[float, float] | None:
    try:
        x, y = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return (x, y) if x > 0 and y > 0 else None


def _png_chunk(path: Path, kind: bytes) -> bytes | None:
    """The body of the first `kind` chunk of a PNG file (seeking past the others), or None."""
    with open(path, "rb") as f:
        if f.read(8) != PNG_SIGNATURE:
            return None
        while len(head := f.read(8)) == 8:
            length, found = struct.unpack(">I4s", head)
            if found == kind:
                body = f.read(length)
                return body if len(body) == length else None
            if found == b"IEND":
                return None
            f.seek(length + 4, 1)  # body and CRC
    return None
