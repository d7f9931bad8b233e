"""Shared plumbing for classical filters: tensors <-> float64 numpy, sigma, tuned strengths.

A classical denoiser is an `nn.Module` with no parameters so that `evaluate`, `experiment` and
`benchmark` treat it exactly like a network: `model(noisy, sigma)` on (B, C, H, W) in [0, 1].
Each image is filtered on its own, in float64 numpy, with its own sigma.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from torch import Tensor

from ..errors import ConfigError, DenoiseKitError
from ..models.base import Denoiser
from .strengths import STRENGTHS

# Where the extra packages come from: bm3d is in the [classical] extra and pulls PyWavelets in;
# scikit-image needs PyWavelets for `estimate_sigma` and `denoise_wavelet` but does not require it.
INSTALL_HINT = "pip install 'denoisekit[classical]'"


def require(module: str, what: str):
    """Import an optional module, or raise a one-line DenoiseKitError saying how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise DenoiseKitError(
            f"{what} needs the {module!r} package, which is not installed; {INSTALL_HINT}"
        ) from None


def estimate_noise_sigma(image: np.ndarray) -> float:
    """Gaussian noise std of one image (HW or HWC float64, [0, 1] units), averaged over channels.

    scikit-image's wavelet MAD estimate (Donoho): median(|HH|) / 0.6745 of the finest diagonal
    band. It overestimates on strongly textured images, which only makes the filter smoother.
    """
    require("pywt", "estimating sigma (sigma=None)")
    from skimage.restoration import estimate_sigma

    axis = -1 if image.ndim == 3 else None
    with warnings.catch_warnings():
        # scikit-image guesses that an image 1-4 px wide might be colour; the layout is known here
        warnings.filterwarnings("ignore", message="image is size", category=UserWarning)
        return float(estimate_sigma(image, average_sigmas=True, channel_axis=axis))


def interpolate_strength(name: str, sigma: float, *, proportional: bool) -> float:
    """The tuned strength of method `name` at noise std `sigma` ([0, 1] units).

    Linear in sigma between the stored points. Outside them a strength that grows with the noise
    (NLM h, TV weight, bilateral colour sigma) keeps its ratio to sigma, so a nearly clean image
    (sigma 2/255) is barely smoothed instead of getting the sigma=15/255 strength; the others are
    clamped to the nearest stored value.
    """
    points = STRENGTHS[name]["values"]
    xs = sorted(points)
    s255 = sigma * 255.0
    if s255 <= xs[0] or s255 >= xs[-1]:
        edge = xs[0] if s255 <= xs[0] else xs[-1]
        return points[edge] * (s255 / edge if proportional else 1.0)
    return float(np.interp(s255, xs, [points[x] for x in xs]))


class ClassicalDenoiser(Denoiser):
    """Base of the registered classical filters: no parameters, one image at a time in numpy.

    Subclasses set `parameter` (what `strength` means) and `proportional` (whether it scales
    with sigma), and implement `filter(image, sigma, strength)` on an HW or HWC float64 array.
    """

    noise_aware = True  # the base class then hands us sigma as a (B, 1, H, W) map
    multiple = 1
    parameter: str = "strength"
    proportional: bool = True
    colour: str = "each channel filtered on its own"  # how a colour image is handled, for tables

    def __init__(self, strength: float | None = None, in_channels: int | None = None) -> None:
        super().__init__()
        if strength is not None and not (
            isinstance(strength, (int, float)) and math.isfinite(strength) and strength >= 0
        ):
            raise ConfigError(f"strength must be a number >= 0, got {strength!r}")
        if in_channels is not None and (not isinstance(in_channels, int) or in_channels < 1):
            raise ConfigError(f"in_channels must be a positive integer, got {in_channels!r}")
        # `in_channels` only exists so harnesses can build every model alike; None accepts any.
        self.strength = strength
        self.in_channels = in_channels
        self.out_channels = in_channels

    def extra_repr(self) -> str:
        return f"strength={self.strength}, in_channels={self.in_channels}"

    def strength_at(self, sigma: float) -> float:
        """The `parameter` value used at noise std `sigma`: the override, else the tuned value."""
        if self.strength is not None:
            return float(self.strength)
        return interpolate_strength(self.registry_name, sigma, proportional=self.proportional)

    def denoise_array(self, image: np.ndarray, sigma: float | None = None) -> np.ndarray:
        """One image, HW or HWC float64 in [0, 1] -> denoised array of the same shape.

        sigma: noise std in [0, 1] units, or None to estimate it from the image.
        """
        if sigma is None:
            sigma = estimate_noise_sigma(image)
        if not math.isfinite(sigma) or sigma < 0:
            raise ValueError(f"sigma must be a finite number >= 0, got {sigma!r}")
        if sigma == 0:
            return image.copy()  # nothing to remove; strengths proportional to 0 would divide
        return np.asarray(self.filter(image, sigma, self.strength_at(sigma)), dtype=np.float64)

    def filter(self, image: np.ndarray, sigma: float, strength: float) -> np.ndarray:
        raise NotImplementedError

    def forward(self, noisy: Tensor, sigma: Tensor | float | None = None) -> Tensor:
        """noisy (B, C, H, W) in [0, 1] -> denoised (B, C, H, W) float32 on the same device.

        sigma: noise std in [0, 1] units, a float, a (B,) tensor or a (B, 1, H, W) map (reduced
        to its per-image mean: these filters take one level per image); None estimates it.
        """
        return super().forward(noisy, sigma)

    @torch.no_grad()
    def denoise_padded(self, noisy: Tensor, sigma: Tensor | None) -> Tensor:
        levels: list[float | None]
        if sigma is None:
            levels = [None] * noisy.shape[0]
        else:
            levels = [float(s) for s in sigma.detach().double().flatten(1).mean(1).cpu()]
        images = noisy.detach().to("cpu", torch.float64).numpy()
        out = np.empty_like(images)
        for i, (image, level) in enumerate(zip(images, levels, strict=True)):
            # skimage and scipy want channels last, and a plain 2-D array for gray images.
            hwc = image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)
            denoised = self.denoise_array(np.ascontiguousarray(hwc), level)
            out[i] = denoised[None] if denoised.ndim == 2 else denoised.transpose(2, 0, 1)
        return torch.from_numpy(out).to(device=noisy.device, dtype=torch.float32)


def per_channel(image: np.ndarray, fn) -> np.ndarray:
    """Apply a 2-D filter `fn(channel) -> channel` to an HW image or each channel of an HWC one."""
    if image.ndim == 2:
        return fn(image)
    return np.stack([fn(image[..., c]) for c in range(image.shape[-1])], axis=-1)


def channel_axis(image: np.ndarray) -> int | None:
    """scikit-image's `channel_axis` for an HW (None) or HWC (-1) array."""
    return -1 if image.ndim == 3 else None
