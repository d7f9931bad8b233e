"""Blind noise-level estimation, for noise-aware models called without a known sigma.

Pure functions on (B, C, H, W) tensors; no model, no training, no randomness.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

# Median absolute deviation of a zero-mean Gaussian is sigma * Phi^-1(3/4) = 0.6745 * sigma.
MAD_TO_SIGMA = 0.6745


def check_batch_shape(noisy: Tensor) -> None:
    """The estimators and cues read (B, C, H, W) batches of any dtype; say so otherwise."""
    if noisy.ndim != 4:
        raise ValueError(f"expected a (B, C, H, W) batch, got shape {tuple(noisy.shape)}")


def haar_diagonal(x: Tensor) -> Tensor:
    """Finest orthonormal Haar diagonal (HH) band: (B, C, H, W) -> (B, C, H // 2, W // 2).

    An odd last row or column is dropped. With the orthonormal 1/2 factor, white noise of
    standard deviation sigma gives HH coefficients of standard deviation sigma too.
    """
    h, w = x.shape[-2] // 2 * 2, x.shape[-1] // 2 * 2
    x = x[..., :h, :w]
    a, b = x[..., 0::2, 0::2], x[..., 0::2, 1::2]
    c, d = x[..., 1::2, 0::2], x[..., 1::2, 1::2]
    return (a - b - c + d) / 2


def estimate_sigma(noisy: Tensor) -> Tensor:
    """Per-image Gaussian noise level of `noisy` (B, C, H, W) -> (B,), in the image's units.

    Donoho's wavelet estimator: median(|HH|) / 0.6745 on the finest Haar diagonal band, per
    channel, then averaged over channels. HH cancels constants and linear ramps exactly, so
    smooth content barely leaks in, and the median ignores the few large coefficients that
    edges and texture produce. It is cheap (one pass, no FFT), which matters because a
    noise-aware model runs it on every call without a sigma. Known biases: heavy texture reads
    as extra noise, and clipping at 0 and 1 hides part of strong noise (it under-estimates
    then). Needs H, W >= 2. Computed in float32 (a bf16 median is too coarse), returned
    in the input's float dtype.
    """
    check_batch_shape(noisy)
    if noisy.shape[-2] < 2 or noisy.shape[-1] < 2:
        raise ValueError(
            f"estimating sigma needs an image of at least 2x2 pixels, got {tuple(noisy.shape)}"
        )
    hh = haar_diagonal(noisy.detach().float())
    mad = hh.abs().flatten(2).median(dim=2).values  # (B, C)
    sigma = (mad / MAD_TO_SIGMA).mean(dim=1)
    return sigma.to(noisy.dtype) if noisy.is_floating_point() else sigma


def haar_average(x: Tensor) -> Tensor:
    """Orthonormal Haar average (LL) band: (B, C, H, W) -> (B, C, H // 2, W // 2), the 2x2 block
    sums over 2. White noise keeps its standard deviation; noise correlated between
    neighbours grows."""
    h, w = x.shape[-2] // 2 * 2, x.shape[-1] // 2 * 2
    x = x[..., :h, :w]
    return (x[..., 0::2, 0::2] + x[..., 0::2, 1::2] + x[..., 1::2, 0::2] + x[..., 1::2, 1::2]) / 2


def sigma_or_estimate(noisy: Tensor, sigma: Tensor | float | None) -> Tensor | float:
    """`sigma` when the caller knows it, else `estimate_sigma(noisy)` (B,): the blind fallback
    that noise-aware models use, so `model(noisy)` works without a noise level."""
    return estimate_sigma(noisy) if sigma is None else sigma


def local_intensity(noisy: Tensor, size: int = 5) -> Tensor:
    """Local mean brightness of `noisy` (B, C, H, W) -> (B, 1, H, W): the channel mean averaged
    over a `size` x `size` window (edges reflected).

    Signal-dependent noise levels (Poisson-Gaussian variance a*x + b) need the clean intensity
    x, which a denoiser never has; the channel and window average cuts the noise in this
    estimate by sqrt(C * size^2) (15x for RGB, 5x5) while keeping it local. Computed in float32.
    """
    check_batch_shape(noisy)
    mean = noisy.detach().float().mean(dim=1, keepdim=True)
    pad = size // 2
    mode = "reflect" if min(mean.shape[-2:]) > pad else "replicate"
    padded = F.pad(mean, (pad, pad, pad, pad), mode=mode)
    return F.avg_pool2d(padded, size, stride=1)
