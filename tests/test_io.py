"""io.py on tiny files made here: bit depths, alpha, EXIF orientation, errors, atomic writes."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from denoisekit.errors import DataError
from denoisekit.imagedecode import orient
from denoisekit.io import (
    from_tensor,
    load_image,
    read_image,
    save_image,
    split_alpha,
    to_tensor,
)

RNG = np.random.default_rng(0)


def test_gray_png_8bit(tmp_path):
    gray = RNG.integers(0, 256, (7, 5), dtype=np.uint8)
    Image.fromarray(gray).save(tmp_path / "g.png")
    array = read_image(tmp_path / "g.png")
    assert array.dtype == np.uint8 and array.shape == (7, 5)
    tensor = to_tensor(array)
    assert tensor.shape == (1, 7, 5) and tensor.dtype == torch.float32
    torch.testing.assert_close(tensor[0], torch.from_numpy(gray).float() / 255)


def test_gray_png_16bit_by_pillow(tmp_path):
    gray = RNG.integers(0, 65536, (6, 9), dtype=np.uint16)
    Image.fromarray(gray).save(tmp_path / "g16.png")
    array = read_image(tmp_path / "g16.png")
    assert array.dtype == np.uint16 and np.array_equal(array, gray)
    assert float(to_tensor(array).max()) == pytest.approx(gray.max() / 65535)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16bit_round_trip(tmp_path, channels, ext):
    shape = (5, 7) if channels == 1 else (5, 7, channels)
    image = RNG.integers(0, 65536, shape, dtype=np.uint16)
    path = save_image(image, tmp_path / f"x{ext}", bit_depth=16)
    assert np.array_equal(read_image(path), image)


def _png16_with_filters(image: np.ndarray) -> bytes:
    """RGB 16-bit PNG whose rows cycle through all five filter types (encoder for the test)."""
    h, w, c = image.shape
    rows = image.astype(">u2").reshape(h, -1).view(np.uint8).astype(np.int32)
    bpp = 2 * c
    out = []
    for y in range(h):
        x = rows[y]
        up = rows[y - 1] if y else np.zeros_like(x)
        left = np.concatenate([np.zeros(bpp, np.int32), x[:-bpp]])
        upleft = np.concatenate([np.zeros(bpp, np.int32), up[:-bpp]])
        p = left + up - upleft
        pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
        paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, upleft))
        kind = y % 5
        pred = [0, left, up, (left + up) // 2, paeth][kind]
        out.append(bytes([kind]) + ((x - pred) % 256).astype(np.uint8).tobytes())

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    body = zlib.compress(b"".join(out))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def test_16bit_colour_png_all_filters(tmp_path):
    image = RNG.integers(0, 65536, (10, 6, 3), dtype=np.uint16)
    (tmp_path / "f.png").write_bytes(_png16_with_filters(image))
    assert np.array_equal(read_image(tmp_path / "f.png"), image)


def test_rgba_alpha_split_and_kept(tmp_path):
    rgba = RNG.integers(0, 256, (4, 6, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    array = read_image(tmp_path / "a.png")
    assert array.shape == (4, 6, 4)
    assert to_tensor(array).shape == (3, 4, 6)
    colour, alpha = split_alpha(array)
    assert np.array_equal(alpha[..., 0], rgba[..., 3]) and colour.shape == (4, 6, 3)
    out = save_image(to_tensor(array), tmp_path / "b.png", alpha=to_tensor(alpha))
    assert np.array_equal(read_image(out), rgba)


def _jpeg_with_orientation(path, orientation: int) -> None:
    """20 wide x 10 high, white 5x5 block in the stored top-left corner."""
    stored = np.zeros((10, 20, 3), np.uint8)
    stored[:5, :5] = 255
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(stored).save(path, quality=95, exif=exif.tobytes())


def test_jpeg_exif_rotation_applied(tmp_path):
    path = tmp_path / "r.jpg"
    _jpeg_with_orientation(path, 6)  # display = stored turned 90 degrees clockwise
    array = read_image(path)
    assert array.shape == (20, 10, 3)
    assert array[:5, 5:].mean() > 200  # stored top-left lands at the top-right
    assert array[:5, :5].mean() < 50
    assert load_image(path, size=(8, 4)).shape == (3, 8, 4)  # reduced-scale decode path too


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orient_matches_pillow(tmp_path, orientation):
    stored = RNG.integers(0, 256, (3, 5), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(stored).save(tmp_path / "o.png", exif=exif.tobytes())
    assert np.array_equal(read_image(tmp_path / "o.png"), orient(stored, orientation))


def test_corrupt_and_missing_files_name_the_file(tmp_path):
    bad = tmp_path / "broken.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(bad)
    bad.write_bytes(bad.read_bytes()[:40])  # truncated
    with pytest.raises(DataError, match="broken.png"):
        read_image(bad)
    (tmp_path / "junk.jpg").write_bytes(b"not an image")
    with pytest.raises(DataError, match="junk.jpg"):
        load_image(tmp_path / "junk.jpg")
    with pytest.raises(DataError, match="nothere.png"):
        read_image(tmp_path / "nothere.png")


def test_interlaced_16_bit_colour_png(tmp_path):
    """Adam7: seven passes of sub-images, each row unfiltered (encoder for the test)."""
    image = RNG.integers(0, 65536, (13, 17, 3), dtype=np.uint16)
    raw = b""
    for y0, x0, dy, dx in ((0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2),
                           (0, 1, 2, 2), (1, 0, 2, 1)):  # fmt: skip
        sub = image[y0::dy, x0::dx]
        rows = sub.astype(">u2").reshape(sub.shape[0], -1).view(np.uint8)
        raw += b"".join(b"\0" + row.tobytes() for row in rows)

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", 17, 13, 16, 2, 0, 0, 1)  # interlace method 1
    png = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    (tmp_path / "i.png").write_bytes(b"\x89PNG\r\n\x1a\n" + png)
    assert np.array_equal(read_image(tmp_path / "i.png"), image)


@pytest.mark.parametrize("keep", [40, 200, -20])  # in the header, in the pixels, no IEND
def test_damaged_16_bit_colour_png_names_the_file(tmp_path, keep):
    path = save_image(
        RNG.integers(0, 65536, (20, 30, 3), np.uint16), tmp_path / "d.png", bit_depth=16
    )
    path.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(DataError, match="d.png"):
        read_image(path)


def test_channel_conversion(tmp_path):
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[..., 0] = 255
    Image.fromarray(rgb).save(tmp_path / "red.png")
    gray = load_image(tmp_path / "red.png", channels=1)
    assert gray.shape == (1, 2, 3)
    torch.testing.assert_close(gray, torch.full((1, 2, 3), 0.299))
    Image.fromarray(rgb[..., 0]).save(tmp_path / "g.png")
    assert load_image(tmp_path / "g.png", channels=3).shape == (3, 2, 3)


def test_from_tensor_clips_rounds_and_squeezes():
    t = torch.tensor([[[-0.2, 0.5, 1.3]]])
    assert from_tensor(t).tolist() == [[0, 128, 255]]
    assert from_tensor(t, np.uint16).tolist() == [[0, 32768, 65535]]
    assert from_tensor(torch.rand(1, 3, 4, 5)).shape == (4, 5, 3)


def test_save_is_atomic_and_overwrites(tmp_path):
    path = tmp_path / "sub" / "out.png"
    save_image(torch.zeros(3, 4, 4), path)
    save_image(torch.ones(3, 4, 4), path)
    assert read_image(path).min() == 255
    assert sorted(p.name for p in path.parent.iterdir()) == ["out.png"]  # no temp files left
    jpg = save_image(torch.rand(1, 9, 9), tmp_path / "x.jpg")
    assert read_image(jpg).shape == (9, 9)


def test_save_refuses_bad_requests(tmp_path):
    with pytest.raises(DataError, match="JPEG"):
        save_image(torch.rand(3, 4, 4), tmp_path / "x.jpg", bit_depth=16)
    with pytest.raises(DataError, match="extension"):
        save_image(torch.rand(3, 4, 4), tmp_path / "x.gif")
    assert list(tmp_path.iterdir()) == []
