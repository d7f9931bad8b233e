"""Classical denoisers: they denoise (PSNR goes up), take or estimate sigma, keep shapes.

Small real images (64x64 crops of scikit-image's camera and astronaut) keep this file fast; BM3D
costs ~0.7 s per call whatever the size, so it runs on as few images as possible.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from functools import cache

import numpy as np
import pytest
import torch
from skimage import data

from denoisekit.classical import STRENGTHS, TUNING, ClassicalDenoiser, interpolate_strength
from denoisekit.classical.base import estimate_noise_sigma
from denoisekit.classical.methods import bilateral, odd_size
from denoisekit.errors import ConfigError, DenoiseKitError
from denoisekit.metrics import psnr
from denoisekit.noise import gaussian
from denoisekit.registry import constructor_args, create_model, get_entry, list_models

NAMES = ["bm3d", "nlm", "tv", "wavelet", "bilateral", "median", "gaussian-blur"]
HAS_BM3D = importlib.util.find_spec("bm3d") is not None
NEEDS_BM3D = pytest.mark.skipif(
    not HAS_BM3D, reason="bm3d not installed (pip install 'denoisekit[classical]')"
)
METHODS = [pytest.param(n, marks=NEEDS_BM3D) if n == "bm3d" else n for n in NAMES]
FAST_METHODS = [n for n in NAMES if n != "bm3d"]  # BM3D's shapes are covered in test_models
SIGMA = 25 / 255
# A working filter gains 3-9 dB on these crops at sigma 25 (median, the weakest, about 3 dB);
# doing nothing gains 0 and over-smoothing loses, so 2 dB separates working from broken.
MIN_GAIN_DB = 2.0


@cache  # reading scikit-image's sample files takes ~0.5 s each time
def _sample(name: str) -> np.ndarray:
    return getattr(data, name)()


def camera() -> torch.Tensor:
    """(1, 1, 64, 64): the cameraman's head and camera, 2x down-sampled."""
    return torch.from_numpy(_sample("camera")[60:188:2, 200:328:2] / 255.0).float()[None, None]


def astronaut() -> torch.Tensor:
    """(1, 3, 64, 64): the astronaut's face, 2x down-sampled."""
    crop = _sample("astronaut")[20:148:2, 150:278:2] / 255.0
    return torch.from_numpy(crop).float().permute(2, 0, 1)[None]


def noisy_version(clean: torch.Tensor, sigma: float = SIGMA, seed: int = 0) -> torch.Tensor:
    return gaussian(clean, sigma, generator=torch.Generator().manual_seed(seed))


def gain_db(name: str, clean: torch.Tensor, sigma: torch.Tensor | None) -> float:
    noisy = noisy_version(clean)
    with torch.no_grad():
        denoised = create_model(name)(noisy, sigma).clamp(0, 1)
    assert denoised.shape == noisy.shape and denoised.dtype == torch.float32
    return float(psnr(denoised, clean) - psnr(noisy, clean))


# ---------------------------------------------------------------- registry


def test_every_method_is_registered_as_classical_without_parameters() -> None:
    classical = {e.name for e in list_models() if e.kind == "classical"}
    assert classical == set(NAMES)
    for name in NAMES:
        model = create_model(name)  # must not need bm3d installed: it is imported on use
        assert isinstance(model, ClassicalDenoiser)
        assert sum(p.numel() for p in model.parameters()) == 0
        args = constructor_args(get_entry(name).cls)
        assert all(p.default is not p.empty for p in args.values()), name


def test_bm3d_description_states_the_licence() -> None:
    assert "non-commercial" in get_entry("bm3d").description.lower()


def test_bm3d_missing_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "bm3d", None)  # makes `import bm3d` raise ImportError
    model = create_model("bm3d")
    with pytest.raises(DenoiseKitError, match=r"pip install 'denoisekit\[classical\]'") as info:
        model(torch.rand(1, 1, 16, 16), 0.1)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------- quality


@pytest.mark.parametrize("name", METHODS)
def test_improves_psnr_on_gray_at_sigma_25(name: str) -> None:
    assert gain_db(name, camera(), torch.tensor([SIGMA])) > MIN_GAIN_DB


@pytest.mark.parametrize("name", METHODS)
def test_improves_psnr_with_estimated_sigma(name: str) -> None:
    assert gain_db(name, camera(), None) > MIN_GAIN_DB


@pytest.mark.parametrize("name", METHODS)
def test_improves_psnr_on_colour_at_sigma_25(name: str) -> None:
    assert gain_db(name, astronaut(), torch.tensor([SIGMA])) > MIN_GAIN_DB


def test_estimated_sigma_is_close_to_the_true_one() -> None:
    noisy = noisy_version(camera())[0, 0].double().numpy()
    assert estimate_noise_sigma(noisy) == pytest.approx(SIGMA, rel=0.15)
    colour = noisy_version(astronaut())[0].permute(1, 2, 0).double().numpy()
    assert estimate_noise_sigma(colour) == pytest.approx(SIGMA, rel=0.15)


