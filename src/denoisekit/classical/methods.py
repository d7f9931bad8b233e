"""The registered classical denoisers. Each `filter` takes one HW/HWC float64 image.

Strengths (the one knob per method that most changes PSNR) come from `strengths.py`, tuned on
Train400 by `benchmarks/tune_classical.py`; the other settings are fixed here, with the reason.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError
from ..registry import register_model
from .base import ClassicalDenoiser, channel_axis, per_channel, require

# BM3D's C code crashes (segfault) on images smaller than its 8-12 px blocks: pad to this first.
BM3D_MIN_SIDE = 16


@register_model("bm3d", kind="classical")
class BM3D(ClassicalDenoiser):
    """BM3D, block matching + 3-D filtering (bm3d package: NON-COMMERCIAL use only licence).

    Uses `bm3d.bm3d` on gray images and `bm3d.bm3d_rgb` (opponent colour space) on 3-channel
    ones; other channel counts are filtered one channel at a time. `strength` multiplies the
    sigma given to BM3D (1.0: BM3D's own parameters are designed for the true sigma; not tuned,
    as a grid would cost minutes). `threads`: 1 by default because bm3d's multi-threaded
    aggregation changes the last float bits from run to run (and on a busy 2-core machine it
    was slower: 0.65 s vs 0.33 s on 37x31); 0 lets bm3d use every core.
    The bm3d package (Tampere University) may be used for non-commercial, informational
    purposes only: read its LICENSE before shipping results.
    """

    parameter = "sigma scale"
    proportional = False
    colour = "CBM3D (bm3d_rgb, opponent colour space) on RGB"

    def __init__(
        self, strength: float | None = None, in_channels: int | None = None, threads: int = 1
    ) -> None:
        super().__init__(strength, in_channels)
        if not isinstance(threads, int) or isinstance(threads, bool) or threads < 0:
            raise ConfigError(f"threads must be an integer >= 0 (0: all cores), got {threads!r}")
        self.threads = threads

    def filter(self, image: np.ndarray, sigma: float, strength: float) -> np.ndarray:
        bm3d = require("bm3d", "the bm3d denoiser")
        profile = bm3d.BM3DProfile()  # 'np', the profile of the published BM3D numbers
        profile.num_threads = self.threads
        h, w = image.shape[:2]
        pad = [(0, max(0, BM3D_MIN_SIDE - h)), (0, max(0, BM3D_MIN_SIDE - w))]
        # symmetric padding keeps local statistics and works for pads larger than the side
        padded = np.pad(image, pad + [(0, 0)] * (image.ndim - 2), mode="symmetric")
        level = sigma * strength
        if padded.ndim == 3 and padded.shape[-1] == 3:
            out = bm3d.bm3d_rgb(padded, level, profile)
        else:
            out = per_channel(padded, lambda c: bm3d.bm3d(c, level, profile))
        return np.asarray(out)[:h, :w].reshape(image.shape)


@register_model("nlm", kind="classical")
class NonLocalMeans(ClassicalDenoiser):
    """Non-local means (scikit-image, fast mode); colour patches compared jointly.

    `strength` is the filtering parameter h ([0, 1] image units). Patch settings from sigma:
    5x5 patches below sigma=40/255 and 7x7 above (larger patches only paid off at sigma=50 on
    Train400), search distance 6 (13x13 window: distance 9 never helped there and costs 2x).
    sigma is passed to scikit-image, which subtracts the expected noise from patch distances.
    """

    parameter = "h"
    proportional = True
    colour = "colour patches compared jointly"

    def filter(self, image: np.ndarray, sigma: float, strength: float) -> np.ndarray:
        from skimage.restoration import denoise_nl_means

        return denoise_nl_means(
            image,
            patch_size=nlm_patch_size(sigma),
            patch_distance=6,
            h=strength,
            sigma=sigma,
            fast_mode=True,
            channel_axis=channel_axis(image),
        )


def nlm_patch_size(sigma: float) -> int:
    """NLM patch side for noise std `sigma` ([0, 1] units): bigger patches match better in heavy
    noise, smaller ones keep detail in light noise."""
    return 5 if sigma < 40 / 255 else 7


@register_model("tv", kind="classical")
class TotalVariation(ClassicalDenoiser):
    """Total-variation denoising (Chambolle's projection, scikit-image), per channel.

    `strength` is the TV weight: larger is smoother, roughly proportional to sigma.
    """

    parameter = "weight"
    proportional = True

    def filter(self, image: np.ndarray, sigma: float, strength: float) -> np.ndarray:
        from skimage.restoration import denoise_tv_chambolle

        return denoise_tv_chambolle(image, weight=strength, channel_axis=channel_axis(image))


@register_model("wavelet", kind="classical")
class WaveletBayesShrink(ClassicalDenoiser):
    """Wavelet soft-thresholding, BayesShrink thresholds per sub-band (scikit-image), per channel.

    Daubechies-2 wavelet (beat db1, sym4 and sym8 on Train400 at sigma 15 and 25, within 0.1 dB
    of db1 at 50). `strength` multiplies the sigma that sets the thresholds.
    """

    parameter = "sigma scale"
    proportional = False

    def filter(self, image: np.ndarray, sigma: float, strength: float) -> np.ndarray:
        require("pywt", "the wavelet denoiser")
        from skimage.restoration import denoise_wavelet

        return denoise_wavelet(
            image,
            sigma=sigma * strength,
            wavelet="db2",
            mode="soft",
            method="BayesShrink",
            rescale_sigma=True,
            channel_axis=channel_axis(image),
        )


@register_model("bilateral", kind="classical")
class Bilateral(ClassicalDenoiser):
    """Bilateral filter: Gaussian in space times Gaussian in colour distance (own numpy code).

    `strength` is the value-range sigma (sigma_color, [0, 1] units) for gray images. Colour
    pixels are compared by their Euclidean distance over all C channels, whose noise part grows
    like sqrt(C), so colour images get sqrt(C) times the gray value. Spatial sigma 1 px below
    sigma=40/255 and 1.5 px above (best on Train400: 1 px loses 0.5 dB at 50, 1.5 px loses 0.2
    dB at 15). Not scikit-image's `denoise_bilateral`: in scikit-image 0.26 its spatial kernel
    is scrambled (an impulse comes out sheared, with almost no weight on the centre pixel).
    """

    parameter = "sigma_color"
    proportional = True
    colour = "weights from the colour distance over all channels"

    def filter(self, image: np.ndarray, sigma: float, strength: float) -> np.ndarray:
        channels = image.shape[-1] if image.ndim == 3 else 1
        sigma_spatial = 1.0 if sigma < 40 / 255 else 1.5
        return bilateral(image, strength * math.sqrt(channels), sigma_spatial)


def bilateral(image: np.ndarray, sigma_color: float, sigma_spatial: float) -> np.ndarray:
    """Bilateral filter of an HW or HWC float image over a disc of radius 3 * sigma_spatial.

    One vectorised pass per offset in the disc (about 110 at sigma_spatial 2), so the cost is
    that many elementwise passes: ~40 ms gray, ~0.4 s colour at 256 x 256 on one core.
    """
    hwc = image if image.ndim == 3 else image[..., None]
    h, w, _ = hwc.shape
    r = max(1, math.ceil(3 * sigma_spatial))
    # symmetric padding: the zero padding of most filters darkens the border
    padded = np.pad(hwc, ((r, r), (r, r), (0, 0)), mode="symmetric")
    total = np.zeros_like(hwc)
    weights = np.zeros((h, w), dtype=hwc.dtype)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dy * dy + dx * dx > r * r:
                continue
            shifted = padded[r + dy : r + dy + h, r + dx : r + dx + w]
            spatial = math.exp(-(dy * dy + dx * dx) / (2 * sigma_spatial**2))
            distance2 = np.square(shifted - hwc).sum(axis=-1)
            weight = spatial * np.exp(-distance2 / (2 * sigma_color**2))
            total += weight[..., None] * shifted
            weights += weight
    return (total / weights[..., None]).reshape(image.shape)


def odd_size(value: float) -> int:
    """Nearest odd window side >= 1: an even median window would shift the image half a pixel."""
    return max(1, 2 * math.floor((value - 1) / 2 + 0.5) + 1)


@register_model("median", kind="classical")
class Median(ClassicalDenoiser):
    """Median filter (scipy), square window, per channel; `strength` is the window side in px.

    Interpolated sides are rounded to the nearest odd number.
    """

    parameter = "size"
    proportional = False

    def filter(self, image: np.ndarray, sigma: float, strength: float) -> np.ndarray:
        from scipy.ndimage import median_filter

        size = odd_size(strength)
        return per_channel(image, lambda c: median_filter(c, size=size, mode="reflect"))


@register_model("gaussian-blur", kind="classical")
class GaussianBlur(ClassicalDenoiser):
    """Gaussian blur (scipy), per channel; `strength` is the blur standard deviation in px."""

    parameter = "sigma_px"
    proportional = False

    def filter(self, image: np.ndarray, sigma: float, strength: float) -> np.ndarray:
        from scipy.ndimage import gaussian_filter

        return per_channel(image, lambda c: gaussian_filter(c, sigma=strength, mode="reflect"))
