"""The Python API: load / denoise with any image kind, channel rules, alpha, sigma."""

import re

import numpy as np
import pytest
import torch
from torch import nn

import denoisekit
from denoisekit.checkpoints import pretrained
from denoisekit.errors import ConfigError, DataError
from denoisekit.inference import LoadedDenoiser, parse_sigma
from denoisekit.models.base import Denoiser

# small tensors: one thread is faster, and immune to other jobs on a busy machine
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def model():
    torch.manual_seed(0)
    return denoisekit.create_model("unet", in_channels=3, base_channels=4, depth=2).eval()


class Scale(Denoiser):
    """Multiplies by a per-channel factor (so channel mix-ups show); records sigma per call."""

    def __init__(self, in_channels: int | None, noise_aware: bool = False) -> None:
        super().__init__()
        self.in_channels = self.out_channels = in_channels
        self.noise_aware = noise_aware
        self.factor = nn.Parameter(torch.tensor([0.5, 0.7, 0.9]))
        self.sigmas = []

    def forward(self, noisy, sigma=None):
        self.sigmas.append(sigma)
        return super().forward(noisy, sigma)

    def denoise_padded(self, noisy, sigma):
        return noisy * self.factor[: noisy.shape[1]].view(1, -1, 1, 1)


def test_numpy_in_same_kind_out(model):
    rgb = np.random.default_rng(0).integers(0, 256, (21, 17, 3), dtype=np.uint8)
    out = denoisekit.denoise(rgb, model)
    assert out.dtype == np.uint8 and out.shape == rgb.shape
    as_float = denoisekit.denoise(rgb.astype(np.float64) / 255, model)
    assert as_float.dtype == np.float64 and as_float.shape == rgb.shape
    assert np.abs(as_float * 255 - out).max() <= 1


def test_tensor_batch_and_single(model):
    batch = torch.rand(2, 3, 19, 23)
    out = denoisekit.denoise(batch, model)
    assert out.shape == batch.shape and 0 <= out.min() and out.max() <= 1
    assert torch.allclose(denoisekit.denoise(batch[0], model), out[0], atol=1e-6)


@pytest.mark.parametrize(
    "shape,dtype", [((9, 7), np.uint8), ((9, 7), np.uint16), ((9, 7, 1), np.float32)]
)
def test_gray_dtypes_and_layouts(shape, dtype):
    rng = np.random.default_rng(0)
    top = np.iinfo(dtype).max if dtype != np.float32 else 1.0
    image = (rng.random(shape) * top).astype(dtype)
    out = LoadedDenoiser(Scale(1)).denoise(image)
    assert out.dtype == dtype and out.shape == shape
    expected = image.astype(np.float64) * 0.5
    np.testing.assert_allclose(out.astype(np.float64), expected, atol=0.5 if top > 1 else 1e-6)


def test_tensor_dtypes_and_uint8():
    image = torch.rand(3, 8, 6, dtype=torch.float64)
    out = LoadedDenoiser(Scale(3)).denoise(image)
    assert out.dtype == torch.float64 and out.shape == image.shape
    torch.testing.assert_close(out[1], image[1] * 0.7, atol=1e-6, rtol=0)
    as_bytes = (image * 255).round().to(torch.uint8)
    out8 = LoadedDenoiser(Scale(3)).denoise(as_bytes)
    assert out8.dtype == torch.uint8
    assert (out8[0].int() - (as_bytes[0] * 0.5).round().int()).abs().max() <= 1


def test_gray_model_on_colour_denoises_each_channel(model):
    torch.manual_seed(0)
    gray = denoisekit.create_model("unet", in_channels=1, base_channels=4, depth=2)
    rgb = np.random.default_rng(1).random((13, 10, 3)).astype(np.float32)
    out = denoisekit.denoise(rgb, gray)
    assert out.shape == rgb.shape
    for c in range(3):
        np.testing.assert_allclose(out[..., c], denoisekit.denoise(rgb[..., c], gray), atol=1e-6)


