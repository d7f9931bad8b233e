"""Hostile image files and arrays: headers claiming billions of pixels, floats on the wrong
scale, several frames, damaged EXIF. Each gets one clear line, before any pixel is read."""

import struct
import warnings

import numpy as np
import pytest
import tifffile
from PIL import Image

from denoisekit.errors import DataError, InputWarning
from denoisekit.imagemeta import read_metadata
from denoisekit.io import read_image, to_tensor

from .craft import exif_block, png_claiming, tiff_claiming


def test_a_float_tiff_claiming_60000x60000_is_refused_before_its_pixels(tmp_path):
    path = tiff_claiming(tmp_path / "bomb.tif", 60_000, 60_000)
    with pytest.raises(DataError, match=r"60000x60000 \(3600.0 MP\).*--allow-large"):
        read_image(path)
    with pytest.raises(DataError, match="cannot read image"):  # lifted: a clear failure still
        read_image(path, allow_large=True)


def test_a_png_claiming_a_billion_pixels_is_refused(tmp_path):
    path = png_claiming(tmp_path / "bomb.png", 31_623, 31_623)
    with pytest.raises(DataError, match=r"31623x31623 .*decompression-bomb limit"):
        read_image(path)


def test_floats_on_a_0_255_scale_are_refused_not_read_as_0_1(tmp_path):
    with pytest.raises(DataError, match=r"from 0 to 3.*\[0, 1\] scale"):
        to_tensor(np.linspace(0, 3, 64, dtype=np.float32).reshape(8, 8))
    with pytest.raises(DataError, match="NaN or inf"):
        to_tensor(np.full((8, 8), np.nan, np.float32))
    noisy = np.linspace(-0.8, 1.8, 64, dtype=np.float32).reshape(8, 8)  # unclipped noise passes
    assert to_tensor(noisy).max() == pytest.approx(1.8)
    tifffile.imwrite(tmp_path / "scaled.tif", np.full((8, 8), 200.0, np.float32))
    with pytest.raises(DataError, match=r"scaled.tif has float pixels from 200 to 200"):
        read_image(tmp_path / "scaled.tif")


@pytest.mark.parametrize("kind", ["tif", "gif"])
def test_only_frame_1_of_a_3_frame_file_is_read_and_a_note_says_so(tmp_path, kind):
    frames = [np.full((8, 8), 60 * i, np.uint8) for i in range(3)]
    path = tmp_path / f"three.{kind}"
    if kind == "tif":
        tifffile.imwrite(path, np.stack(frames), photometric="minisblack")  # 3 pages
    else:
        first, *rest = (Image.fromarray(f) for f in frames)
        first.save(path, save_all=True, append_images=rest)
    with pytest.warns(InputWarning, match=r"holds 3 frames; frame 1 of 3 was read"):
        image = read_image(path)
    assert image.shape[:2] == (8, 8) and image.max() == 0


def test_damaged_exif_is_one_note_not_raw_pillow_warnings(tmp_path):
    # a Make tag (271) claiming 100 bytes at an offset past the end of the block
    exif = exif_block([(271, 2, 100, struct.pack("<I", 60_000))])
    path = tmp_path / "broken.jpg"
    Image.new("RGB", (16, 16), "gray").save(path, exif=exif)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_image(path)
        read_metadata(path)
    assert caught and all(issubclass(w.category, InputWarning) for w in caught)
    assert all(str(w.message).startswith(str(path)) for w in caught)


def test_a_jpeg_whose_exif_thumbnail_claims_4_gib_reads_and_keeps_its_pixels(tmp_path):
    thumbnail = exif_block(  # IFD1: JPEGInterchangeFormat at 0x10000, 0xFFFFFFFF bytes long
        [(0x0112, 3, 1, struct.pack("<HH", 1, 0))],
        struct.pack("<H", 2)
        + struct.pack("<HHII", 0x0201, 4, 1, 0x10000)
        + struct.pack("<HHII", 0x0202, 4, 1, 0xFFFFFFFF)
        + struct.pack("<I", 0),
    )
    path = tmp_path / "thumb.jpg"
    Image.new("L", (16, 16), 128).save(path, exif=thumbnail)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        assert read_image(path).shape == (16, 16)
        read_metadata(path)  # no exception, whatever the thumbnail claims
