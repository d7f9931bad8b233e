"""Per-image quality metrics on (B, C, H, W) tensors in [0, 1]; each returns a Tensor of shape (B,).

SSIM follows Wang et al. (2004): 11x11 Gaussian window with sigma 1.5, K1=0.01, K2=0.03,
population (co)variances, mean over the valid (unpadded) region, colour = mean over channels.
That matches scikit-image's `structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=1)`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .errors import DataError

METRICS = ("psnr", "ssim", "mse", "mae")
SSIM_PROTOCOL = "Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, K1=0.01, K2=0.03, valid region"


def _check(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    x, y = torch.as_tensor(x), torch.as_tensor(y)  # numpy arrays work too
    for t in (x, y):
        if not t.is_floating_point():
            raise ValueError(
                f"metrics take float images in [0, 1], got {t.dtype}; convert first "
                "(uint8: x.float() / 255)"
            )
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


def _gaussian_band(n: int, win_size: int, sigma: float, like: Tensor) -> Tensor:
    """(n, n - win_size + 1) matrix whose columns are the 1-D Gaussian window at each valid
    offset: `image @ band` filters the last axis. A banded matmul is ~30x faster on CPU than the
    equivalent depthwise 11x11 convolution, forward and backward."""
    coords = torch.arange(win_size, dtype=like.dtype, device=like.device) - (win_size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    # band[i, j] = g[i - j] where 0 <= i - j < win_size, else 0
    rows = torch.arange(n, device=like.device)
    lag = rows[:, None] - rows[None, : n - win_size + 1]
    inside = (lag >= 0) & (lag < win_size)
    return torch.where(inside, g[lag.clamp(0, win_size - 1)], torch.zeros((), dtype=like.dtype))


def ssim_differentiable(
    x: Tensor,
    y: Tensor,
    *,
    data_range: float = 1.0,
    win_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> Tensor:
    """SSIM per image of (B, C, H, W) tensors in their own dtype, with gradients (for losses).

    The window is separable, so the 2-D Gaussian filter is a band matrix on each axis.
    """
    b, c, h, w = x.shape
    if h < win_size or w < win_size:
        raise ValueError(f"SSIM needs images of at least {win_size}x{win_size}, got {h}x{w}")
    rows = _gaussian_band(h, win_size, sigma, x).T
    cols = _gaussian_band(w, win_size, sigma, x)
    # one filtering pass for all five moments
    moments = rows @ torch.cat([x, y, x * x, y * y, x * y], dim=1) @ cols
    mu_x, mu_y, xx, yy, xy = moments.split(c, dim=1)
    var_x = xx - mu_x**2
    var_y = yy - mu_y**2
    cov = xy - mu_x * mu_y
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    num = (2 * mu_x * mu_y + c1) * (2 * cov + c2)
    den = (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    return (num / den).flatten(1).mean(1)


def ssim(x: Tensor, y: Tensor, **window: float) -> Tensor:
    """Structural similarity per image (mean over the valid region and over channels), float64.

    `window` takes `ssim_differentiable`'s keywords (data_range, win_size, sigma, k1, k2), whose
    defaults are the Wang et al. protocol; inputs are detached first.
    """
    x, y = _check(x, y)
    return ssim_differentiable(x, y, **window)


SSIM_MIN_SIDE = 11  # the window of the protocol above


def check_ssim_size(images, what: str) -> None:
    """DataError, in one line, when an image of `images` ((C, H, W) tensors or HW/HWC arrays,
    `what` names them) is smaller than SSIM's window: refused before any work, not after."""
    for index, image in enumerate(images):
        h, w = image.shape[-2:] if isinstance(image, Tensor) else image.shape[:2]
        if min(h, w) < SSIM_MIN_SIDE:
            raise DataError(
                f"{what}: image {index + 1} is {w}x{h}; SSIM is measured over "
                f"{SSIM_MIN_SIDE}x{SSIM_MIN_SIDE} windows, so every image must be at least "
                f"{SSIM_MIN_SIDE}x{SSIM_MIN_SIDE} pixels"
            )


def compute_all(denoised: Tensor, clean: Tensor) -> dict[str, Tensor]:
    """All four metrics of `denoised` against `clean`, each a (B,) tensor."""
    return {
        "psnr": psnr(denoised, clean),
        "ssim": ssim(denoised, clean),
        "mse": mse(denoised, clean),
        "mae": mae(denoised, clean),
    }
