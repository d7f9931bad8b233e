"""Fit the noise line var = a*x + b through intensity bins, allowing for clipping at 0 and 1.

Used by `calibrate`: each bin holds the observed mean intensity, noise variance, pixel count,
fraction of clipped values and spread of clean intensities of a group of pixels or blocks of
similar brightness. Clipping is modelled as clip(x + sqrt(a*x + b) * Z, 0, 1), Z ~ N(0, 1),
and, for values read from 8-bit files, the rounding to the nearest of the 256 levels after it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields, replace

import numpy as np

_LIGHT_CLIP = 0.002  # bins with fewer clipped values than this need no clipping correction
_MAD_TO_SIGMA = 1.0 / 0.6744897501960817  # median |N(0, s^2)| = 0.6745 s
STEP_8BIT = 1.0 / 255.0


@dataclass
class Bins:
    """Per intensity bin: observed mean, noise variance, pixel count, clipped fraction, and
    the standard deviation of the clean intensity across the bin (`spread`), which the
    clipping correction needs because clipping acts nonlinearly on a bin's mixture."""

    mean: np.ndarray
    var: np.ndarray
    n: np.ndarray
    clipped: np.ndarray
    spread: np.ndarray
    step: float = 0.0  # the values' quantisation step (1/255 for 8-bit files), 0 if none

    def select(self, mask: np.ndarray) -> Bins:
        arrays = (f.name for f in fields(Bins) if f.name != "step")
        return replace(self, **{name: getattr(self, name)[mask] for name in arrays})


def grid_step(array: np.ndarray) -> float:
    """1/255 when every value is a whole number of 255ths (read from an 8-bit file), else 0.

    Rounding to 8 bits adds (1/255)^2 / 12 to the noise variance, 0.3% of b = 0.0004, and
    where values clip at 0 it moves the clipped moments more: on pistachios on black, b from
    bursts of 8-bit shots came out 1.7% (a=0.01) and 6.3% (a=0.002, b=0.0001) high until the
    fit modelled it. 16-bit steps are too fine to matter.
    """
    flat = np.asarray(array).reshape(-1)
    for start in range(0, flat.size, 1 << 20):  # in slices: no image-sized temporaries
        scaled = np.asarray(flat[start : start + (1 << 20)], dtype=np.float64) * 255.0
        if np.abs(scaled - np.round(scaled)).max(initial=0.0) >= 1e-3:
            return 0.0
    return STEP_8BIT


def is_clipped(array: np.ndarray) -> np.ndarray:
    """Values sitting exactly on the clipping limits 0 and 1."""
    return (array == 0.0) | (array == 1.0)


