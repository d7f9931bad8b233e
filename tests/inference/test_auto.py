"""`load("auto")`: the per-image model choice of `denoisekit.denoise` and the CLI."""

import numpy as np
import pytest
import torch
from PIL import Image

import denoisekit
from denoisekit.checkpoints.checkpoint import save_checkpoint
from denoisekit.inference import AutoDenoiser, LoadedDenoiser
from denoisekit.noise import camera_pipeline, gaussian


def _clean(channels=3, size=64):
    y, x = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    rgb = torch.stack([0.3 + 0.4 * x, 0.5 + 0.2 * y, 0.4 + 0.1 * (x + y)])[None]
    return rgb if channels == 3 else rgb.mean(1, keepdim=True)


def _array(batch):
    """(1, C, H, W) in [0, 1] -> HW / HWC uint8, as a photo arrives."""
    array = (batch[0].clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return array[..., 0] if array.shape[-1] == 1 else array


def _white(channels):
    noisy = gaussian(_clean(channels), 15 / 255, generator=torch.Generator().manual_seed(0))
    return _array(noisy)


def _grain():  # demosaiced camera noise: the choice sends it to color-camera
    noisy = camera_pipeline(_clean(), 0.01, 0.0002, generator=torch.Generator().manual_seed(0))
    return _array(noisy)


@pytest.fixture(autouse=True)
def weights(tmp_path, monkeypatch):
    """A weights folder with a tiny, different stand-in for each shipped model."""
    folder = tmp_path / "weights"
    monkeypatch.setenv("DENOISEKIT_WEIGHTS", str(folder))
    for seed, (name, channels) in enumerate(
        [("gray-blind", 1), ("color-blind", 3), ("gray-camera", 1), ("color-camera", 3)]
    ):
        torch.manual_seed(seed)
        kwargs = {"in_channels": channels, "base_channels": 2, "depth": 1}
        model = denoisekit.create_model("unet", **kwargs)
        save_checkpoint(folder / name, model, {"model": "unet", "kwargs": kwargs})
    return folder


def test_load_auto_gives_what_denoise_gives_on_gray_and_colour():
    auto = denoisekit.load("auto")
    assert isinstance(auto, AutoDenoiser)
    assert isinstance(denoisekit.load(), AutoDenoiser) and isinstance(
        denoisekit.load(None), AutoDenoiser
    )
    for image, chosen in (
        (_white(1), "gray-blind"),
        (_white(3), "color-blind"),
        (_grain(), "color-camera"),
    ):
        out = auto.denoise(image)
        assert out.shape == image.shape and out.dtype == image.dtype
        np.testing.assert_array_equal(out, denoisekit.denoise(image))
        np.testing.assert_array_equal(out, denoisekit.denoise(image, "auto"))
        assert auto.choose(image).name == chosen
        np.testing.assert_array_equal(out, denoisekit.load(chosen).denoise(image))
    # a fixed name makes no choice: color-blind on camera grain is not what auto gives
    assert not np.array_equal(denoisekit.load("color-blind").denoise(_grain()), auto(_grain()))
    assert sorted(auto.loaded) == ["color-blind", "color-camera", "gray-blind"]


def test_a_given_sigma_makes_no_camera_choice_as_in_denoise():
    auto = denoisekit.load()
    assert auto.choose(_grain(), sigma=0.05).name == "color-blind"
    np.testing.assert_array_equal(
        auto.denoise(_grain(), 0.05), denoisekit.denoise(_grain(), sigma=0.05)
    )
    # tensors and batches take the same choice
    batch = torch.from_numpy(_grain()).permute(2, 0, 1)[None].float() / 255
    assert torch.equal(auto.denoise_batch(batch), denoisekit.denoise(batch))
    assert torch.equal(auto.denoise_batch(batch), denoisekit.load("color-camera")(batch))


def test_load_passes_an_auto_denoiser_through_and_changes_its_precision():
    auto = denoisekit.load("auto", device="cpu")
    assert denoisekit.load(auto) is auto
    bf16 = denoisekit.load(auto, precision="bf16")
    assert isinstance(bf16, AutoDenoiser) and bf16.precision == "bf16"
    assert isinstance(bf16.choose(_white(3)), LoadedDenoiser)
    assert bf16.choose(_white(3)).precision == "bf16"


def test_load_auto_gives_what_the_cli_writes(tmp_path):
    from denoisekit.cli import main
    from denoisekit.io import read_image

    photo = tmp_path / "grain.png"
    Image.fromarray(_grain()).save(photo)
    for argv in ([], ["--model", "auto"]):
        out = tmp_path / f"out{len(argv)}.png"
        assert main(["denoise", str(photo), "-o", str(out), "--precision", "fp32", *argv]) == 0
        expected = denoisekit.load("auto").denoise(read_image(photo))
        np.testing.assert_array_equal(read_image(out), expected)
    assert not np.array_equal(read_image(out), denoisekit.load("color-blind")(read_image(photo)))