def test_colour_model_on_gray_averages_back():
    gray = np.random.default_rng(2).random((11, 9)).astype(np.float32)
    out = LoadedDenoiser(Scale(3)).denoise(gray)
    assert out.shape == gray.shape
    np.testing.assert_allclose(out, gray * (0.5 + 0.7 + 0.9) / 3, atol=1e-6)


def test_alpha_passes_through_untouched():
    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, (10, 12, 4), dtype=np.uint8)
    out = LoadedDenoiser(Scale(3)).denoise(rgba)
    assert out.shape == rgba.shape
    np.testing.assert_array_equal(out[..., 3], rgba[..., 3])
    assert np.abs(out[..., 0].astype(int) - np.round(rgba[..., 0] * 0.5)).max() <= 1
    gray_alpha = torch.rand(2, 2, 7, 5)
    out = LoadedDenoiser(Scale(1)).denoise(gray_alpha)
    assert torch.equal(out[:, 1], gray_alpha[:, 1])
    torch.testing.assert_close(out[:, 0], gray_alpha[:, 0] * 0.5)


def test_unsupported_channel_count_is_a_config_error():
    with pytest.raises(ConfigError, match="3-channel"):
        LoadedDenoiser(nn.Conv2d(2, 2, 1)).denoise(torch.rand(1, 3, 4, 4))


def test_sigma_auto_is_estimated_on_the_whole_image():
    from denoisekit.noise.estimate import estimate_sigma

    noisy = 0.5 + 0.1 * torch.randn(1, 1, 40, 52, generator=torch.Generator().manual_seed(0))
    model = Scale(1, noise_aware=True)
    LoadedDenoiser(model).denoise(noisy, tile=16, overlap=4)
    assert len(model.sigmas) > 4  # tiled
    whole = float(estimate_sigma(noisy)[0])
    assert 0.08 < whole < 0.12
    assert all(float(s[0]) == pytest.approx(whole) for s in model.sigmas)
    model.sigmas.clear()
    LoadedDenoiser(model).denoise(noisy, sigma=0.2)
    assert float(model.sigmas[0][0]) == pytest.approx(0.2)
    blind = Scale(1)
    LoadedDenoiser(blind).denoise(noisy, sigma=0.2)
    assert blind.sigmas == [None]


def test_a_noise_spec_gives_a_per_pixel_map_that_tiles_with_the_image(tmp_path):
    from denoisekit.noise import parse_noise

    ramp = torch.linspace(0.05, 0.95, 52).expand(1, 3, 40, 52).contiguous()
    noisy, _ = parse_noise("poisson-gaussian:a=0.01,b=0.0004")(ramp, torch.Generator())
    spec = parse_noise("poisson-gaussian:a=0.01,b=0.0004", level="pixel")
    whole = spec.level_map(noisy)
    model = Scale(3, noise_aware=True)
    LoadedDenoiser(model).denoise(noisy, sigma="poisson-gaussian:a=0.01,b=0.0004")
    assert torch.allclose(model.sigmas[-1], whole)
    assert float(whole[..., 8:-8, -3].mean()) > 2 * float(whole[..., 8:-8, 2].mean())
    model.sigmas.clear()
    camera = tmp_path / "camera.json"
    camera.write_text('{"noise": "poisson-gaussian:a=0.01,b=0.0004"}')
    LoadedDenoiser(model).denoise(noisy, sigma=str(camera), tile=16, overlap=4)
    assert len(model.sigmas) > 4  # tiled: each tile gets its crop of the whole image's map
    assert any(torch.allclose(s, whole[..., :16, :16]) for s in model.sigmas)
    assert isinstance(parse_sigma(spec.spec), type(spec))


@pytest.mark.parametrize(
    "text,value",
    [
        (None, None),
        ("auto", None),
        ("25", 25 / 255),
        ("25/255", 25 / 255),
        ("0.1", 0.1),
        ("1", 1 / 255),  # text of 1 or more is the 0-255 scale: sigma 1 in [0, 1] is no noise
        (0.1, 0.1),
        (np.float32(0.25), 0.25),
        (torch.tensor(0.1), 0.1),
    ],
)
def test_parse_sigma(text, value):
    if value is None:
        assert parse_sigma(text) is None
    else:
        assert parse_sigma(text) == pytest.approx(value)


