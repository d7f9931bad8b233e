"""Camera-noise calibration: fit the Poisson-Gaussian model var(x) = a*x + b of a camera.

`x` is the clean intensity on the [0, 1] scale, `a` the signal-dependent (shot-noise) part and
`b` the signal-independent (read-noise) part, both in [0, 1]-units squared. The result is a
noise spec, `poisson-gaussian:a=<a>,b=<b>`, written to JSON so that `--noise camera.json`
reproduces the camera's noise anywhere a noise spec is accepted.

Two estimators:

- **single** (`calibrate_images`): from ordinary noisy photos, by local statistics on flat
  regions. The idea follows Foi, Trimeche, Katkovnik & Egiazarian, "Practical
  Poissonian-Gaussian noise modeling and fitting for single-image raw-data" (IEEE TIP 2008):
  separate the image into local means and a noise-only high-pass part, keep only regions
  without edges or texture, group them by intensity, estimate the noise variance of each
  group robustly, fit a line through (mean, variance) and account for clipping. The code is
  our own (block statistics in `flatblocks.py`, the line fit in `linefit.py`): 16x16
  blocks, each with its mean, its variance about a fitted quadratic surface and the energy
  of its finest diagonal Haar band; blocks whose variance or energy exceed what pure noise
  at their brightness would give are dropped (iterated with the fit); per intensity bin the
  median block energy is the variance; a reweighted line fit drops outlier bins. The
  standard errors come from refits on regions of blocks resampled with replacement.
- **burst** (`calibrate_burst`): from N >= 2 shots of one static scene. The per-pixel mean over
  the shots is the clean estimate and the unbiased per-pixel variance is the noise; texture
  does not matter, so it is far more accurate. Shots that choose a pixel's bin are kept
  apart from those that measure it (see `burststats.burst_bins`).

Colour images are fitted with all channels pooled (one (a, b) for the camera, as the noise
spec has one). Clipping at 0 and 1 pulls means inwards and shrinks variances; bins with a
few percent of clipped values are corrected with the moments of a clipped Gaussian, and so are
dark bins of a single clean level however clipped (a black background); other heavily
clipped bins are left out. Inputs that cannot give a trustworthy fit (too small, too
textured, too uniform in brightness, a burst of mismatched sizes) raise a DataError
instead of returning a wrong number.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from ..errors import DataError
from .bootstrap import block_regions, region_bootstrap
from .burststats import Shots, burst_bins
from .flatblocks import BlockStats, bin_blocks, bin_count, block_stats, first_pass, noise_like
from .linefit import STEP_8BIT, Bins, fit_line, grid_step, line_errors

MIN_SIDE = 32  # pixels; smaller images hold too few noise samples to fit two parameters
BLOCK = 16  # side of the blocks tested for flatness (single image)
# The fitted bins must span this much intensity and reach down to _MAX_LOW: otherwise b (the
# variance at x = 0) is left to a long extrapolation, measured wrong by several times b (and
# a by up to 20%) on photos whose flat areas were all bright or all of one brightness.
_MIN_BINS, _MIN_SPAN, _MAX_LOW = 3, 0.25, 0.4
# Bins with more clipped values than this are left out: the clipping correction (which takes
# a bin's clean intensities as normally spread) must stay a small correction. Single images
# take more: their darkest flat areas, which pin b, are often 5-15% clipped; admitting them
# took 512x512 step charts (a=0.01) from 60% to 90% of 20 noise draws with b within 10%, and
# no photo figure got worse (benchmarks/calibration.py); at 20%, a got worse on photos. On
# large images the bins get finer (`flatblocks.bin_count`) to keep the correction exact.
_MAX_CLIP = {"single": 0.15, "burst": 0.03}
# A dark bin whose pixels share one clean level (spread under a quarter of the bin's noise
# std) needs no assumption about how its intensities spread, so its correction stays exact
# however much is clipped at 0: such bins count up to 60% clipped (a clean level down to a
# quarter of a noise std below 0). That is a black background (an inspection camera's produce
# on black, a masked scene), the surest measure of b there is: without it, one image of a
# pistachio on black is refused and a burst of 8 gets b within 3% for 46% of 24 of them at
# a=0.01 (all with it). Not at the bright end: there b is a small part of the variance, so
# the slight bias of a saturated bin's correction (its white spike and the shades below it)
# moves b several times as much (burst b on photos within 3%: 90% -> 82% with every such
# bin in).
_ONE_LEVEL_SPREAD, _MAX_CLIP_ONE_LEVEL = 0.25, 0.6

_ADVICE = (
    "give photos with smooth areas (sky, walls, out-of-focus background) at several "
    "brightness levels, or use --burst with several shots of one static scene"
)


@dataclass(frozen=True)
class Calibration:
    """A fitted Poisson-Gaussian model: noise variance = a * x + b for clean intensity x.

    `a_stderr`, `b_stderr`: standard errors: from the scatter of the bins about the line,
    and for single images at least the spread over refits on resampled regions
    (`bootstrap.py`), which carries texture that moves neighbouring bins together. Measured
    on synthetic noise, errors / stderr have an RMS of 0.6-1.3 (docs/results/calibration.md,
    "Camera calibration accuracy"). `n_samples`: pixels (per channel) whose statistics entered
    the fit; `n_bins`: intensity bins fitted; `intensity_range`: the lowest and highest bin
    intensity used (the line is extrapolated outside it); `residual`: RMS relative misfit of the
    bin variances about the line; `rounding_step`: 1/255 when the values were 8-bit and the fit
    modelled their rounding, else 0; `bins`: per bin the observed mean and variance, pixel count
    and clipped fraction.
    """

    a: float
    b: float
    a_stderr: float
    b_stderr: float
    method: str
    n_samples: int
    n_bins: int
    intensity_range: tuple[float, float]
    residual: float
    rounding_step: float = 0.0
    images: list[str] = field(default_factory=list)
    bins: list[dict[str, float]] = field(default_factory=list, repr=False)

    @property
    def spec(self) -> str:
        """The noise spec string: `poisson-gaussian:a=<a>,b=<b>` (plain decimals)."""
        return f"poisson-gaussian:a={_decimal(self.a)},b={_decimal(self.b)}"

    def sigma(self, x: float) -> float:
        """Noise standard deviation at clean intensity `x` ([0, 1] units)."""
        return math.sqrt(max(self.a * x + self.b, 0.0))

    def summary(self) -> str:
        """One line for people: a, b with standard errors, method, sigma at mid-gray."""
        n = len(self.images)
        images = f", {n} image{'s' if n != 1 else ''}" if n else ""
        sigma = self.sigma(0.5)
        return (
            f"a={_decimal(self.a)} (+-{_decimal(self.a_stderr)}), "
            f"b={_decimal(self.b)} (+-{_decimal(self.b_stderr)}), {self.method}{images}: "
            f"sigma at mid-gray {sigma:.4f} ({sigma * 255:.1f}/255)"
        )

    def notes(self) -> list[str]:
        """Warnings for people: a parameter the data could not pin down.

        b (the variance in black) is flagged when the fitted intensities start above 0.2, so
        b is a long extrapolation, or when its standard error is above half its value; a
        when its standard error is above a quarter of it. Standard errors below 5% of the
        variance at mid-gray are not worth a warning.
        """
        low, high = self.intensity_range
        floor = 0.05 * self.sigma(0.5) ** 2
        notes = []
        if low > 0.2 or self.b_stderr > max(0.5 * self.b, floor):
            notes.append(
                f"b is poorly determined (+-{_decimal(self.b_stderr)}): "
                f"the fitted intensities start at {low:.2f}; add images with smooth dark areas "
                "or use --burst"
            )
        if self.a_stderr > max(0.25 * self.a, floor):
            notes.append(
                f"a is poorly determined (+-{_decimal(self.a_stderr)}) over intensities "
                f"{low:.2f}-{high:.2f}; add images with smooth areas at more brightness levels"
            )
        return notes

    def to_dict(self) -> dict:
        """The JSON document: "noise" (the spec) first, then the numbers behind it."""
        return {
            "noise": self.spec,
            "a": self.a,
            "b": self.b,
            "a_stderr": self.a_stderr,
            "b_stderr": self.b_stderr,
            "method": self.method,
            "images": list(self.images),
            "sigma_at_0.5": self.sigma(0.5),
            "channels": "pooled",
            "n_samples": self.n_samples,
            "n_bins": self.n_bins,
            "intensity_range": list(self.intensity_range),
            "residual": self.residual,
            "rounding_step": self.rounding_step,
            "bins": [dict(b) for b in self.bins],
        }


def _decimal(value: float) -> str:
    return np.format_float_positional(value, precision=4, unique=False, fractional=False, trim="-")


# ----------------------------------------------------------------------------- inputs


def _as_array(image: torch.Tensor | np.ndarray, what: str) -> np.ndarray:
    """(C, H, W) tensor, or HW / HWC / (C, H, W) float array in [0, 1] -> (C, H, W) float64.

    An array whose last axis has 1-4 entries and first axis more is HWC (as `denoise` reads
    arrays) and is transposed."""
    if isinstance(image, torch.Tensor):
        array = image.detach().to("cpu", torch.float64).numpy()
    else:
        array = np.asarray(image, dtype=np.float64)
        if array.ndim == 3 and array.shape[-1] <= 4 < array.shape[0]:
            array = array.transpose(2, 0, 1)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise DataError(f"{what}: expected a (C, H, W) image, got shape {array.shape}")
    h, w = array.shape[-2:]
    if not np.isfinite(array).all():
        raise DataError(f"{what} holds NaN or infinite values; give finite pixel values")
    if array.size and (array.min() < -1.0 or array.max() > 2.0):
        raise DataError(
            f"{what} has values from {array.min():g} to {array.max():g}; pixel values must be "
            "on the [0, 1] scale (divide 8-bit values by 255)"
        )
    if min(h, w) < MIN_SIDE:
        raise DataError(
            f"{what} is {w}x{h} pixels; calibration needs at least {MIN_SIDE}x{MIN_SIDE} "
            "(a full-size photo is best)"
        )
    return array


# ----------------------------------------------------------------------------- single image


def calibrate_images(
    images: Iterable[torch.Tensor | np.ndarray],
    *,
    names: Sequence[str] = (),
    block: int = BLOCK,
) -> Calibration:
    """Fit (a, b) from one or more noisy photos of the same camera, by flat-region statistics.

    `images`: (C, H, W) tensors or arrays in [0, 1] (HW arrays are gray), any sizes, or a
    generator of them (only per-block statistics are kept); the samples of all images and
    channels are pooled. `block`: side in pixels of the square blocks tested for flatness.
    Raises DataError when an image is smaller than 32x32 or when too few flat regions at
    distinct intensities remain to fit a line.
    """
    stats, regions, first_region, step = [], [], 0, STEP_8BIT
    for n, image in enumerate(images):
        what = names[n] if n < len(names) else f"image {n}"
        array = _as_array(image, what)
        step = min(step, grid_step(array))
        ids = block_regions(*array.shape[-2:], block) + first_region
        if len(ids):
            first_region = int(ids.max()) + 1  # regions never span two images
        for channel in array:
            stats.append(block_stats(channel, block))
            regions.append(ids)
    if not stats:
        raise DataError("no images to calibrate from; " + _ADVICE)
    s = BlockStats.concat(stats)
    a, b, bins = _fit_blocks(s, block, step)
    spread = region_bootstrap(
        lambda indices: _fit_blocks(s.take(indices), block, step)[:2], np.concatenate(regions)
    )
    return _result(a, b, "single", bins, names, spread)


def _fit_blocks(s: BlockStats, block: int, step: float) -> tuple[float, float, Bins]:
    """The single-image fit: flat blocks by a model-free test first, then (three times) the
    blocks that look like pure noise under the current (a, b)."""
    keep = first_pass(s)
    a, b, bins = _fit(bin_blocks(s, keep, block, bin_count(keep)), "single", step)
    for _ in range(3):
        keep = noise_like(s, a, b, block)
        a, b, bins = _fit(bin_blocks(s, keep, block, bin_count(keep)), "single", step)
    return a, b, bins


# ----------------------------------------------------------------------------- burst


def calibrate_burst(
    shots: Iterable[torch.Tensor | np.ndarray], *, names: Sequence[str] = ()
) -> Calibration:
    """Fit (a, b) from N >= 2 shots of one static scene (same size, same exposure).

    Per pixel and channel, the mean over the shots estimates the clean intensity and the
    unbiased variance (ddof=1) the noise variance; pixels are binned by intensity (with the
    shots that choose the bin kept apart from those that measure it, see
    `burststats.burst_bins`) and the bin variances fitted with a line. Shots may come from a
    generator: memory holds one shot plus a few running sums, whatever N. Raises DataError for
    fewer than 2 shots, shots of different sizes, or a scene whose brightness spans too little
    to separate a from b.
    """
    groups = (Shots(), Shots())  # even- and odd-numbered shots
    shape, step = None, STEP_8BIT
    for n, shot in enumerate(shots):
        what = names[n] if n < len(names) else f"shot {n}"
        array = _as_array(shot, what)
        step = min(step, grid_step(array))
        if shape is not None and array.shape != shape:
            first = names[0] if names else "shot 0"
            raise DataError(
                f"burst shots differ in size: {what} is {_shape(array.shape)}, {first} is "
                f"{_shape(shape)}; a burst must be shots of one static scene"
            )
        shape = array.shape
        groups[n % 2].add(array.reshape(-1))
    count = groups[0].n + groups[1].n
    if count < 2:
        raise DataError(
            f"a burst needs at least 2 shots of the same scene, got {count}; "
            "give more shots, or drop --burst to calibrate from single images"
        )
    a, b, bins = _fit(burst_bins(*groups), "burst", step)
    return _result(a, b, "burst", bins, names)


def _shape(shape: tuple[int, ...]) -> str:
    c, h, w = shape
    return f"{w}x{h}" + (f"x{c}" if c > 1 else "")


# ----------------------------------------------------------------------------- fit and result


def _fit(bins: Bins, method: str, step: float) -> tuple[float, float, Bins]:
    """Fit var = a*x + b through the bins (see `linefit.fit_line`), the values rounded to a
    grid of `step` (0: not rounded); a, b and the bins used.

    Only `usable_bins` count; DataError when too few bins, or too narrow a span of
    intensities, remain.
    """
    bins = replace(bins, step=step).select(usable_bins(bins, method))
    _check_bins(bins.mean, method)
    a, b, use, x = fit_line(bins, enough=_enough)
    _check_bins(x[use], method)
    return a, b, bins.select(use)


def usable_bins(bins: Bins, method: str) -> np.ndarray:
    """Mask of the bins the fit may use: inside (0, 1) and clipped no more than
    `_MAX_CLIP[method]`, or dark bins of one clean level up to `_MAX_CLIP_ONE_LEVEL`."""
    one_level = (
        (bins.mean < 0.5)
        & (bins.clipped <= _MAX_CLIP_ONE_LEVEL)
        & (bins.spread <= _ONE_LEVEL_SPREAD * np.sqrt(bins.var))
    )
    usable = (bins.clipped <= _MAX_CLIP[method]) | one_level
    return usable & (bins.mean > 0) & (bins.mean < 1)


def _enough(x: np.ndarray) -> bool:
    return len(x) >= _MIN_BINS and x.max() - x.min() >= _MIN_SPAN and x.min() <= _MAX_LOW


def _check_bins(x: np.ndarray, method: str) -> None:
    if _enough(x):
        return
    what = "flat regions" if method == "single" else "unclipped pixels"
    found = f"{what} at {len(x)} intensity level{'s' if len(x) != 1 else ''}"
    if len(x):
        found += f" spanning {x.min():.2f}-{x.max():.2f}"
    need = f"need {_MIN_BINS}+ spanning >= {_MIN_SPAN}, from below {_MAX_LOW}"
    if method == "burst":
        advice = "photograph a scene with dark and bright areas that are not clipped"
    else:
        advice = _ADVICE
    raise DataError(f"cannot fit camera noise: found {found} ({need}); {advice}")


def _result(
    a: float,
    b: float,
    method: str,
    bins: Bins,
    names: Sequence[str],
    spread: tuple[float, float] | None = None,
) -> Calibration:
    """The Calibration; `spread`: bootstrap standard deviations of (a, b), which replace the
    fit's standard errors where larger."""
    x, relative, a_stderr, b_stderr = line_errors(bins, a, b)
    if spread is not None:
        a_stderr, b_stderr = max(a_stderr, spread[0]), max(b_stderr, spread[1])
    rows = zip(bins.mean, bins.var, bins.n, bins.clipped, strict=True)
    return Calibration(
        a=a,
        b=b,
        a_stderr=a_stderr,
        b_stderr=b_stderr,
        method=method,
        n_samples=int(bins.n.sum()),
        n_bins=len(x),
        intensity_range=(float(x.min()), float(x.max())),
        residual=float(np.sqrt(np.mean(relative**2))),
        rounding_step=bins.step,
        images=[str(n) for n in names],
        bins=[
            {"mean": float(m), "var": float(v), "n": int(c), "clipped": float(f)}
            for m, v, c, f in rows
        ],
    )
