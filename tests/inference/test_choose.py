"""`choose_pretrained`: the shipped model for an image when none is named."""

import numpy as np
import pytest
import torch

import denoisekit
from denoisekit.checkpoints.checkpoint import save_checkpoint
from denoisekit.errors import DataError
from denoisekit.inference.choose import choose_pretrained
from denoisekit.noise import camera_pipeline, gaussian, jpeg


def _clean(size=96):
    y, x = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    rgb = torch.stack([0.3 + 0.4 * x, 0.5 + 0.2 * y, 0.4 + 0.1 * (x + y)])
    return rgb[None]


def _grain(seed=0):
    return camera_pipeline(_clean(), 0.01, 0.0002, generator=torch.Generator().manual_seed(seed))


def _white(seed=0, channels=3):
    clean = _clean() if channels == 3 else _clean().mean(1, keepdim=True)
    return gaussian(clean, 15 / 255, generator=torch.Generator().manual_seed(seed)).clamp(0, 1)


@pytest.fixture
def weights(tmp_path, monkeypatch):
    """A weights folder with tiny stand-ins for the blind models; `add` puts in another."""
    folder = tmp_path / "weights"
    monkeypatch.setenv("DENOISEKIT_WEIGHTS", str(folder))

    def add(name, channels):
        kwargs = {"in_channels": channels, "base_channels": 2, "depth": 1}
        model = denoisekit.create_model("unet", **kwargs)
        save_checkpoint(folder / name, model, {"model": "unet", "kwargs": kwargs})

    add("gray-blind", 1)
    add("color-blind", 3)
    return add


def test_colour_grain_goes_to_the_camera_model_when_it_is_installed(weights):
    assert choose_pretrained(_grain()) == "color-blind"  # not installed yet
    weights("color-camera", 3)
    assert choose_pretrained(_grain()) == "color-camera"
    assert choose_pretrained(_white()) == "color-blind"
    assert choose_pretrained(jpeg(_white(), 85)) == "color-camera"  # white noise, then JPEG
    # a known level means Gaussian-like noise, which the level-aware colour model takes
    assert choose_pretrained(_grain(), blind=False) == "color-blind"


def test_gray_jpeg_noise_goes_to_the_gray_camera_model_when_it_is_installed(weights):
    compressed = jpeg(_white(channels=1), 85)
    assert choose_pretrained(compressed) == "gray-blind"  # not installed yet
    weights("gray-camera", 1)
    assert choose_pretrained(compressed) == "gray-camera"
    as_uint8 = (compressed[0, 0].numpy() * 255).round().astype(np.uint8)
    assert choose_pretrained(as_uint8) == "gray-camera"
    assert choose_pretrained(np.stack([as_uint8, as_uint8 * 0 + 255], -1)) == "gray-camera"
    assert choose_pretrained(_white(channels=1)) == "gray-blind"
    assert choose_pretrained(compressed, blind=False) == "gray-blind"
    weights("color-camera", 3)  # each channel count has its own camera model
    assert choose_pretrained(jpeg(_white(), 85)) == "color-camera"
    assert choose_pretrained(compressed) == "gray-camera"


def test_every_image_kind_is_read(weights):
    weights("color-camera", 3)
    grain = _grain()[0]
    as_uint8 = (grain.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    rgba = np.concatenate([as_uint8, np.full(as_uint8.shape[:2] + (1,), 255, np.uint8)], -1)
    assert choose_pretrained(as_uint8) == "color-camera"
    assert choose_pretrained(rgba) == "color-camera"  # alpha left out
    assert choose_pretrained((grain * 255).round().to(torch.uint8)) == "color-camera"
    assert choose_pretrained(as_uint8[..., 0]) == "gray-blind"  # gray-camera not installed
    # a batch goes to one model, by the mean of its ratios
    assert choose_pretrained(torch.cat([_grain(1), _grain(2)])) == "color-camera"


def test_denoise_without_a_model_uses_the_choice(weights):
    weights("color-camera", 3)
    grain = _grain()
    expected = denoisekit.load("color-camera").denoise(grain)
    torch.testing.assert_close(denoisekit.denoise(grain), expected)
    expected = denoisekit.load("color-blind").denoise(grain, sigma=0.05)
    torch.testing.assert_close(denoisekit.denoise(grain, sigma=0.05), expected)


def test_no_weights_at_all_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("DENOISEKIT_WEIGHTS", str(tmp_path / "none"))
    with pytest.raises(DataError, match="--checkpoint"):
        choose_pretrained(_white())


@pytest.mark.parametrize(
    "spec,expected",
    [
        ("gaussian:5/255", "color-blind"),
        ("gaussian:25/255", "color-blind"),
        ("poisson-gaussian:a=0.01,b=0.0004", "color-blind"),
        ("camera-pipeline:a=0.004,b=0.0001", "color-camera"),
        ("gaussian:15/255+jpeg:85", "color-camera"),
        ("gray gaussian:5/255", "gray-blind"),
        ("gray gaussian:25/255", "gray-blind"),
        ("gray camera-pipeline:a=0.01,b=0.0002", "gray-camera"),  # no JPEG: by the shadows
        ("gray camera-pipeline:a=0.01,b=0.0002+jpeg:90", "gray-camera"),
        ("gray gaussian:15/255+jpeg:85", "gray-camera"),
        ("gray jpeg:90", "gray-blind"),  # a clean JPEG: no noise for gray-camera to take
    ],
)
def test_shipped_choice_on_a_photo(spec, expected):
    from skimage import data

    from denoisekit.noise import parse_noise

    clean = torch.from_numpy(data.astronaut()[64:256, 160:352].astype(np.float32) / 255)
    clean = clean.permute(2, 0, 1)[None]
    if spec.startswith("gray "):
        spec, clean = spec.removeprefix("gray "), clean.mean(1, keepdim=True)
    noisy, _ = parse_noise(spec)(clean, torch.Generator().manual_seed(0))
    assert choose_pretrained(noisy.clamp(0, 1)) == expected


def test_large_images_are_judged_by_their_centre(weights, monkeypatch):
    from denoisekit.inference import choose

    weights("color-camera", 3)
    monkeypatch.setattr(choose, "CUE_SIDE", 96)
    white = gaussian(
        torch.full((1, 3, 288, 288), 0.5), 15 / 255, generator=torch.Generator().manual_seed(0)
    )
    framed = white.clamp(0, 1)
    framed[..., 96:192, 96:192] = _grain()
    assert choose_pretrained(framed) == "color-camera"
    as_array = (framed[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    assert choose_pretrained(as_array) == "color-camera"
    monkeypatch.setattr(choose, "CUE_SIDE", 2048)
    assert choose_pretrained(framed) == "color-blind"  # mostly white noise
