"""Training losses by name. Each takes (denoised, clean) and returns a scalar, computed in fp32."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import unknown
from ..metrics import ssim_differentiable


def _bce(denoised: Tensor, clean: Tensor) -> Tensor:
    # The seed projects trained sigmoid autoencoders with binary cross-entropy on [0,1] pixels;
    # clamping keeps log() finite for models whose output is not squashed.
    return F.binary_cross_entropy(denoised.clamp(1e-6, 1 - 1e-6), clean.clamp(0, 1))


def _charbonnier(denoised: Tensor, clean: Tensor, eps: float = 1e-3) -> Tensor:
    return torch.sqrt((denoised - clean) ** 2 + eps**2).mean()


def _ssim_l1(denoised: Tensor, clean: Tensor) -> Tensor:
    # Zhao et al. (2017) mix a structural term with L1 (0.84 / 0.16): SSIM alone ignores flat
    # offsets, L1 alone under-weights texture. Needs images of at least 11x11 (the SSIM window).
    structural = 1 - ssim_differentiable(denoised, clean.clamp(0, 1))
    return 0.84 * structural.mean() + 0.16 * F.l1_loss(denoised, clean)


LOSSES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "l1": F.l1_loss,
    "mse": F.mse_loss,
    "bce": _bce,
    "charbonnier": _charbonnier,
    "ssim-l1": _ssim_l1,
}


def get_loss(name: str) -> Callable[[Tensor, Tensor], Tensor]:
    if name not in LOSSES:
        raise unknown("loss", name, LOSSES)
    fn = LOSSES[name]
    # Under bf16 autocast the model output is bf16; the loss is summed in fp32 for stability.
    return lambda denoised, clean: fn(denoised.float(), clean.float())
