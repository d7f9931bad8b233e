"""Noise cues: grain ratio (demosaiced vs white noise) and the JPEG block grid."""

from __future__ import annotations

import math

import pytest
import torch

from denoisekit.noise import camera_pipeline, gaussian, jpeg
from denoisekit.noise.cues import grain_ratio, jpeg_grid
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
