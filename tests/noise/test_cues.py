"""Noise cues: grain ratio (demosaiced vs white noise), the JPEG block grid, shadow ratio."""

from __future__ import annotations

import math

import pytest
import torch

from denoisekit.noise import camera_pipeline, gaussian, jpeg, poisson_gaussian
from denoisekit.noise.cues import grain_ratio, jpeg_grid, shadow_ratio
from denoisekit.noise.estimate import haar_average


def smooth(batch: int = 1, size: int = 128) -> torch.Tensor:
    """An RGB ramp plus a low-frequency sinusoid in [0.1, 0.9]."""
    y, x = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    image = 0.2 + 0.4 * x + 0.2 * (torch.sin(2 * math.pi * 2 * x) * torch.cos(2 * math.pi * y))
    return torch.stack([image, image.flip(0), 0.9 - image]).expand(batch, 3, size, size).clone()


def test_grain_ratio_tells_white_noise_from_demosaiced_grain() -> None:
    clean = smooth(batch=2)
    white = gaussian(clean, 15 / 255, generator=torch.Generator().manual_seed(0))
    bayer = torch.tensor([1.0, 0.0])  # one demosaiced, one white (a binned sensor)
    grain = camera_pipeline(clean, 0.01, 0.0002, bayer, generator=torch.Generator().manual_seed(1))
    white_ratio, grain_ratios = grain_ratio(white), grain_ratio(grain)
    assert white_ratio.shape == (2,)
    assert ((white_ratio - 1).abs() < 0.1).all(), white_ratio
    assert grain_ratios[0] > 2.2 > 1.3 > grain_ratios[1], grain_ratios
    # white noise keeps its std in the orthonormal average band
    assert abs(haar_average(white - clean).std().item() * 255 / 15 - 1) < 0.05


def test_grain_ratio_is_one_without_anything_to_measure() -> None:
    assert grain_ratio(torch.full((1, 3, 16, 16), 0.5)).tolist() == [1.0]
    assert grain_ratio(torch.rand(2, 1, 3, 9)).tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="B, C, H, W"):
        grain_ratio(torch.rand(3, 9, 9))


@pytest.mark.parametrize("crop", [(0, 0), (3, 5)])  # a cropped JPEG is off its 8x8 grid
def test_jpeg_grid_finds_compressed_noise_on_any_grid(crop: tuple[int, int]) -> None:
    clean = smooth(batch=2, size=136)
    noisy = gaussian(clean, 15 / 255, generator=torch.Generator().manual_seed(2)).clamp(0, 1)
    compressed = jpeg(noisy, torch.tensor([90, 80]))
    top, left = crop
    scores = jpeg_grid(compressed[..., top : top + 128, left : left + 128])
    assert (scores > 0.2).all(), scores
    untouched = jpeg_grid(noisy[..., top : top + 128, left : left + 128])
    assert (untouched.abs() < 0.05).all(), untouched


def test_jpeg_grid_on_gray_and_tiny_images() -> None:
    gray = gaussian(smooth()[:, :1], 10 / 255, generator=torch.Generator().manual_seed(3))
    assert jpeg_grid(jpeg(gray.clamp(0, 1), 85)).item() > 0.2
    assert jpeg_grid(gray).abs().item() < 0.05
    assert jpeg_grid(torch.rand(1, 3, 15, 40)).tolist() == [0.0]
    with pytest.raises(ValueError, match="B, C, H, W"):
        jpeg_grid(torch.rand(3, 9, 9))


def _gray_steps(batch: int = 3) -> torch.Tensor:
    """(batch, 1, 128, 128): left half at 0.12 (shadows), right half at 0.55 (mid-tones)."""
    image = torch.full((128, 128), 0.55)
    image[:, :64] = 0.12
    return image.expand(batch, 1, 128, 128).clone()


def test_shadow_ratio_reads_the_srgb_curve_on_sensor_noise() -> None:
    clean = _gray_steps()
    generator = torch.Generator().manual_seed(4)
    white = gaussian(clean, 15 / 255, generator=generator)
    camera = camera_pipeline(clean, 0.004, 0.0001, generator=generator)
    brighter = poisson_gaussian(clean, 0.01, 0.0004, generator=generator)  # grows with x
    ratios = [shadow_ratio(x) for x in (white, camera, brighter)]
    assert all(r.shape == (3,) for r in ratios)
    assert ((ratios[0] - 1).abs() < 0.1).all(), ratios[0]
    # the sRGB slope times sqrt(a L + b) at 0.12 over the same at 0.55: about 2
    assert (ratios[1] > 1.5).all(), ratios[1]
    # sqrt((0.01 * 0.12 + 0.0004) / (0.01 * 0.55 + 0.0004)) = 0.52
    assert ((ratios[2] - 0.52).abs() < 0.08).all(), ratios[2]
    # colour images are read on their channel mean
    rgb = white.expand(3, 3, 128, 128)
    torch.testing.assert_close(shadow_ratio(rgb), ratios[0])


def test_shadow_ratio_is_nan_without_shadows_or_noise() -> None:
    bright = gaussian(torch.full((1, 1, 128, 128), 0.6), 0.05, generator=torch.Generator())
    assert math.isnan(shadow_ratio(bright).item())
    assert math.isnan(shadow_ratio(_gray_steps(1)).item())  # no noise in the mid-tones
    small = gaussian(_gray_steps(1)[..., :40, 40:88], 0.05, generator=torch.Generator())
    assert math.isnan(shadow_ratio(small).item())  # too few blocks in each range
    assert shadow_ratio(torch.zeros(0, 1, 8, 8)).shape == (0,)
    with pytest.raises(ValueError, match="B, C, H, W"):
        shadow_ratio(torch.rand(3, 9, 9))
