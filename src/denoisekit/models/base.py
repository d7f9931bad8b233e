"""Shared plumbing for every network: pad to the size pooling needs, run, crop back."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ConfigError
from ..noise.estimate import DEFAULT_ESTIMATOR


def pad_to_multiple(
    x: Tensor, multiple: int, mode: str = "reflect"
) -> tuple[Tensor, tuple[int, int]]:
    """Pad the bottom and right of `x` (B, C, H, W) so H and W are multiples of `multiple`.

    Returns the padded tensor and the original `(h, w)`, for `crop_to`. Reflection is the
    default because it keeps local image statistics at the border (zeros would look like a dark
    frame to the network); torch's reflect needs the pad to be smaller than the side, so tiny
    images fall back to replicate, which works for any side >= 1.
    """
    h, w = x.shape[-2:]
    pad_h, pad_w = (-h) % multiple, (-w) % multiple
    if pad_h == 0 and pad_w == 0:
        return x, (h, w)
    if mode == "reflect" and (pad_h >= h or pad_w >= w):
        mode = "replicate"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode), (h, w)


def crop_to(x: Tensor, size: tuple[int, int]) -> Tensor:
    """Undo `pad_to_multiple`: keep the top-left `size = (h, w)` of `x` (B, C, H', W')."""
    h, w = size
    return x[..., :h, :w]


def expand_sigma(sigma: Tensor | float, like: Tensor) -> Tensor:
    """Noise level as a map (B, 1, H, W) shaped like `like` (B, C, H, W); [0, 1] units.

    Accepts a float, a (B,) tensor, or a map already (B, 1, H, W).
    """
    b, _, h, w = like.shape
    sigma = torch.as_tensor(sigma, dtype=like.dtype, device=like.device)
    if sigma.ndim == 4:
        if sigma.shape[-2:] != (h, w):
            raise ValueError(
                f"sigma map {tuple(sigma.shape)} does not match image {tuple(like.shape)}"
            )
        return sigma.expand(b, 1, h, w)
    if sigma.ndim > 1:
        raise ValueError(f"sigma must be a float, (B,) or (B, 1, H, W); got {tuple(sigma.shape)}")
    return sigma.reshape(-1, 1, 1, 1).expand(b, 1, h, w)


def resolve_out_channels(in_channels: int, out_channels: int | None) -> int:
    """`out_channels=None` means "same as the input", the usual case for denoising."""
    return in_channels if out_channels is None else out_channels


def check_positive(**values: int) -> None:
    """Raise `ConfigError` naming the first argument that is not a positive integer."""
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")


def sigma_estimator_of(model: nn.Module) -> str:
    """The `noise.estimate` method `model` reads a missing noise level with: its
    `sigma_estimator`, or the default for a module that has none."""
    return getattr(model, "sigma_estimator", DEFAULT_ESTIMATOR)


class Denoiser(nn.Module):
    """Base class: `forward(noisy, sigma=None)` pads, calls `denoise_padded`, crops back.

    Subclasses set `in_channels`, `out_channels` and `multiple` (the factor H and W must be
    divisible by, e.g. 2**depth for `depth` 2x poolings) and implement `denoise_padded`.
    Models that use the noise level set `noise_aware = True`; the others never see `sigma`.
    Called blind, noise-aware models estimate it with `sigma_estimator` (`noise.estimate`),
    which `checkpoints.load_checkpoint` sets to the one the weights learned from.
    """

    multiple: int = 1
    noise_aware: bool = False
    sigma_estimator: str = DEFAULT_ESTIMATOR
    in_channels: int
    out_channels: int

    def forward(self, noisy: Tensor, sigma: Tensor | float | None = None) -> Tensor:
        """noisy (B, C, H, W) in [0, 1], any H, W -> denoised (B, out_channels, H, W)."""
        if noisy.ndim != 4:
            raise ValueError(f"expected a (B, C, H, W) batch, got shape {tuple(noisy.shape)}")
        expected = getattr(self, "in_channels", None)
        if expected is not None and noisy.shape[1] != expected:
            raise ValueError(
                f"{type(self).__name__} expects {expected} channels, got shape "
                f"{tuple(noisy.shape)}; build it with in_channels={noisy.shape[1]}"
            )
        x, size = pad_to_multiple(noisy, self.multiple)
        sigma_map = None
        if self.noise_aware and sigma is not None:
            sigma_map, _ = pad_to_multiple(expand_sigma(sigma, noisy), self.multiple)
        return crop_to(self.denoise_padded(x, sigma_map), size)

    def denoise_padded(self, noisy: Tensor, sigma: Tensor | None) -> Tensor:
        """noisy (B, C, H, W) with H, W multiples of `self.multiple`; sigma (B, 1, H, W) or None."""
        raise NotImplementedError
