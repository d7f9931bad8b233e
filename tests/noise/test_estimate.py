"""Blind sigma estimation: recovers the level on smooth images, per image, per channel mean."""

from __future__ import annotations

import math

import pytest
import torch

from denoisekit.noise import gaussian
from denoisekit.noise.estimate import (
    estimate_sigma,
    haar_diagonal,
    local_intensity,
    sigma_or_estimate,
)


def smooth(batch: int = 1, channels: int = 1, size: int = 128) -> torch.Tensor:
    """A ramp plus a low-frequency sinusoid in [0.1, 0.9]: little energy at the finest scale."""
    y, x = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    image = 0.2 + 0.4 * x + 0.2 * (torch.sin(2 * math.pi * 2 * x) * torch.cos(2 * math.pi * y))
    return image.expand(batch, channels, size, size).clone()


@pytest.mark.parametrize("sigma_255", [5, 15, 25, 50])
def test_recovers_sigma_within_10_percent(sigma_255: int) -> None:
    sigma = sigma_255 / 255
    noisy = gaussian(smooth(), sigma, generator=torch.Generator().manual_seed(sigma_255))
    estimate = estimate_sigma(noisy)
    assert estimate.shape == (1,)
    assert abs(estimate.item() / sigma - 1) < 0.10, (estimate.item() * 255, sigma_255)


def test_is_per_image_and_batch_independent() -> None:
    sigmas = torch.tensor([5.0, 40.0, 15.0]) / 255
    noisy = gaussian(smooth(batch=3), sigmas, generator=torch.Generator().manual_seed(0))
    together = estimate_sigma(noisy)
    alone = torch.cat([estimate_sigma(noisy[i : i + 1]) for i in range(3)])
    torch.testing.assert_close(together, alone)
    assert ((together / sigmas - 1).abs() < 0.10).all(), together * 255


def test_averages_channels() -> None:
    clean = smooth(channels=3)
    noise = torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
    noisy = clean + torch.tensor([0.02, 0.04, 0.12]).view(1, 3, 1, 1) * noise
    assert abs(estimate_sigma(noisy).item() / 0.06 - 1) < 0.10


def test_clean_smooth_image_reads_near_zero_and_ramps_cancel() -> None:
    assert estimate_sigma(smooth()).item() < 1 / 255
    ramp = torch.linspace(0, 1, 16).expand(1, 1, 16, 16) + torch.linspace(0, 1, 16)[:, None]
    torch.testing.assert_close(haar_diagonal(ramp), torch.zeros(1, 1, 8, 8), atol=1e-6, rtol=0)


def test_odd_sizes_dtypes_and_errors() -> None:
    noisy = gaussian(smooth(size=65), 0.1, generator=torch.Generator().manual_seed(0))
    assert haar_diagonal(noisy).shape == (1, 1, 32, 32)
    assert abs(estimate_sigma(noisy).item() / 0.1 - 1) < 0.10
    assert estimate_sigma(noisy.double()).dtype == torch.float64
    with pytest.raises(ValueError, match="at least 2x2"):
        estimate_sigma(torch.rand(1, 1, 1, 5))
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        estimate_sigma(torch.rand(5, 5))


def test_sigma_or_estimate_prefers_the_given_level() -> None:
    noisy = gaussian(smooth(), 0.1, generator=torch.Generator().manual_seed(0))
    assert sigma_or_estimate(noisy, 0.3) == 0.3
    torch.testing.assert_close(sigma_or_estimate(noisy, None), estimate_sigma(noisy))


def test_local_intensity_is_a_local_channel_mean():
    flat = torch.full((1, 3, 12, 12), 0.25)
    assert torch.allclose(local_intensity(flat), torch.full((1, 1, 12, 12), 0.25))
    left_right = torch.zeros(1, 3, 20, 20)
    left_right[..., 10:] = 0.8
    level = local_intensity(left_right)
    assert level.shape == (1, 1, 20, 20)
    assert float(level[0, 0, 5, 2]) == 0.0 and float(level[0, 0, 5, 17]) == pytest.approx(0.8)
    noisy = 0.25 + 0.1 * torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    # averaging 3 channels x 25 pixels cuts the noise about sqrt(75)-fold
    assert float(local_intensity(noisy)[..., 4:-4, 4:-4].std()) < 0.1 / 6
    assert local_intensity(torch.rand(1, 1, 2, 2)).shape == (1, 1, 2, 2)  # tiny: edges repeated
