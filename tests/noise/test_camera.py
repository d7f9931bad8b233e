import pytest
import torch

from denoisekit.noise import parse_noise
from denoisekit.noise.camera import (
    bayer_mask,
    camera_pipeline,
    camera_pipeline_std,
    demosaic_bilinear,
    linear_to_srgb,
    srgb_slope,
    srgb_to_linear,
)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _flat(value, channels=3, size=256):
    return torch.full((1, channels, size, size), value, dtype=torch.float64)


def test_srgb_curves_invert_each_other_and_match_known_values():
    x = torch.linspace(0, 1, 1001, dtype=torch.float64)
    assert torch.allclose(linear_to_srgb(srgb_to_linear(x)), x, atol=1e-12)
    assert srgb_to_linear(torch.tensor(0.5)).item() == pytest.approx(0.21404, abs=1e-5)
    linear = torch.tensor([0.001, 0.05, 0.2, 0.7], dtype=torch.float64)
    step = 1e-7
    numeric = (linear_to_srgb(linear + step) - linear_to_srgb(linear - step)) / (2 * step)
    assert torch.allclose(srgb_slope(linear), numeric, rtol=1e-5)


def test_bayer_mask_is_rggb_with_one_colour_per_pixel():
    mask = bayer_mask(6, 8, like=torch.zeros(1))
    assert mask.shape == (1, 3, 6, 8)
    assert torch.equal(mask.sum(1), torch.ones(1, 6, 8))
    assert mask[0, :, :2, :2].tolist() == [[[1, 0], [0, 0]], [[0, 1], [1, 0]], [[0, 0], [0, 1]]]
    assert mask[0].flatten(1).mean(1).tolist() == [0.25, 0.5, 0.25]


@pytest.mark.parametrize("h,w", [(8, 8), (7, 9)])
def test_demosaic_restores_flat_colours_and_ramps(h, w):
    colour = torch.tensor([0.2, 0.5, 0.9], dtype=torch.float64).view(1, 3, 1, 1)
    flat = colour.expand(1, 3, h, w)
    assert torch.allclose(demosaic_bilinear(flat * bayer_mask(h, w, like=flat)), flat)
    ramp = torch.arange(w, dtype=torch.float64).expand(1, 3, h, w) / w
    restored = demosaic_bilinear(ramp * bayer_mask(h, w, like=ramp))
    assert torch.allclose(restored[..., 1:-1, 1:-1], ramp[..., 1:-1, 1:-1])
    with pytest.raises(ValueError, match="3 channels"):
        demosaic_bilinear(torch.zeros(1, 1, 4, 4))


def test_noise_free_pipeline_returns_the_clean_image():
    clean = torch.rand(2, 3, 37, 31, generator=_gen(), dtype=torch.float64)
    assert torch.allclose(camera_pipeline(clean, 0.0, 0.0), clean, atol=1e-12)


def test_linear_light_variance_is_a_l_plus_b_times_the_demosaic_share():
    a, b = 0.01, 0.0004
    noisy = camera_pipeline(_flat(0.7), a, b, generator=_gen(1))
    linear = srgb_to_linear(torch.tensor(0.7, dtype=torch.float64))
    raw_var = (a * linear + b).item()
    var = (srgb_to_linear(noisy) - linear).flatten(2).var(2)[0]
    # green keeps its sample at half the sites and averages 4 at the rest (5/8 of the raw
    # variance); red and blue keep 1, average 2 or average 4 (9/16)
    expected = torch.tensor([9 / 16, 5 / 8, 9 / 16], dtype=torch.float64) * raw_var
    assert torch.allclose(var, expected, rtol=0.03)
    gray = camera_pipeline(_flat(0.7, channels=1), a, b, generator=_gen(1))
    assert (srgb_to_linear(gray) - linear).var().item() == pytest.approx(raw_var, rel=0.03)


def test_demosaiced_noise_is_spatially_correlated_and_gray_noise_is_not():
    def neighbour_correlation(noise):
        return ((noise[..., 1:] * noise[..., :-1]).mean() / noise.var()).item()

    colour = camera_pipeline(_flat(0.5), 0.01, 0.0004, generator=_gen(2)) - 0.5
    gray = camera_pipeline(_flat(0.5, channels=1), 0.01, 0.0004, generator=_gen(2)) - 0.5
    assert neighbour_correlation(colour) > 0.4
    assert abs(neighbour_correlation(gray)) < 0.02
    white = camera_pipeline(_flat(0.5), 0.01, 0.0004, bayer=0, generator=_gen(2)) - 0.5
    assert abs(neighbour_correlation(white)) < 0.02


def test_bayer_is_chosen_per_image():
    clean = _flat(0.5, size=128).expand(2, 3, 128, 128)
    noisy = camera_pipeline(clean, 0.01, 0.0004, torch.tensor([1.0, 0.0]), generator=_gen(8))
    linear = srgb_to_linear(torch.tensor(0.5, dtype=torch.float64))
    var = (srgb_to_linear(noisy) - linear).flatten(1).var(1) / (0.01 * linear + 0.0004)
    assert var[0].item() == pytest.approx(7 / 12, rel=0.05)
    assert var[1].item() == pytest.approx(1.0, rel=0.05)


@pytest.mark.parametrize("value", [0.5, 0.8])
def test_std_prediction_matches_measured_std_away_from_black(value):
    noisy = camera_pipeline(_flat(value), 0.01, 0.0004, generator=_gen(3))
    predicted = camera_pipeline_std(torch.tensor(value, dtype=torch.float64), 0.01, 0.0004)
    assert (noisy - value).std().item() == pytest.approx(predicted.item(), rel=0.05)


def test_output_is_clipped_and_repeats_with_the_same_generator():
    clean = torch.rand(2, 3, 32, 32, generator=_gen(4))
    noisy = camera_pipeline(clean, 0.05, 0.01, generator=_gen(5))
    assert noisy.min() >= 0 and noisy.max() <= 1
    assert torch.equal(noisy, camera_pipeline(clean, 0.05, 0.01, generator=_gen(5)))


def test_spec_draws_per_image_parameters_and_gives_a_level():
    noise = parse_noise("camera-pipeline:a=0.0005-0.02,b=0-0.0004,bayer=0-1+jpeg:85")
    clean = torch.rand(4, 3, 32, 32, generator=_gen(6))
    noisy, sigma = noise(clean, _gen(7))
    assert noisy.shape == clean.shape and sigma.shape == (4,)
    assert (sigma > 0).all()
    mid = parse_noise("camera-pipeline:a=0.01,b=0.0004")
    assert mid.sigma == pytest.approx(
        camera_pipeline_std(torch.tensor(0.5), 0.01, 0.0004).item(), rel=1e-6
    )
    level = mid.per_pixel().level_map(torch.full((1, 3, 8, 8), 0.5))
    assert level.shape == (1, 1, 8, 8)
    assert torch.allclose(level, torch.full_like(level, mid.sigma), rtol=1e-4)
    white = parse_noise("camera-pipeline:a=0.01,b=0.0004,bayer=0")
    assert white.sigma == pytest.approx(mid.sigma / (7 / 12) ** 0.5, rel=1e-6)