def test_bilateral_impulse_response_is_a_centred_gaussian() -> None:
    # With a huge colour sigma the bilateral filter is a plain Gaussian blur, so an impulse must
    # come back as the normalised Gaussian kernel (scikit-image 0.26's comes back sheared).
    impulse = np.zeros((21, 21))
    impulse[10, 10] = 1.0
    out = bilateral(impulse, sigma_color=1e3, sigma_spatial=1.0)
    yy, xx = np.mgrid[-3:4, -3:4]
    kernel = np.exp(-(yy**2 + xx**2) / 2.0) * (yy**2 + xx**2 <= 9)
    np.testing.assert_allclose(out[7:14, 7:14], kernel / kernel.sum(), rtol=1e-5, atol=1e-12)


# ---------------------------------------------------------------- shapes and sigma forms


@pytest.mark.parametrize("name", FAST_METHODS)
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_dtype_and_sigma_forms(name: str, channels: int) -> None:
    model = create_model(name)
    noisy = torch.rand(2, channels, 21, 17, dtype=torch.float64)
    for sigma in (torch.tensor([0.05, 0.1]), 0.1, torch.full((2, 1, 21, 17), 0.1), None):
        denoised = model(noisy, sigma)
        assert denoised.shape == noisy.shape
        assert denoised.dtype == torch.float32
        assert torch.isfinite(denoised).all()


@NEEDS_BM3D
def test_bm3d_pads_images_smaller_than_its_blocks() -> None:
    # Unpadded, the bm3d C code crashes the whole process on an 8x8 image.
    model = create_model("bm3d")
    for shape in [(1, 1, 5, 3), (1, 3, 6, 8)]:
        denoised = model(torch.rand(*shape), 0.1)
        assert denoised.shape == shape and torch.isfinite(denoised).all()


def test_per_image_sigma_is_used() -> None:
    noisy = noisy_version(camera()).expand(2, 1, 64, 64)
    denoised = create_model("tv")(noisy, torch.tensor([5 / 255, 50 / 255]))
    assert denoised[1].std() < denoised[0].std() - 0.005, "higher sigma should smooth more"


def test_zero_sigma_leaves_the_image_alone() -> None:
    clean = camera()
    for name in FAST_METHODS:
        torch.testing.assert_close(create_model(name)(clean, 0.0), clean)


# ---------------------------------------------------------------- strengths


def test_strength_table_has_three_sigmas_for_every_method() -> None:
    assert set(STRENGTHS) == set(NAMES)
    for name in NAMES:
        values = STRENGTHS[name]["values"]
        assert sorted(values) == [15, 25, 50], name
        assert all(math.isfinite(v) and v > 0 for v in values.values()), name
    assert "Train400" in TUNING["data"]
    assert TUNING["sigmas_255"] == [15, 25, 50]


def test_interpolation_is_linear_between_points_and_proportional_or_clamped_outside() -> None:
    tv, blur = STRENGTHS["tv"]["values"], STRENGTHS["gaussian-blur"]["values"]
    assert interpolate_strength("tv", 25 / 255, proportional=True) == pytest.approx(tv[25])
    middle = interpolate_strength("tv", 20 / 255, proportional=True)
    assert middle == pytest.approx((tv[15] + tv[25]) / 2)
    assert interpolate_strength("tv", 5 / 255, proportional=True) == pytest.approx(tv[15] / 3)
    assert interpolate_strength("tv", 100 / 255, proportional=True) == pytest.approx(tv[50] * 2)
    assert interpolate_strength("gaussian-blur", 5 / 255, proportional=False) == blur[15]
    assert interpolate_strength("gaussian-blur", 100 / 255, proportional=False) == blur[50]


def test_strength_overrides_the_tuned_value() -> None:
    noisy = noisy_version(camera())
    tuned = create_model("gaussian-blur")(noisy, SIGMA)
    heavy = create_model("gaussian-blur", strength=4.0)(noisy, SIGMA)
    assert heavy.std() < tuned.std() - 0.01
    assert create_model("median", strength=5).strength_at(SIGMA) == 5.0


@pytest.mark.parametrize("bad", [-0.1, float("nan"), "strong"])
def test_bad_strength_is_a_config_error(bad: object) -> None:
    with pytest.raises(ConfigError, match="strength"):
        create_model("tv", strength=bad)


def test_median_window_is_rounded_to_an_odd_side() -> None:
    assert [odd_size(v) for v in (0.5, 1.0, 2.9, 3.0, 3.9, 4.0, 6.5)] == [1, 1, 3, 3, 3, 5, 7]


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_bad_bm3d_threads_is_a_config_error(bad: object) -> None:
    with pytest.raises(ConfigError, match="threads"):
        create_model("bm3d", threads=bad)


def test_evaluate_harness_runs_a_classical_model_like_a_network() -> None:
    from denoisekit.evaluate import evaluate_pairs, make_noisy_pairs
    from denoisekit.noise import parse_noise

    pairs = make_noisy_pairs([camera()[0]], parse_noise("gaussian:25/255"), seed=0)
    result = evaluate_pairs(create_model("nlm"), pairs)
    assert result["summary"]["psnr"]["mean"] > result["noisy_summary"]["psnr"]["mean"] + 2
