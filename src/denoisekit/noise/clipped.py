"""Gaussian noise seen through clipping to [0, 1]: what a saved file does to its noise.

A pixel `clip(mu + sigma * z, 0, 1)` has a lower variance than sigma^2 wherever mu lies within a
few sigma of black or white, and its mean moves away from the bound. `clipped_moments` gives the
mean and std of that pixel; `unclipped_sigma` inverts them, so a noise level read on a clipped
image can be turned back into the sigma of the Gaussian before clipping (what `--sigma 25`
means to a user of an 8-bit file).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _pdf(x: Tensor) -> Tensor:
    return torch.exp(-0.5 * x * x) * _INV_SQRT_2PI


def _cdf(x: Tensor) -> Tensor:
    return 0.5 * (1.0 + torch.erf(x / _SQRT2))


def clipped_moments(mu: Tensor, sigma: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and std of `clip(mu + sigma * z, 0, 1)` for z ~ N(0, 1), elementwise (sigma > 0)."""
    mu, sigma = torch.broadcast_tensors(mu.double(), sigma.double().clamp_min(1e-12))
    a, b = -mu / sigma, (1.0 - mu) / sigma
    inside = _cdf(b) - _cdf(a)
    above = 1.0 - _cdf(b)
    mean = mu * inside + sigma * (_pdf(a) - _pdf(b)) + above
    second = (
        (mu * mu + sigma * sigma) * inside
        + 2.0 * mu * sigma * (_pdf(a) - _pdf(b))
        + sigma * sigma * (a * _pdf(a) - b * _pdf(b))
        + above
    )
    return mean, (second - mean * mean).clamp_min(0.0).sqrt()


def unclipped_sigma(mean: Tensor, std: Tensor, *, rounds: int = 60) -> Tensor:
    """The sigma of the Gaussian before clipping whose clipped pixels have this mean and std.

    Solved for (mu, sigma) by fixed-point steps (mu moves by the mean's error, sigma scales by
    the std's ratio), which converge for any mean inside (0, 1); means at the bounds are
    clamped just inside them. Where clipping does nothing (mid-tones, small sigma) it returns
    `std` unchanged.
    """
    mean = mean.double().clamp(1e-4, 1.0 - 1e-4)
    std = std.double().clamp_min(0.0)
    mu, sigma = mean.clone(), std.clamp_min(1e-9)
    for _ in range(rounds):
        m, s = clipped_moments(mu, sigma)
        mu = mu + (mean - m)
        sigma = (sigma * std / s.clamp_min(1e-12)).clamp(1e-9, 4.0)
    return torch.where(std > 0, sigma, torch.zeros_like(sigma))
