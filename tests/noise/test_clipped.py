"""Gaussian noise through clipping: moments against sampling, and their inversion."""

import torch

from denoisekit.noise.clipped import clipped_moments, unclipped_sigma
from denoisekit.noise.estimate import estimate_sigma_pca


def test_clipped_moments_match_sampled_pixels():
    mu = torch.tensor([0.02, 0.1, 0.5, 0.95])
    sigma = torch.full_like(mu, 50 / 255)
    mean, std = clipped_moments(mu, sigma)
    z = torch.randn(400_000, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    pixels = (mu.double() + sigma.double() * z).clamp(0, 1)
    assert torch.allclose(mean, pixels.mean(0), atol=2e-3)
    assert torch.allclose(std, pixels.std(0), atol=2e-3)
    assert std[0] < 0.7 * sigma[0] and abs(std[2] - sigma[2]) < 0.02 * sigma[2]


def test_unclipped_sigma_inverts_the_moments_and_leaves_mid_tones_alone():
    mu = torch.tensor([0.03, 0.2, 0.5, 0.85, 0.97])
    for level in (5 / 255, 25 / 255, 50 / 255):
        mean, std = clipped_moments(mu, torch.full_like(mu, level))
        assert torch.allclose(unclipped_sigma(mean, std), torch.full_like(std, level), rtol=1e-3)
    assert unclipped_sigma(torch.tensor([0.5]), torch.tensor([0.0])).item() == 0.0


def test_pca_reads_the_sigma_before_clipping_on_an_8bit_image():
    ramp = torch.linspace(0.0, 1.0, 192).view(1, 1, 1, 192).expand(1, 1, 192, 192)
    noise = torch.randn(ramp.shape, generator=torch.Generator().manual_seed(1))
    sigma = 50 / 255
    stored = torch.round((ramp + sigma * noise).clamp(0, 1) * 255) / 255
    read = float(estimate_sigma_pca(stored))
    assert abs(read - sigma) < 0.03 * sigma, read * 255  # before the correction: 47.5/255
    unclipped = float(estimate_sigma_pca(ramp + sigma * noise))
    assert abs(unclipped - sigma) < 0.06 * sigma, unclipped * 255
