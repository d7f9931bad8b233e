"""Pure noise functions: (B, C, H, W) clean tensors in [0, 1] in, noisy tensors out.

`sigma` is a standard deviation in image units ([0, 1] scale): 25/255 on the 0-255 scale is
`sigma=25/255`. Randomness comes only from the explicit `generator`, so a caller decides whether
noise repeats (evaluation: one generator seeded per image) or is fresh (training: per epoch).
"""

from __future__ import annotations

import torch
from torch import Tensor


def _per_image(sigma: float | Tensor, clean: Tensor) -> Tensor:
    """Broadcast a scalar or (B,) sigma to (B, 1, 1, 1)."""
    s = torch.as_tensor(sigma, dtype=clean.dtype, device=clean.device)
    if s.dim() == 0:
        s = s.expand(clean.shape[0])
    if s.dim() == 1:
        if s.shape[0] != clean.shape[0]:
            raise ValueError(f"sigma has {s.shape[0]} values for a batch of {clean.shape[0]}")
        s = s.view(-1, 1, 1, 1)
    if (s < 0).any():
        raise ValueError(f"sigma must be >= 0, got {s.min().item():g}")
    return s


def gaussian(
    clean: Tensor, sigma: float | Tensor, *, generator: torch.Generator | None = None
) -> Tensor:
    """Additive white Gaussian noise with standard deviation `sigma` (scalar, (B,) or a map).

    No clipping: published Gaussian-denoising tables feed the unclipped float image.
    """
    s = sigma if isinstance(sigma, Tensor) and sigma.dim() == 4 else _per_image(sigma, clean)
    noise = torch.randn(clean.shape, generator=generator, dtype=clean.dtype, device="cpu")
    return clean + s * noise.to(clean.device)


def uniform_sigma(
    batch: int, low: float, high: float, *, generator: torch.Generator | None = None
) -> Tensor:
    """(B,) noise levels drawn uniformly from [low, high], for blind training."""
    return low + (high - low) * torch.rand(batch, generator=generator, dtype=torch.float64).float()


def clip(noisy: Tensor) -> Tensor:
    """Clip to the displayable range, as an 8-bit camera pipeline (and the seed projects) would."""
    return noisy.clamp(0.0, 1.0)


def quantize(noisy: Tensor, levels: int = 255) -> Tensor:
    """Round to `levels` steps after clipping, like saving the noisy image as 8-bit."""
    return torch.round(noisy.clamp(0.0, 1.0) * levels) / levels