@pytest.mark.parametrize(
    "bad", ["abc", "-3", "300", "1/0", 25.0, float("nan"), -0.1, True, "gaussian:abc"]
)
def test_bad_sigma_is_named(bad):
    with pytest.raises(ConfigError, match="sigma"):
        parse_sigma(bad)


def test_denoise_by_name_and_default(tmp_path, monkeypatch):
    monkeypatch.setenv(pretrained.WEIGHTS_ENV, str(tmp_path))
    image = np.random.default_rng(0).random((8, 8)).astype(np.float32)
    with pytest.raises(DataError, match="no pretrained"):
        denoisekit.denoise(image)
    from denoisekit.checkpoints.checkpoint import save_checkpoint

    torch.manual_seed(0)
    kwargs = {"in_channels": 1, "base_channels": 2, "depth": 1}
    net = denoisekit.create_model("unet", **kwargs)
    save_checkpoint(tmp_path / "gray-blind", net, {"model": "unet", "kwargs": kwargs})
    expected = LoadedDenoiser(net).denoise(image)
    np.testing.assert_array_equal(denoisekit.denoise(image), expected)
    np.testing.assert_array_equal(denoisekit.denoise(image, "gray-blind"), expected)
    loaded = denoisekit.load("gray-blind")
    np.testing.assert_array_equal(loaded(image), expected)  # calling = .denoise


def test_colour_model_on_gray_gets_the_level_times_sqrt3():
    # the same noise in all three channels: a colour model must be told sqrt(3) x the level
    model = Scale(3, noise_aware=True)
    LoadedDenoiser(model).denoise(np.zeros((8, 8), np.float32) + 0.5, sigma=0.1)
    assert float(model.sigmas[-1].flatten()[0]) == pytest.approx(0.1 * 3**0.5)
    LoadedDenoiser(model).denoise(np.zeros((8, 8, 3), np.float32) + 0.5, sigma=0.1)
    assert float(model.sigmas[-1].flatten()[0]) == pytest.approx(0.1)


def test_strength_multiplies_the_level_the_model_gets():
    from denoisekit.noise import parse_noise
    from denoisekit.noise.estimate import estimate_sigma

    noisy = 0.5 + 0.1 * torch.randn(1, 3, 24, 28, generator=torch.Generator().manual_seed(0))
    model = Scale(3, noise_aware=True)
    loaded = LoadedDenoiser(model)
    loaded.denoise(noisy, strength=1.5)  # estimated level, then scaled
    assert float(model.sigmas[-1].flatten()[0]) == pytest.approx(1.5 * estimate_sigma(noisy)[0])
    loaded.denoise(noisy, sigma=0.1, strength=0.5)
    assert float(model.sigmas[-1].flatten()[0]) == pytest.approx(0.05)
    loaded.denoise(noisy[0, :1], sigma=0.1, strength=2)  # gray on a colour model: both factors
    assert float(model.sigmas[-1].flatten()[0]) == pytest.approx(0.2 * 3**0.5)
    spec = parse_noise("poisson-gaussian:a=0.01,b=0.0004", level="pixel")
    loaded(noisy, spec, tile=None, strength=2)  # a per-pixel map is scaled too
    expected = 2 * spec.level_map(noisy)
    assert torch.allclose(model.sigmas[-1], expected)
    assert denoisekit.denoise(noisy, loaded, sigma=0.1, strength=3) is not None
    assert float(model.sigmas[-1].flatten()[0]) == pytest.approx(0.3)


