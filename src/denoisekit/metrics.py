"""Per-image quality metrics on (B, C, H, W) tensors in [0, 1]; each returns a Tensor of shape (B,).

SSIM follows Wang et al. (2004): 11x11 Gaussian window with sigma 1.5, K1=0.01, K2=0.03,
population (co)variances, mean over the valid (unpadded) region, colour = mean over channels.
That matches scikit-image's `structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=1)`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

METRICS = ("psnr", "ssim", "mse", "mae")
SSIM_PROTOCOL = "Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, K1=0.01, K2=0.03, valid region"


def _check(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    if x.shape != y.shape:
        raise ValueError(f"metric inputs differ in shape: {tuple(x.shape)} vs {tuple(y.shape)}")
    if x.dim() == 3:  # a single (C, H, W) image
        x, y = x.unsqueeze(0), y.unsqueeze(0)
    if x.dim() != 4:
        raise ValueError(f"metric inputs must be (B, C, H, W), got {tuple(x.shape)}")
    # float64 so that means over millions of pixels and near-perfect PSNR stay exact.
    return x.detach().to(torch.float64), y.detach().to(torch.float64)


def mse(x: Tensor, y: Tensor) -> Tensor:
    """Mean squared error per image."""
    x, y = _check(x, y)
    return (x - y).pow(2).flatten(1).mean(1)


def mae(x: Tensor, y: Tensor) -> Tensor:
    """Mean absolute error per image."""
    x, y = _check(x, y)
    return (x - y).abs().flatten(1).mean(1)


def psnr(x: Tensor, y: Tensor, *, data_range: float = 1.0) -> Tensor:
    """Peak signal-to-noise ratio in dB per image, over all pixels and channels; inf when equal."""
    err = mse(x, y)
    return 10.0 * torch.log10(data_range**2 / err)


def _gaussian_window(size: int, sigma: float, dtype: torch.dtype) -> Tensor:
    coords = torch.arange(size, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    return g.outer(g)


def ssim(
    x: Tensor,
    y: Tensor,
    *,
    data_range: float = 1.0,
    win_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> Tensor:
    """Structural similarity per image (mean over the valid region and over channels)."""
    x, y = _check(x, y)
    b, c, h, w = x.shape
    if h < win_size or w < win_size:
        raise ValueError(f"SSIM needs images of at least {win_size}x{win_size}, got {h}x{w}")
    window = _gaussian_window(win_size, sigma, x.dtype).expand(c, 1, win_size, win_size)

    def filt(t: Tensor) -> Tensor:
        return F.conv2d(t, window, groups=c)

    mu_x, mu_y = filt(x), filt(y)
    var_x = filt(x * x) - mu_x**2
    var_y = filt(y * y) - mu_y**2
    cov = filt(x * y) - mu_x * mu_y
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    num = (2 * mu_x * mu_y + c1) * (2 * cov + c2)
    den = (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    return (num / den).flatten(1).mean(1)


def compute_all(denoised: Tensor, clean: Tensor) -> dict[str, Tensor]:
    """All four metrics of `denoised` against `clean`, each a (B,) tensor."""
    return {
        "psnr": psnr(denoised, clean),
        "ssim": ssim(denoised, clean),
        "mse": mse(denoised, clean),
        "mae": mae(denoised, clean),
    }
