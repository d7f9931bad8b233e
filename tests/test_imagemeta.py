"""ICC profile, EXIF and DPI survive `denoise` and `noise`, describing the upright output."""

import numpy as np
import pytest
from PIL import Image, ImageCms

from denoisekit.batch.jobs import write_image
from denoisekit.cli import main
from denoisekit.imagemeta import ImageMetadata, profile_space, read_metadata
from denoisekit.io import read_image

_MAKE, _ORIENTATION, _EXIF_IFD, _ISO = 0x010F, 0x0112, 0x8769, 0x8827
_PIXEL_X, _PIXEL_Y = 0xA002, 0xA003


# made once: a profile's header holds its creation time, so two made a second apart differ
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _camera_exif(orientation: int, width: int, height: int) -> bytes:
    exif = Image.Exif()
    exif[_MAKE] = "InspectionCam"
    exif[_ORIENTATION] = orientation
    sub = exif.get_ifd(_EXIF_IFD)
    sub[_ISO] = 3200
    sub[_PIXEL_X], sub[_PIXEL_Y] = width, height
    return exif.tobytes()


@pytest.fixture
def photo(tmp_path):
    """A 40x60 (HxW as stored) colour JPEG, stored rotated (orientation 6), with an sRGB
    profile, camera EXIF and 300x72 DPI."""
    rng = np.random.default_rng(0)
    pixels = rng.integers(60, 200, (40, 60, 3), dtype=np.uint8)
    path = tmp_path / "in" / "photo.jpg"
    path.parent.mkdir()
    Image.fromarray(pixels).save(
        path, quality=95, icc_profile=_SRGB, exif=_camera_exif(6, 60, 40), dpi=(300, 72)
    )
    return path


def _check_upright(path, icc: bytes | None):
    with Image.open(path) as img:
        assert img.info.get("icc_profile") == icc
        exif = img.getexif()
        assert exif[_MAKE] == "InspectionCam"
        assert exif.get(_ORIENTATION, 1) == 1  # pixels are written upright
        sub = exif.get_ifd(_EXIF_IFD)
        assert sub[_ISO] == 3200
        assert (sub[_PIXEL_X], sub[_PIXEL_Y]) == (40, 60) == img.size


@pytest.mark.parametrize("ext", [".jpg", ".png", ".webp"])
def test_denoise_keeps_profile_and_exif_with_orientation_applied(photo, tmp_path, ext, capsys):
    out = tmp_path / "out"
    args = ["denoise", str(photo.parent), "-o", str(out), "--model", "nlm", "--sigma", "0.05"]
    assert main([*args, "--format", ext[1:]]) == 0
    written = out / f"photo{ext}"
    assert read_image(written).shape == (60, 40, 3) == read_image(photo).shape
    _check_upright(written, _SRGB)
    if ext != ".webp":  # WebP has no DPI field
        with Image.open(written) as img:
            assert np.allclose(img.info["dpi"], (72, 300), atol=0.5)  # swapped with the axes


def test_noise_keeps_metadata_and_strip_metadata_drops_it(photo, tmp_path, capsys):
    kept, stripped = tmp_path / "kept.jpg", tmp_path / "stripped.jpg"
    assert main(["noise", str(photo), "-o", str(kept), "--noise", "gaussian:0.05"]) == 0
    _check_upright(kept, _SRGB)
    spec = ["--noise", "gaussian:0.05", "--strip-metadata"]
    assert main(["noise", str(photo), "-o", str(stripped), *spec]) == 0
    with Image.open(stripped) as img:
        assert "icc_profile" not in img.info
        assert _MAKE not in img.getexif()


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_16_bit_png_and_tiff_carry_the_profile(tmp_path, dtype):
    image = np.full((8, 10, 3), 0.5, np.float32)
    if dtype == np.uint16:
        image = (image * 65535).astype(np.uint16)
    metadata = ImageMetadata(icc_profile=_SRGB, exif=_camera_exif(1, 10, 8), dpi=(150.0, 150.0))
    for ext in (".png", ".tif") if dtype == np.uint16 else (".tif",):
        path = write_image(image, tmp_path / f"deep{ext}", metadata=metadata)
        assert np.array_equal(read_image(path), image)
        read = read_metadata(path)
        assert read.icc_profile == metadata.icc_profile
        assert np.allclose(read.dpi, (150, 150), atol=0.5)
        if ext == ".png":
            exif = Image.Exif()
            exif.load(read.exif)
            assert exif[_MAKE] == "InspectionCam"


