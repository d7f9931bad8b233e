"""The app's work on one upload, without Gradio: denoised as `denoise` would, written in the
upload's format, bit depth and metadata, refused in one line when it cannot be, cleaned up."""

import os
import time

import numpy as np
import pytest
import tifffile
from PIL import Image

from denoisekit.app.examples import EXAMPLES, add_noise, clean_photo, write_examples
from denoisekit.app.service import DenoiseService, Limits, UploadError, preview
from denoisekit.io import read_image


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    return float(10 * np.log10(peak**2 / np.mean((a.astype(float) - b.astype(float)) ** 2)))


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    return DenoiseService(tmp_path_factory.mktemp("work"), Limits(max_megapixels=0.2))


@pytest.fixture(scope="module")
def camera():
    """A 96x96 crop of scikit-image's camera man and a copy with sigma-25 noise (8-bit)."""
    clean = clean_photo("camera")[100:196, 200:296]
    return clean, add_noise(clean, 25, seed=3)


def test_a_noisy_png_gains_5_db_with_the_auto_choice(service, camera, tmp_path, one_thread):
    clean, noisy = camera
    Image.fromarray(noisy).save(tmp_path / "photo.png")
    calls = []
    outcome = service.denoise_file(
        tmp_path / "photo.png", progress=lambda done, total: calls.append((done, total))
    )
    assert outcome.path.name == "photo-denoised.png" and outcome.path.is_file()
    result = read_image(outcome.path)
    assert result.dtype == np.uint8 and result.shape == clean.shape
    assert psnr(result, clean) > psnr(noisy, clean) + 5
    assert outcome.model == "gray-blind" and outcome.estimated
    assert 20 < outcome.sigma < 30  # the level the model read, 0-255 scale
    assert "gray-blind" in outcome.summary() and "estimated" in outcome.summary()
    assert calls == [(1, 1)]  # one tile, reported once


def test_tiles_report_their_progress(camera, tmp_path, one_thread):
    Image.fromarray(camera[1]).save(tmp_path / "photo.png")
    tiled = DenoiseService(tmp_path / "work", tile=48, overlap=8)
    calls = []
    tiled.denoise_file(tmp_path / "photo.png", progress=lambda *call: calls.append(call))
    total = calls[0][1]
    assert total > 1 and calls == [(done, total) for done in range(1, total + 1)]


def test_the_result_is_what_the_denoise_verb_writes(service, camera, tmp_path, one_thread):
    from denoisekit.cli import main

    Image.fromarray(camera[1]).save(tmp_path / "photo.png")
    outcome = service.denoise_file(tmp_path / "photo.png")
    assert main(["denoise", str(tmp_path / "photo.png"), "-o", str(tmp_path / "cli.png")]) == 0
    assert np.array_equal(read_image(outcome.path), read_image(tmp_path / "cli.png"))


def test_16_bit_colour_tiff_stays_16_bit_tiff(service, tmp_path, one_thread):
    clean = clean_photo("astronaut")[:64, :64].astype(np.uint16) * 257
    rng = np.random.default_rng(0)
    noisy = np.clip(clean + rng.normal(0, 20 * 257, clean.shape), 0, 65535).astype(np.uint16)
    tifffile.imwrite(tmp_path / "scan.tif", noisy, photometric="rgb")
    outcome = service.denoise_file(tmp_path / "scan.tif")
    assert outcome.path.suffix == ".tif" and outcome.model == "color-blind"
    result = read_image(outcome.path)
    assert result.dtype == np.uint16 and result.shape == noisy.shape
    assert psnr(result, clean, 65535) > psnr(noisy, clean, 65535) + 3


def test_jpeg_keeps_its_exif_and_a_given_level_is_used(service, camera, tmp_path, one_thread):
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    Image.fromarray(camera[1]).convert("RGB").save(tmp_path / "shot.jpeg", exif=exif)
    outcome = service.denoise_file(
        tmp_path / "shot.jpeg", model="color-blind", sigma=30, strength=1.5
    )
    assert outcome.path.name == "shot-denoised.jpg"
    with Image.open(outcome.path) as img:
        assert img.format == "JPEG" and img.getexif()[0x010F] == "TestCam"
    assert outcome.model == "color-blind" and not outcome.estimated
    assert outcome.sigma == pytest.approx(30)
    assert "given" in outcome.summary() and "strength 1.5" in outcome.summary()


