"""Every installed runtime gives PyTorch's result for every shipped model: odd sizes, 1 and 3
channels, blind and given sigma, tiled, self-ensembled, tiny, and through the CLI."""

import numpy as np
import pytest
from PIL import Image

import denoisekit
from denoisekit.cli import main
from denoisekit.runtimes import installed

SHIPPED = ("color-blind", "gray-blind", "color-camera", "gray-camera")
CONVERTERS = [r for r in ("onnxruntime", "openvino") if installed(r)]
pytestmark = pytest.mark.skipif(
    not CONVERTERS, reason="neither onnxruntime nor openvino is installed ('denoisekit[export]')"
)
TOLERANCE = 1e-4


def _image(height, width, channels, seed=0):
    rng = np.random.default_rng(seed)
    shape = (height, width) if channels == 1 else (height, width, channels)
    return rng.random(shape, dtype=np.float32)


def _both(name, runtime, image, **kwargs):
    expected = denoisekit.load(name, device="cpu").denoise(image, **kwargs)
    loaded = denoisekit.load(name, device="cpu", runtime=runtime)
    assert loaded.runs_on() == (runtime, "fp32")
    return loaded.denoise(image, **kwargs), expected


@pytest.mark.parametrize("runtime", CONVERTERS)
@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("channels", [1, 3])
def test_every_shipped_model_matches_torch_on_odd_sizes(runtime, name, channels):
    got, expected = _both(name, runtime, _image(37, 53, channels), sigma=25 / 255, tile=None)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= TOLERANCE


@pytest.mark.parametrize("runtime", CONVERTERS)
def test_blind_tiled_and_per_pixel_levels_match_torch(runtime):
    image = _image(101, 83, 3, seed=1)
    # blind: the level is estimated in PyTorch either way, then handed to the runtime as a map
    got, expected = _both("color-blind", runtime, image, tile=48, overlap=16)
    assert np.abs(got - expected).max() <= TOLERANCE
    got, expected = _both("color-blind", runtime, image, sigma="poisson-gaussian:a=0.01,b=0.0004")
    assert np.abs(got - expected).max() <= TOLERANCE


@pytest.mark.parametrize("runtime", CONVERTERS)
def test_self_ensemble_and_tiny_images_match_torch(runtime):
    got, expected = _both("gray-blind+x8", runtime, _image(21, 30, 1), sigma=0.1)
    assert np.abs(got - expected).max() <= TOLERANCE
    # 5x6 is below the exported graph's smallest side: PyTorch runs it, the same result
    got, expected = _both("gray-blind", runtime, _image(5, 6, 1), sigma=0.1)
    assert np.abs(got - expected).max() <= TOLERANCE


@pytest.mark.parametrize("runtime", CONVERTERS)
def test_tiling_is_the_same_in_every_runtime(runtime):
    image = _image(90, 70, 1, seed=2)
    seen = {}
    for name in ("torch", runtime):
        calls = seen[f"{name} tiles"] = []
        loaded = denoisekit.load("gray-blind", device="cpu", runtime=name)
        progress = lambda done, total, calls=calls: calls.append(done)  # noqa: E731
        seen[name] = loaded.denoise(image, sigma=0.1, tile=40, overlap=8, progress=progress)
    assert np.abs(seen[runtime] - seen["torch"]).max() <= TOLERANCE
    assert seen[f"{runtime} tiles"] == seen["torch tiles"] and len(seen["torch tiles"]) > 1


def test_cli_runtimes_write_the_same_file(tmp_path):
    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)).save(tmp_path / "a.png")
    outputs = {}
    for runtime in ("torch", *CONVERTERS):
        out = tmp_path / f"{runtime}.png"
        argv = ["denoise", str(tmp_path / "a.png"), "-o", str(out), "--runtime", runtime]
        assert main([*argv, "--model", "color-blind", "--sigma", "25", "--device", "cpu"]) == 0
        outputs[runtime] = np.asarray(Image.open(out)).astype(int)
    for runtime in CONVERTERS:  # 8-bit codes: at most a rounding step apart
        assert np.abs(outputs[runtime] - outputs["torch"]).max() <= 1
