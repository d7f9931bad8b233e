"""Noisy-pixel fusion for blind-spot (Noise2Void) models: give back what the blind spot threw away.

A Noise2Void network is trained never to look at the pixel it predicts, so its estimate `mu` of
a clean pixel comes from the neighbourhood alone, and the noisy value `y` of that pixel is an
independent second estimate (clean + noise of variance `v`). Treating `mu` as a prior with
variance `p` around the clean value, the posterior mean of the clean pixel is

    mu + p / (p + v) * (y - mu)

(Laine et al., 2019, who predict `p` with the network; Krull et al.'s probabilistic Noise2Void
uses the same idea). Here `p` is read from the data instead: `y - mu` has variance `p + v`, so
`p = mean((y - mu)^2) - v` over a `window` x `window` box around each pixel, floored at a small
positive value. Where the neighbourhood predicts well (flat regions) `p` is small and `mu` wins;
at edges and texture, where it does not, the noisy pixel gets weight. `v` is the square of the
noise level the model is given (a level per image or a per-pixel map), estimated from the image
when none is given.

Only blind-spot models benefit: a network that saw `y` already used it, and `y - mu` is then
correlated with the noise, so `p` would be wrong. The window is chosen on validation images
(`DEFAULT_WINDOW`, see docs/results/self-supervised.md); `train.fusion_window` sets it per run,
0 turns it off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ConfigError
from .base import Denoiser

# Chosen on Train400's validation split (40 images, sigma 25) with the Noise2Void U-Net of
# configs/selfsupervised/bsd68.yaml: windows 21-31 scored within 0.01 dB of each other.
DEFAULT_WINDOW = 25
_MIN_PRIOR_VARIANCE = 1e-6  # (0.001)^2: keeps the weight defined where the residual is tiny


def _is_window(window: object) -> bool:
    """A usable fusion window: a positive odd int (the box is centred on its pixel)."""
    return type(window) is int and window > 0 and window % 2 == 1


def fuse_noisy(noisy: Tensor, estimate: Tensor, variance: Tensor, window: int) -> Tensor:
    """Posterior-mean blend of a blind-spot `estimate` with the `noisy` image it came from.

    noisy, estimate: (B, C, H, W); variance: the noise variance, broadcastable to them (a
    (B, 1, 1, 1) level or a (B, 1, H, W) map), in the images' units squared.
    """
    if not _is_window(window):
        raise ValueError(f"window must be a positive odd number, got {window}")
    residual = noisy - estimate
    local = F.avg_pool2d(
        residual.square(), window, stride=1, padding=window // 2, count_include_pad=False
    )
    prior = (local - variance).clamp_min(_MIN_PRIOR_VARIANCE)
    return estimate + prior / (prior + variance) * residual


class NoisyPixelFusion(Denoiser):
    """A blind-spot model followed by `fuse_noisy`; takes and returns what the model does.

    It is noise-aware (it needs the noise level for `v`), so callers hand it the level or map;
    without one it estimates the level of each image with `sigma_estimator`.
    """

    noise_aware = True
    multiple = 1
    sigma_estimator = "haar"  # the reading the self-supervised objectives train on

    def __init__(self, model: nn.Module, window: int = DEFAULT_WINDOW) -> None:
        super().__init__()
        if not _is_window(window):
            raise ConfigError(f"train.fusion_window must be a positive odd number, got {window!r}")
        self.model = model
        self.window = window
        self.in_channels = getattr(model, "in_channels", None)
        self.out_channels = getattr(model, "out_channels", self.in_channels)

    def extra_repr(self) -> str:
        return f"window={self.window}"

    def denoise_padded(self, noisy: Tensor, sigma: Tensor | None) -> Tensor:
        if sigma is None:
            from ..noise.estimate import estimate_sigma

            sigma = estimate_sigma(noisy, self.sigma_estimator).float().reshape(-1, 1, 1, 1)
        inner_sigma = sigma if getattr(self.model, "noise_aware", False) else None
        estimate = self.model(noisy, inner_sigma).float()
        return fuse_noisy(noisy.float(), estimate, sigma.float().square(), self.window)


def fusion_window(train_config: Mapping[str, Any]) -> int:
    """The fusion window a run's `train` section asks for; 0 when it uses none.

    `fusion_window` None (unset) means the default for the objective: `DEFAULT_WINDOW` for
    noise2void, off for the rest.
    """
    window = train_config.get("fusion_window")
    objective = train_config.get("objective", "supervised")
    if window is None:
        return DEFAULT_WINDOW if objective == "noise2void" else 0
    if not (_is_window(window) or (type(window) is int and window == 0)):
        raise ConfigError(
            f"train.fusion_window must be 0 (off) or a positive odd number, got {window!r}"
        )
    if window and objective != "noise2void":
        raise ConfigError(
            f"train.fusion_window {window} is only for train.objective noise2void (a blind-spot "
            f"model), not {objective}; leave it unset or 0"
        )
    return window


def with_fusion(model: nn.Module, train_config: Mapping[str, Any]) -> nn.Module:
    """`model` wrapped in `NoisyPixelFusion` when its run config asks for it, else `model`."""
    window = fusion_window(train_config)
    return NoisyPixelFusion(model, window) if window else model