def test_webp_and_gray_16_bit_png_keep_their_kind(service, camera, tmp_path, one_thread):
    Image.fromarray(camera[1]).convert("RGB").save(tmp_path / "a.webp", quality=95)
    assert service.denoise_file(tmp_path / "a.webp").path.suffix == ".webp"
    Image.fromarray(camera[1].astype(np.uint16) * 257).save(tmp_path / "b.png")
    assert read_image(service.denoise_file(tmp_path / "b.png").path).dtype == np.uint16


@pytest.mark.parametrize(
    "name,content,needle",
    [
        ("notes.txt", b"hello", "notes.txt is not an image"),
        ("broken.png", b"\x89PNG\r\n\x1a\nnot really", "cannot read broken.png as an image"),
        ("empty.jpg", b"", "cannot read empty.jpg as an image"),
    ],
)
def test_files_that_are_not_images_get_one_line(service, tmp_path, name, content, needle):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(UploadError, match=needle) as caught:
        service.denoise_file(tmp_path / name)
    assert "\n" not in str(caught.value)


def test_photos_above_the_limits_are_refused_before_decoding(tmp_path):
    Image.fromarray(np.zeros((500, 500), np.uint8)).save(tmp_path / "wide.png")
    few_pixels = DenoiseService(tmp_path / "a", Limits(max_megapixels=0.2))
    with pytest.raises(UploadError, match=r"wide.png is 500×500 \(0.25 MP\), above .* 0.2 MP"):
        few_pixels.denoise_file(tmp_path / "wide.png")
    noise = np.random.default_rng(0).integers(0, 255, (40, 40), np.uint8)
    Image.fromarray(noise).save(tmp_path / "grain.png")  # 1.6 kB: incompressible noise
    small_files = DenoiseService(tmp_path / "b", Limits(max_upload_mb=0.001))
    with pytest.raises(UploadError, match=r"grain.png is 0.00\d+ MB, above .* of 0.001 MB"):
        small_files.denoise_file(tmp_path / "grain.png")


@pytest.mark.parametrize(
    "settings,needle",
    [
        ({"model": "grey-blind"}, "unknown model 'grey-blind'"),
        ({"sigma": 300}, "outside 0–255"),
        ({"sigma": "x"}, "must be numbers"),
        ({"strength": 0}, "must be numbers"),
    ],
)
def test_bad_settings_are_one_line(service, camera, tmp_path, settings, needle):
    Image.fromarray(camera[1]).save(tmp_path / "photo.png")
    with pytest.raises(UploadError, match=needle):
        service.denoise_file(tmp_path / "photo.png", **settings)


def test_a_file_removed_meanwhile_asks_for_a_new_upload(service, tmp_path):
    with pytest.raises(UploadError, match="upload it again"):
        service.denoise_file(tmp_path / "gone.png")


def test_old_results_are_swept(service, camera, tmp_path, one_thread):
    Image.fromarray(camera[1]).save(tmp_path / "photo.png")
    old = service.denoise_file(tmp_path / "photo.png").path
    fresh = service.denoise_file(tmp_path / "photo.png").path
    assert old.parent != fresh.parent  # one folder per result: names never clash
    past = time.time() - service.keep_seconds - 60
    os.utime(old.parent, (past, past))
    assert service.sweep() == 1
    assert not old.parent.exists() and fresh.exists()


def test_preview_is_8_bit_and_shrunk_by_a_whole_factor(tmp_path):
    image = (np.arange(300 * 200 * 4) % 65536).astype(np.uint16).reshape(300, 200, 4)
    tifffile.imwrite(tmp_path / "big.tif", image, photometric="rgb", extrasamples=["unassalpha"])
    shown = preview(tmp_path / "big.tif", pixels=20_000)
    assert shown.dtype == np.uint8 and shown.shape == (150, 100, 3)  # halved, alpha dropped
    top_left = image[:2, :2, :3].astype(float).mean(axis=(0, 1)) / 257
    assert np.abs(shown[0, 0] - top_left).max() <= 1


def test_examples_carry_the_noise_they_are_named_for(tmp_path):
    from denoisekit.io import to_tensor
    from denoisekit.noise.estimate import estimate_sigma

    paths = write_examples(tmp_path)
    assert [p.name for p in paths][0] == "astronaut-noisy-sigma25.png"
    for path, (name, sigma) in zip(paths, EXAMPLES, strict=True):
        image = read_image(path)
        assert image.shape == clean_photo(name).shape
        level = float(estimate_sigma(to_tensor(image).unsqueeze(0), "pca")[0]) * 255
        assert level == pytest.approx(sigma, rel=0.2), name
