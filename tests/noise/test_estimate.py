"""Blind sigma estimation: both estimators recover the level on smooth images, per image, as a
channel mean; the PCA one also through texture, clipping and signal-dependent noise."""

from __future__ import annotations

import math

import pytest
import torch

from denoisekit.noise import clip, gaussian, gaussian_ramp, poisson_gaussian, ramp
from denoisekit.noise.estimate import (
    ESTIMATORS,
    estimate_sigma,
    estimate_sigma_haar,
    estimate_sigma_pca,
    haar_diagonal,
    local_intensity,
    sigma_or_estimate,
)

both = pytest.mark.parametrize("method", ESTIMATORS)


def smooth(batch: int = 1, channels: int = 1, size: int = 128) -> torch.Tensor:
    """A ramp plus a low-frequency sinusoid in [0.1, 0.9]: little energy at the finest scale."""
    y, x = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    image = 0.2 + 0.4 * x + 0.2 * (torch.sin(2 * math.pi * 2 * x) * torch.cos(2 * math.pi * y))
    return image.expand(batch, channels, size, size).clone()


@both
@pytest.mark.parametrize("sigma_255", [5, 15, 25, 50])
def test_recovers_sigma_within_10_percent(method: str, sigma_255: int) -> None:
    sigma = sigma_255 / 255
    noisy = gaussian(smooth(), sigma, generator=torch.Generator().manual_seed(sigma_255))
    estimate = estimate_sigma(noisy, method)
    assert estimate.shape == (1,)
    assert abs(estimate.item() / sigma - 1) < 0.10, (estimate.item() * 255, sigma_255)


@both
def test_is_per_image_and_batch_independent(method: str) -> None:
    sigmas = torch.tensor([5.0, 40.0, 15.0]) / 255
    noisy = gaussian(smooth(batch=3), sigmas, generator=torch.Generator().manual_seed(0))
    together = estimate_sigma(noisy, method)
    alone = torch.cat([estimate_sigma(noisy[i : i + 1], method) for i in range(3)])
    torch.testing.assert_close(together, alone)
    assert ((together / sigmas - 1).abs() < 0.10).all(), together * 255


@both
def test_averages_channels(method: str) -> None:
    clean = smooth(channels=3)
    noise = torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
    noisy = clean + torch.tensor([0.02, 0.04, 0.12]).view(1, 3, 1, 1) * noise
    assert abs(estimate_sigma(noisy, method).item() / 0.06 - 1) < 0.10


@both
def test_clean_smooth_image_reads_near_zero_and_ramps_cancel(method: str) -> None:
    assert estimate_sigma(smooth(), method).item() < 1 / 255
    ramp = torch.linspace(0, 1, 16).expand(1, 1, 16, 16) + torch.linspace(0, 1, 16)[:, None]
    torch.testing.assert_close(haar_diagonal(ramp), torch.zeros(1, 1, 8, 8), atol=1e-6, rtol=0)


@both
def test_odd_sizes_dtypes_and_errors(method: str) -> None:
    noisy = gaussian(smooth(size=65), 0.1, generator=torch.Generator().manual_seed(0))
    assert haar_diagonal(noisy).shape == (1, 1, 32, 32)
    assert abs(estimate_sigma(noisy, method).item() / 0.1 - 1) < 0.10
    assert estimate_sigma(noisy.double(), method).dtype == torch.float64
    with pytest.raises(ValueError, match="at least 2x2"):
        estimate_sigma(torch.rand(1, 1, 1, 5), method)
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        estimate_sigma(torch.rand(5, 5), method)


def test_unknown_method_names_the_estimators() -> None:
    with pytest.raises(ValueError, match="pca, haar"):
        estimate_sigma(torch.rand(1, 1, 8, 8), "wavelet")


def test_sigma_or_estimate_prefers_the_given_level() -> None:
    noisy = gaussian(smooth(), 0.1, generator=torch.Generator().manual_seed(0))
    assert sigma_or_estimate(noisy, 0.3) == 0.3
    torch.testing.assert_close(sigma_or_estimate(noisy, None), estimate_sigma_pca(noisy))
    torch.testing.assert_close(sigma_or_estimate(noisy, None, "haar"), estimate_sigma_haar(noisy))


def textured(size: int = 128) -> torch.Tensor:
    """A fine checker-like weave (period 3 pixels both ways, contrast 0.3) on the left half, the
    smooth image on the right: the Haar band reads the weave as noise; the patch estimator leaves
    it out."""
    image = smooth(size=size)
    wave = torch.sin(2 * math.pi * torch.arange(size) / 3)
    image[..., : size // 2] += 0.15 * wave[:, None] * wave[None, : size // 2]
    return image


def test_pca_reads_through_texture_the_haar_band_mistakes_for_noise() -> None:
    sigma = 10 / 255
    noisy = gaussian(textured(), sigma, generator=torch.Generator().manual_seed(0))
    assert estimate_sigma_haar(noisy).item() > 1.3 * sigma
    assert abs(estimate_sigma_pca(noisy).item() / sigma - 1) < 0.10


def test_pca_reads_the_rms_level_of_signal_dependent_noise() -> None:
    a, b = 0.01, 0.0004
    clean = smooth(size=192)
    noisy = poisson_gaussian(clean, a, b, generator=torch.Generator().manual_seed(0))
    rms = math.sqrt(a * clean.mean().item() + b)  # variance a*x + b averaged over the image
    assert abs(estimate_sigma_pca(noisy).item() / rms - 1) < 0.10


def test_pca_reads_the_rms_level_of_noise_that_changes_across_the_frame() -> None:
    clean = smooth(size=192)
    low, high = 5 / 255, 50 / 255
    noisy = gaussian_ramp(clean, low, high, 30.0, generator=torch.Generator().manual_seed(0))
    rms = ramp(clean.shape, low, high, 30.0, like=clean).square().mean().sqrt().item()
    # flat patches alone would read the quiet side: each region keeps its own threshold
    assert abs(estimate_sigma_pca(noisy).item() / rms - 1) < 0.10


def test_pca_leaves_out_clipped_patches() -> None:
    clean = smooth()
    clean[..., :48, :] = 1.0  # a blown-out sky: the noise is clipped away there
    sigma = 25 / 255
    noisy = clip(gaussian(clean, sigma, generator=torch.Generator().manual_seed(0)))
    assert estimate_sigma_haar(noisy).item() < 0.85 * sigma
    assert abs(estimate_sigma_pca(noisy).item() / sigma - 1) < 0.10


def test_pca_falls_back_to_haar_below_two_patches_a_side() -> None:
    noisy = torch.rand(2, 3, 13, 40, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(estimate_sigma_pca(noisy), estimate_sigma_haar(noisy))
    assert estimate_sigma_pca(torch.full((1, 1, 32, 32), 0.5)).item() == 0.0


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