def test_a_profile_for_another_colour_space_is_dropped(tmp_path):
    rgb = ImageMetadata(icc_profile=_SRGB)
    assert profile_space(rgb.icc_profile) == b"RGB "
    assert rgb.for_channels(3) is rgb and rgb.for_channels(4) is rgb
    assert rgb.for_channels(1).icc_profile is None and rgb.for_channels(2).icc_profile is None
    gray = ImageMetadata(icc_profile=_SRGB[:16] + b"GRAY" + _SRGB[20:])
    assert gray.for_channels(1) is gray and gray.for_channels(3).icc_profile is None
    # the CMYK profile of a CMYK JPEG (read as RGB) must not tag the RGB output
    cmyk = ImageMetadata(icc_profile=_SRGB[:16] + b"CMYK" + _SRGB[20:])
    assert cmyk.for_channels(3).icc_profile is None
    # a gray output (a gray model's, say) must not be tagged with the colour input's profile
    path = write_image(np.zeros((6, 6), np.uint8), tmp_path / "gray.png", metadata=rgb)
    with Image.open(path) as img:
        assert "icc_profile" not in img.info


def test_files_without_metadata_read_as_none(tmp_path):
    plain = tmp_path / "plain.png"
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(plain)
    assert read_metadata(plain) == ImageMetadata()
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    assert read_metadata(junk) == ImageMetadata()


def test_exif_too_long_for_a_jpeg_marker_is_left_out_not_fatal(tmp_path):
    exif = Image.Exif()
    exif[0x010E] = "x" * 70_000  # ImageDescription: more than one JPEG APP1 marker holds
    metadata = ImageMetadata(icc_profile=_SRGB, exif=exif.tobytes())
    jpeg = write_image(np.zeros((4, 4, 3), np.uint8), tmp_path / "long.jpg", metadata=metadata)
    png = write_image(np.zeros((4, 4, 3), np.uint8), tmp_path / "long.png", metadata=metadata)
    assert read_metadata(jpeg).exif is None and read_metadata(jpeg).icc_profile == _SRGB
    assert read_metadata(png).exif is not None


def test_a_damaged_exif_block_costs_the_metadata_not_the_image(tmp_path, capsys):
    import struct
    import warnings

    from PIL import ImageOps

    exif = bytearray(_camera_exif(6, 8, 8))
    # entry types and counts scrambled (found by fuzzing): Pillow reads the tags but fails to
    # write them back, which ImageOps.exif_transpose and re-saving both do
    for offset, value in ((17, 7), (47, 124), (48, 252), (96, 204)):
        exif[offset] = value
    path = tmp_path / "damaged.jpg"
    Image.fromarray(np.full((8, 8, 3), 128, np.uint8)).save(path, exif=bytes(exif))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about the corrupt block
        with Image.open(path) as img, pytest.raises(struct.error):
            ImageOps.exif_transpose(img)  # the damage this test is about
        assert read_image(path).shape == (8, 8, 3)
        assert read_metadata(path) == ImageMetadata(dpi=read_metadata(path).dpi)
        out = tmp_path / "out.jpg"
        assert main(["noise", str(path), "-o", str(out), "--noise", "gaussian:0.01"]) == 0
    assert read_image(out).shape == (8, 8, 3)