def test_the_estimated_level_comes_from_the_models_own_estimator():
    from denoisekit.noise.estimate import estimate_sigma_haar, estimate_sigma_pca

    noisy = 0.5 + 0.1 * torch.randn(1, 1, 40, 48, generator=torch.Generator().manual_seed(1))
    model = Scale(1, noise_aware=True)
    LoadedDenoiser(model).denoise(noisy)
    assert float(model.sigmas[-1].flatten()[0]) == pytest.approx(float(estimate_sigma_pca(noisy)))
    model.sigma_estimator = "haar"  # as load_checkpoint sets it for weights trained on its reading
    LoadedDenoiser(model).denoise(noisy)
    assert float(model.sigmas[-1].flatten()[0]) == pytest.approx(float(estimate_sigma_haar(noisy)))
    assert estimate_sigma_haar(noisy) != estimate_sigma_pca(noisy)


def test_shipped_models_estimate_as_they_were_trained():
    # the blind models learned the true level, the camera models the Haar reading of it
    assert denoisekit.load("gray-blind").model.sigma_estimator == "pca"
    assert denoisekit.load("color-blind+x8").model.sigma_estimator == "pca"
    assert denoisekit.load("color-camera").model.sigma_estimator == "haar"
    assert denoisekit.load("gray-camera+x8").model.sigma_estimator == "haar"


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "2", True])
def test_bad_strength_is_named(bad):
    with pytest.raises(ConfigError, match="strength must be"):
        LoadedDenoiser(Scale(3)).denoise(np.zeros((4, 4, 3), np.float32), strength=bad)


@pytest.mark.parametrize(
    "image,needle",
    [
        (np.full((16, 16, 3), 200.0, np.float32), "divide 0-255 values by 255"),
        (np.where(np.eye(16, dtype=bool), np.nan, 0.5).astype(np.float32), "NaN"),
        (np.zeros((0, 0, 3), np.uint8), "empty"),
        (torch.rand(16, 16, 3), "permute(2, 0, 1)"),
    ],
)
def test_images_that_would_come_back_wrong_are_refused(image, needle):
    with pytest.raises(DataError, match=re.escape(needle)):
        LoadedDenoiser(Scale(3)).denoise(image)


def test_shipped_colour_model_on_a_gray_photo_denoises_like_the_gray_one():
    from skimage import data

    from denoisekit.metrics import psnr

    clean = data.camera()[96:224, 160:288].astype(np.float32) / 255
    noisy = clean + np.random.default_rng(0).normal(0, 25 / 255, clean.shape).astype(np.float32)
    scores = {}
    for name in ("gray-blind", "color-blind"):
        denoised = denoisekit.load(name).denoise(noisy)
        scores[name] = float(psnr(torch.from_numpy(denoised)[None], torch.from_numpy(clean)[None]))
    # without the sqrt(3) level the colour model left most of the noise (24.3 vs 29.5 dB)
    assert scores["color-blind"] > scores["gray-blind"] - 1.0 > 26.0


def test_shipped_camera_model_removes_camera_grain_that_the_gaussian_one_leaves():
    from skimage import data

    from denoisekit.metrics import psnr
    from denoisekit.noise import parse_noise

    clean = torch.from_numpy(data.astronaut()[:128, 192:320].astype(np.float32) / 255)
    clean = clean.permute(2, 0, 1)[None]
    noise = parse_noise("camera-pipeline:a=0.01,b=0.0002+jpeg:90")
    noisy, _ = noise(clean, torch.Generator().manual_seed(0))
    scores = {
        name: float(psnr(denoisekit.load(name).denoise(noisy), clean))
        for name in ("color-blind", "color-camera")
    }
    # both blind; measured 29.34 vs 32.03 dB on this crop (README: 28.69 vs 32.05 on CBSD68)
    assert scores["color-camera"] > scores["color-blind"] + 2.0


def test_unclipped_strong_noise_is_accepted():
    # sigma 50/255 without clipping: black pixels reach about -1 now and then
    noisy = np.full((16, 16, 3), 0.02, np.float32)
    noisy[0, 0, 0], noisy[1, 1, 1] = -1.05, 2.1
    out = LoadedDenoiser(Scale(3)).denoise(noisy)
    assert out.shape == noisy.shape and np.isfinite(out).all()