def fit_line(
    bins: Bins, *, enough: Callable[[np.ndarray], bool]
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Fit var = a*x + b (a, b >= 0) through the bins, correcting for clipping and for the
    rounding of the values to a grid of `bins.step`.

    Clipping at 0 and 1 pulls a bin's mean inwards and shrinks its variance. The first fit
    uses the bins with at most 0.2% clipped values (all bins if those are not `enough`);
    then every bin is corrected with the clipped (and rounded) moments of the current fit,
    averaged over the bin's spread (`bin_moments`): solve for the clean intensity mu whose
    observed mean is the bin mean, scale the variance by (a*mu + b) / observed variance,
    and refit, until the line stops moving. `enough` says whether a set of bin intensities
    can still carry a fit when outliers are dropped.
    Returns a, b, the mask of bins used and the clean intensity of every bin.
    """
    light = bins.clipped <= _LIGHT_CLIP
    start = light if enough(bins.mean[light]) else np.ones_like(light)
    # Without enough light bins the first fit takes all of them, uncorrected; the
    # iteration below must still correct them.
    a, b, use = _robust_line(bins.mean, bins.var, bins.n, start, enough)
    x = bins.mean
    if not light.all() or bins.step > 0:  # rounding widens every bin (a step^2 / 12)
        everything = np.ones_like(light)
        for _ in range(30):
            x = unclipped_mean(bins.mean, a, b, bins.spread, bins.step)
            shrink = bin_moments(x, a, b, bins.spread, bins.step)[1] / np.maximum(a * x + b, 1e-20)
            target = bins.var / np.maximum(shrink, 1e-20)
            a_new, b_new, use = _robust_line(x, target, bins.n, everything, enough)
            done = abs(a_new - a) <= 1e-5 * a + 1e-12 and abs(b_new - b) <= 1e-5 * b + 1e-12
            a, b = a_new, b_new
            if done:
                break
    return a, b, use, x


def line_errors(bins: Bins, a: float, b: float) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(clean intensity per bin, relative misfit per bin, standard error of a, of b).

    The standard errors come from the weighted fit, with the sampling-error scale taken from
    the scatter of the bins about the line, so texture and model error widen them.
    """
    x = unclipped_mean(bins.mean, a, b, bins.spread, bins.step)
    model = np.maximum(a * x + b, 1e-20)
    relative = bins.var / np.maximum(bin_moments(x, a, b, bins.spread, bins.step)[1], 1e-20) - 1
    w = bins.n / model**2
    design = np.stack([x, np.ones_like(x)], 1)
    scale = (w * (relative * model) ** 2).sum() / max(len(x) - 2, 1)
    cov = np.linalg.pinv(design.T @ (w[:, None] * design)) * scale
    a_stderr, b_stderr = np.sqrt(np.maximum(np.diag(cov), 0.0))
    return x, relative, float(a_stderr), float(b_stderr)


def _robust_line(x, v, n, allowed, enough) -> tuple[float, float, np.ndarray]:
    """Weighted line fit through the allowed bins, dropping outliers; (a, b, bins used).

    Weights are n / model^2 (a variance estimated from n samples has a standard deviation
    proportional to variance / sqrt(n)), iterated so they follow the fit, not the noisy bin
    values. Bins more than 4 robust standard deviations off (texture) are dropped.
    """
    use = allowed.copy()
    a, b = _wls(x[use], v[use], n[use] / np.maximum(v[use], 1e-20) ** 2)
    for _ in range(5):
        model = np.maximum(a * x + b, 1e-20)
        a, b = _wls(x[use], v[use], n[use] / model[use] ** 2)
        model = np.maximum(a * x + b, 1e-20)
        z = (v - model) / model * np.sqrt(n)  # misfit in units of sampling error (up to scale)
        scale = _MAD_TO_SIGMA * np.median(np.abs(z[use])) + 1e-12
        new = allowed & (np.abs(z) <= 4.0 * scale)
        if not enough(x[new]) or (new == use).all():
            break
        use = new
    return a, b, use


def _wls(x: np.ndarray, v: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted least squares v ~ a*x + b with a, b >= 0 (the constrained optimum)."""
    sw, sx, sv = w.sum(), (w * x).sum(), (w * v).sum()
    sxx, sxv = (w * x * x).sum(), (w * x * v).sum()
    det = sw * sxx - sx * sx
    if det > 0:
        a = (sw * sxv - sx * sv) / det
        b = (sxx * sv - sx * sxv) / det
        if a >= 0 and b >= 0:
            return float(a), float(b)
    # On the boundary: either b = 0 (line through the origin) or a = 0 (constant).
    a0 = max(sxv / sxx, 0.0) if sxx > 0 else 0.0
    b0 = max(sv / sw, 0.0)
    cost_a = (w * (v - a0 * x) ** 2).sum()
    cost_b = (w * (v - b0) ** 2).sum()
    return (float(a0), 0.0) if cost_a <= cost_b else (0.0, float(b0))


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    # torch's vectorised ndtr in float64: a Python-level math.erf per element was most of a
    # calibration's time (the bootstrap refits the line dozens of times).
    import torch

    return torch.special.ndtr(torch.as_tensor(x, dtype=torch.float64)).numpy()


def _normal_pdf(z: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)


def _clipped_mean(mu: np.ndarray, s: np.ndarray):
    """Mean of clip(mu + s * Z, 0, 1), with the terms the variance and the slope reuse:
    standardised limits, P(Z < hi), P(inside) and the normal densities at the limits."""
    lo, hi = -mu / s, (1.0 - mu) / s
    p_lo, p_hi = _normal_cdf(lo), _normal_cdf(hi)
    d_lo, d_hi = _normal_pdf(lo), _normal_pdf(hi)
    inside = p_hi - p_lo
    mean = (1.0 - p_hi) + mu * inside + s * (d_lo - d_hi)
    return mean, lo, hi, p_hi, inside, d_lo, d_hi


def clipped_moments(mu: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of clip(mu + sqrt(var) * Z, 0, 1) for Z ~ N(0, 1)."""
    s = np.sqrt(np.maximum(var, 1e-30))
    mean, lo, hi, p_hi, inside, d_lo, d_hi = _clipped_mean(mu, s)
    second = (
        (1.0 - p_hi)
        + mu**2 * inside
        + 2 * mu * s * (d_lo - d_hi)
        + var * (inside + lo * d_lo - hi * d_hi)
    )
    return mean, np.maximum(second - mean**2, 0.0)


def _rounded_terms(mu: np.ndarray, s: np.ndarray, step: float):
    """For the values round(clip(mu + s Z, 0, 1) / step) * step: the grid levels k whose
    threshold (k - 1/2) step lies within 8 s of some mu, z_k = ((k - 1/2) step - mu) / s and
    P(value >= k step) for them (level on the last axis), and the mean: step times the sum
    over all k of P(value >= k step), where the levels below the window count 1 each (to
    double precision)."""
    first = max(1, math.floor((mu - 8 * s).min() / step + 0.5))
    last = min(round(1.0 / step), math.ceil((mu + 8 * s).max() / step + 0.5))
    levels = np.arange(first, last + 1)
    z = ((levels - 0.5) * step - mu[..., None]) / s[..., None]
    above = 1.0 - _normal_cdf(z)
    return levels, z, above, step * (first - 1 + above.sum(-1))


def _rounded_moments(mu: np.ndarray, s: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the clipped values rounded to a grid of `step`: the second
    moment is step^2 times the sum over k of (2k - 1) P(value >= k step), to which the
    levels below the window add their count squared."""
    levels, _, above, mean = _rounded_terms(mu, s, step)
    below = levels[0] - 1
    second = step**2 * (below**2 + ((2 * levels - 1) * above).sum(-1))
    return mean, np.maximum(second - mean**2, 0.0)


def _rounding_ends(mu: np.ndarray, s: np.ndarray, step: float) -> list[np.ndarray]:
    """Masks of the entries whose moments need the exact rounded sums, the dark ones and the
    bright ones apart (each gets a short window of levels): those near a clipping limit with
    noise under 10 steps. Elsewhere rounding adds step^2 / 12 to the variance and nothing to
    the mean (Sheppard): off by terms of order exp(-2 pi^2 s^2 / step^2) away from the
    limits, and by under 0.1% of the variance at a limit once s is 10 steps."""
    near = ((mu < 6 * s) | (1.0 - mu < 6 * s)) & (s < 10 * step)
    return [mask for mask in (near & (mu < 0.5), near & (mu >= 0.5)) if mask.any()]


def moments(mu: np.ndarray, var: np.ndarray, step: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of clip(mu + sqrt(var) * Z, 0, 1), rounded to a grid of `step` when
    it is above 0 (8-bit values: step = 1/255)."""
    mean, variance = clipped_moments(mu, var)
    if step <= 0:
        return mean, variance
    variance = variance + step**2 / 12
    s = np.sqrt(np.maximum(var, 1e-30))
    for end in _rounding_ends(mu, s, step):
        mean[end], variance[end] = _rounded_moments(mu[end], s[end], step)
    return mean, variance


# Gauss-Hermite rule for E[f(mu + spread * Z)], Z ~ N(0, 1).
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(7)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def _spread_nodes(mu: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """(n,) bin intensities -> (n, nodes) clean intensities of the Gauss-Hermite rule."""
    return mu[:, None] + spread[:, None] * _NODES[None, :]


def bin_moments(
    mu: np.ndarray, a: float, b: float, spread: np.ndarray, step: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Observed mean and mean per-pixel variance of a bin whose clean intensities spread
    normally with std `spread` around `mu`, each pixel clip(x + sqrt(a*x + b) * Z, 0, 1)
    (rounded to a grid of `step` if above 0)."""
    x = _spread_nodes(mu, spread)
    mean, var = moments(x, np.maximum(a * x + b, 0.0), step)
    return mean @ _WEIGHTS, var @ _WEIGHTS


def _bin_mean_and_slope(
    mu: np.ndarray, a: float, b: float, spread: np.ndarray, step: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """`bin_moments`' mean and its derivative in mu: d/dmu E[clip(mu + s Z)] is P(inside)
    for a fixed s, plus (density at 0 - density at 1) times ds/dmu = a / (2 s). Rounded, it
    is step times the sum over the thresholds of density(z_k) (1 + z_k ds/dmu) / s."""
    x = _spread_nodes(mu, spread)
    s = np.sqrt(np.maximum(a * x + b, 1e-30))
    mean, _, _, _, inside, d_lo, d_hi = _clipped_mean(x, s)
    slope = inside + (d_lo - d_hi) * a / (2 * s)
    for end in _rounding_ends(x, s, step) if step > 0 else []:
        xe, se = x[end], s[end]
        _, z, _, rounded_mean = _rounded_terms(xe, se, step)
        mean[end] = rounded_mean
        slope[end] = step * (_normal_pdf(z) * (1 + z * (a / (2 * se))[:, None])).sum(-1) / se
    return mean @ _WEIGHTS, slope @ _WEIGHTS


def unclipped_mean(
    observed: np.ndarray,
    a: float,
    b: float,
    spread: np.ndarray | None = None,
    step: float = 0.0,
) -> np.ndarray:
    """The clean bin intensities mu whose observed (clipped) mean under var = a*x + b is
    `observed`; `spread` as in `bin_moments` (none: every pixel of a bin at mu), `step` the
    values' rounding grid (0: none).

    Newton's method inside a shrinking bracket [-1, 2] (the clipped mean increases with mu):
    a step that leaves the bracket bisects instead. Unclipped bins are solved at once, and a
    few steps replace the 50 halvings a plain bisection needs for the same precision.
    """
    spread = np.zeros_like(observed) if spread is None else spread
    lo, hi = np.full_like(observed, -1.0), np.full_like(observed, 2.0)
    mu = np.clip(observed, lo, hi)
    for _ in range(60):
        mean, slope = _bin_mean_and_slope(mu, a, b, spread, step)
        gap = observed - mean
        lo, hi = np.where(gap > 0, mu, lo), np.where(gap < 0, mu, hi)
        newton = mu + gap / np.maximum(slope, 1e-12)
        new = np.where((newton > lo) & (newton < hi), newton, (lo + hi) / 2)
        if np.all(np.abs(new - mu) <= 1e-12):
            return new
        mu = new
    return mu
