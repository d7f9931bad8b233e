"""Blind noise-level estimation, for noise-aware models called without a known sigma.

Two estimators of a Gaussian noise level, both per channel and averaged over channels:

- "pca" (`estimate_sigma_pca`, the default): principal components of weak-texture patches,
  read per region and brightness band. Accurate on textured photos, and reads the mean level
  of noise that changes with brightness or across the frame; what blind models trained on the
  true level get.
- "haar" (`estimate_sigma_haar`): Donoho's median rule on the finest Haar diagonal band. One
  cheap pass, but texture reads as noise. Models trained on its readings (`noise.level: auto`,
  the self-supervised objectives) and the cues that pick a model were tuned to it, so they
  keep it.

Pure functions on (B, C, H, W) tensors; no model, no training, no randomness.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import Tensor

# Median absolute deviation of a zero-mean Gaussian is sigma * Phi^-1(3/4) = 0.6745 * sigma.
MAD_TO_SIGMA = 0.6745

ESTIMATORS = ("pca", "haar")
DEFAULT_ESTIMATOR = "pca"
# 7x7 patches, as in Liu et al. (2013): large enough that image structure falls into a few
# principal directions, small enough that flat patches exist in textured photos.
PCA_PATCH = 7
# Patches read per channel at most (a strided grid on larger images), which bounds the cost on
# a photo: 50-60 ms per channel here. With 20k, an earlier version (brightness bands only) read
# BSD68 at sigma 25/255 0.12/255 higher on average, for a third less time.
PCA_MAX_PATCHES = 50_000
# A patch is weak texture when its gradient energy is below this quantile of what noise alone
# at the current estimate gives (the standard normal 0.99 point).
WEAK_TEXTURE_Z = 2.326
PCA_ROUNDS = 5
# Noise that changes over the frame is read per cell, 3 x 3 regions times 4 brightness bands
# (quartiles of patch means), each cell needing this many weak-texture patches.
PCA_REGIONS, PCA_BANDS, PCA_MIN_PER_CELL = 3, 4, 50
# Above this first reading (0-1 units), a stored image is read again as clipped noise
# (`_pca_sigma_channel`); picked on Train400 (a training set), between its sigma 5 and 15.
CLIPPED_FROM = 10 / 255


def check_batch_shape(noisy: Tensor) -> None:
    """The estimators and cues read (B, C, H, W) batches of any dtype; say so otherwise."""
    if noisy.ndim != 4:
        raise ValueError(f"expected a (B, C, H, W) batch, got shape {tuple(noisy.shape)}")


def haar_diagonal(x: Tensor) -> Tensor:
    """Finest orthonormal Haar diagonal (HH) band: (B, C, H, W) -> (B, C, H // 2, W // 2).

    An odd last row or column is dropped. With the orthonormal 1/2 factor, white noise of
    standard deviation sigma gives HH coefficients of standard deviation sigma too.
    """
    h, w = x.shape[-2] // 2 * 2, x.shape[-1] // 2 * 2
    x = x[..., :h, :w]
    a, b = x[..., 0::2, 0::2], x[..., 0::2, 1::2]
    c, d = x[..., 1::2, 0::2], x[..., 1::2, 1::2]
    return (a - b - c + d) / 2


def estimate_sigma(noisy: Tensor, method: str = DEFAULT_ESTIMATOR) -> Tensor:
    """Per-image Gaussian noise level of `noisy` (B, C, H, W) -> (B,), in the image's units,
    by `method`: "pca" (`estimate_sigma_pca`) or "haar" (`estimate_sigma_haar`)."""
    if method == "pca":
        return estimate_sigma_pca(noisy)
    if method == "haar":
        return estimate_sigma_haar(noisy)
    raise ValueError(f"unknown sigma estimator {method!r}; use one of {', '.join(ESTIMATORS)}")


def channel_sigmas(noisy: Tensor, method: str = DEFAULT_ESTIMATOR) -> Tensor:
    """The per-channel readings (B, C) that `estimate_sigma` averages into one level per
    image (`.mean(dim=1)` of them, then cast to the input's dtype, is its result to the bit),
    for a caller that reads a large image one channel at a time; float64 for "pca", float32
    for "haar", on the CPU."""
    check_batch_shape(noisy)
    if method not in ESTIMATORS:
        raise ValueError(f"unknown sigma estimator {method!r}; use one of {', '.join(ESTIMATORS)}")
    b, c, h, w = noisy.shape
    if method == "haar" or h < 2 * PCA_PATCH or w < 2 * PCA_PATCH:
        return _haar_channels(noisy).cpu()
    x = noisy.detach().float().cpu()
    with torch.autocast("cpu", enabled=False):
        return torch.tensor(
            [[_pca_sigma_channel(x[i, j]) for j in range(c)] for i in range(b)],
            dtype=torch.float64,
        )


def _haar_channels(noisy: Tensor) -> Tensor:
    if noisy.shape[-2] < 2 or noisy.shape[-1] < 2:
        raise ValueError(
            f"estimating sigma needs an image of at least 2x2 pixels, got {tuple(noisy.shape)}"
        )
    hh = haar_diagonal(noisy.detach().float())
    return hh.abs().flatten(2).median(dim=2).values / MAD_TO_SIGMA  # (B, C)


def estimate_sigma_haar(noisy: Tensor) -> Tensor:
    """Per-image Gaussian noise level of `noisy` (B, C, H, W) -> (B,), in the image's units.

    Donoho's wavelet estimator: median(|HH|) / 0.6745 on the finest Haar diagonal band, per
    channel, then averaged over channels. HH cancels constants and linear ramps exactly, so
    smooth content barely leaks in, and the median ignores the few large coefficients that
    edges and texture produce. It is cheap (one pass, no FFT), which matters because a
    noise-aware model runs it on every call without a sigma. Known biases: heavy texture reads
    as extra noise, and clipping at 0 and 1 hides part of strong noise (it under-estimates
    then). Needs H, W >= 2. Computed in float32 (a bf16 median is too coarse), returned
    in the input's float dtype.
    """
    check_batch_shape(noisy)
    sigma = _haar_channels(noisy).mean(dim=1)
    return sigma.to(noisy.dtype) if noisy.is_floating_point() else sigma


def haar_average(x: Tensor) -> Tensor:
    """Orthonormal Haar average (LL) band: (B, C, H, W) -> (B, C, H // 2, W // 2), the 2x2 block
    sums over 2. White noise keeps its standard deviation; noise correlated between
    neighbours grows."""
    h, w = x.shape[-2] // 2 * 2, x.shape[-1] // 2 * 2
    x = x[..., :h, :w]
    return (x[..., 0::2, 0::2] + x[..., 0::2, 1::2] + x[..., 1::2, 0::2] + x[..., 1::2, 1::2]) / 2


def sigma_or_estimate(
    noisy: Tensor, sigma: Tensor | float | None, method: str = DEFAULT_ESTIMATOR
) -> Tensor | float:
    """`sigma` when the caller knows it, else `estimate_sigma(noisy, method)` (B,): the blind
    fallback that noise-aware models use, so `model(noisy)` works without a noise level."""
    return estimate_sigma(noisy, method) if sigma is None else sigma


def local_intensity(noisy: Tensor, size: int = 5) -> Tensor:
    """Local mean brightness of `noisy` (B, C, H, W) -> (B, 1, H, W): the channel mean averaged
    over a `size` x `size` window (edges reflected).

    Signal-dependent noise levels (Poisson-Gaussian variance a*x + b) need the clean intensity
    x, which a denoiser never has; the channel and window average cuts the noise in this
    estimate by sqrt(C * size^2) (15x for RGB, 5x5) while keeping it local. Computed in float32.
    """
    check_batch_shape(noisy)
    mean = noisy.detach().float().mean(dim=1, keepdim=True)
    pad = size // 2
    mode = "reflect" if min(mean.shape[-2:]) > pad else "replicate"
    padded = F.pad(mean, (pad, pad, pad, pad), mode=mode)
    return F.avg_pool2d(padded, size, stride=1)


def estimate_sigma_pca(noisy: Tensor) -> Tensor:
    """Per-image Gaussian noise level of `noisy` (B, C, H, W) -> (B,), in the image's units.

    Weak-texture patch PCA: the covariance of 7x7 patches has noise variance sigma^2 in every
    direction and image structure in only a few, so the smallest eigenvalues measure the noise.
    Patches whose gradient energy exceeds what noise alone would give are texture and are left
    out (Liu, Tanaka and Okutomi, 2013), re-selected as the estimate settles; of the remaining
    eigenvalues, the noise ones are the largest set whose mean is their median (Chen, Zhu and
    Heng, 2015), which avoids the low bias of the smallest eigenvalue alone. Each weak patch's
    energy in those noise directions is its own noise variance. The image is read in 36 cells
    (3 x 3 regions times 4 brightness bands), each with its own texture threshold, and the
    cells' variances averaged by area: for white noise that is sigma^2 again; for noise that
    grows with brightness (Poisson-Gaussian) or across the frame it is the mean variance over
    the image, where one threshold would keep only the quietest flat patches. Patches holding
    a value of exactly 0 or 1 (clipped) are left out while enough others remain. Per channel,
    then averaged. On BSD68 at sigma 5-50/255 it reads 0.5-1.0/255 high, against 0.7-2.3/255
    for `estimate_sigma_haar` (docs/results/noise-level.md, "σ estimators against the true σ").
    Images under 14x14 pixels fall back to that estimator.
    Computed on the CPU in float32 (eigenvalues in float64), returned in the input's float
    dtype and on its device.
    """
    check_batch_shape(noisy)
    if noisy.shape[-2] < 2 * PCA_PATCH or noisy.shape[-1] < 2 * PCA_PATCH:
        return estimate_sigma_haar(noisy)
    # A few small matrices and many scalar reads: the CPU, in float32 even under autocast.
    sigma = channel_sigmas(noisy, "pca").mean(dim=1)
    dtype = noisy.dtype if noisy.is_floating_point() else torch.float32
    return sigma.to(device=noisy.device, dtype=dtype)


def _pca_sigma_channel(channel: Tensor) -> float:
    """Noise std of one (H, W) float32 channel; see `estimate_sigma_pca`.

    A stored image (every value in [0, 1]) whose first reading is above CLIPPED_FROM is read
    again as clipped noise: leaving out every patch that touches black or white keeps only those
    whose noise happened to stay inside, reading sigma low (8-bit BSD68 at sigma 50: -2.95/255).
    Below it clipping hardly changes the noise and the partly saturated patches would be read
    as noise (Train400, 8-bit sigma 5: +1.94/255 with them, +1.26 without).
    """
    d = PCA_PATCH
    h, w = channel.shape
    stride = max(1, math.ceil(math.sqrt((h - d + 1) * (w - d + 1) / PCA_MAX_PATCHES)))
    # (N, d * d), one patch per row, so that selecting patches copies whole rows
    patches = F.unfold(channel[None, None], d, stride=stride)[0].T.contiguous()
    region = _region_of_patches(h, w, d, stride)
    grid = patches.reshape(-1, d, d)
    energy = (grid[:, :, 1:] - grid[:, :, :-1]).square().sum((1, 2)) + (
        (grid[:, 1:] - grid[:, :-1]).square().sum((1, 2))
    )
    at_bound = (patches == 0) | (patches == 1)
    sigma = _pca_read(patches, energy, region, at_bound, clipped=False)
    if sigma > CLIPPED_FROM and bool(channel.min() >= 0.0) and bool(channel.max() <= 1.0):
        sigma = _pca_read(patches, energy, region, at_bound, clipped=True)
    return sigma


def _pca_read(
    patches: Tensor, energy: Tensor, cell: Tensor, at_bound: Tensor, *, clipped: bool
) -> float:
    """One reading of the (N, d * d) `patches` (their gradient `energy`, image region `cell`
    and which pixels sit at 0 or 1), as white noise or, with `clipped`, as clipped noise."""
    d = PCA_PATCH
    enough = 2 * d * d
    # Clipped noise keeps patches that merely touch black or white (their lower variance is
    # undone per cell below); saturated ones (mostly at a bound) carry no noise to read.
    left_out = at_bound.float().mean(dim=1) > 0.5 if clipped else at_bound.any(dim=1)
    if int((~left_out).sum()) >= enough:
        patches, energy, cell = patches[~left_out], energy[~left_out], cell[~left_out]
    brightness = patches.mean(dim=1)
    sample = brightness[:: max(1, brightness.numel() // 20_000)]  # quantile's input is capped
    edges = torch.quantile(sample, torch.linspace(0, 1, PCA_BANDS + 1)[1:-1])
    cell = cell * PCA_BANDS + torch.bucketize(brightness, edges)
    cells = PCA_REGIONS**2 * PCA_BANDS
    area = torch.bincount(cell, minlength=cells).float()  # every patch, texture included
    variance = _noise_subspace(patches)[0]
    cell_variance = torch.full((cells,), variance)
    limit = _noise_energy_quantile(d, WEAK_TEXTURE_Z)
    for _ in range(PCA_ROUNDS):
        weak = energy < limit * cell_variance[cell]
        if int(weak.sum()) < enough:
            break
        cell_variance = _cell_variances(patches[weak], cell[weak], cells)
        previous = variance
        variance = float((cell_variance * area).sum() / area.sum())
        if abs(variance - previous) <= 1e-3 * previous:
            break
    if clipped:
        weak = energy < limit * cell_variance[cell]
        cell_variance = _unclipped_cell_variances(cell_variance, brightness, cell, weak, cells)
        variance = float((cell_variance * area).sum() / area.sum())
    return math.sqrt(max(variance, 0.0))


def _unclipped_cell_variances(
    cell_variance: Tensor, brightness: Tensor, cell: Tensor, weak: Tensor, cells: int
) -> Tensor:
    """Each cell's variance as the Gaussian had it before clipping (`clipped.unclipped_sigma`
    at the cell's mean brightness), at most 4x the variance read, since a cell whose pixels sit
    at a bound says little about how far beyond it the noise went."""
    from .clipped import unclipped_sigma

    use = weak if int(weak.sum()) else torch.ones_like(weak)
    count = torch.bincount(cell[use], minlength=cells).clamp_min(1)
    mean = torch.zeros(cells).index_add_(0, cell[use], brightness[use]) / count
    sigma = unclipped_sigma(mean, cell_variance.clamp_min(0.0).sqrt()).float()
    return torch.minimum(sigma.square(), 4.0 * cell_variance)


def _region_of_patches(h: int, w: int, d: int, stride: int) -> Tensor:
    """Which of the PCA_REGIONS x PCA_REGIONS regions of the image each unfolded patch is in."""
    rows, cols = (h - d) // stride + 1, (w - d) // stride + 1
    row = torch.arange(rows).repeat_interleave(cols) * PCA_REGIONS // rows
    col = torch.arange(cols).repeat(rows) * PCA_REGIONS // cols
    return row * PCA_REGIONS + col


def _cell_variances(patches: Tensor, cell: Tensor, cells: int) -> Tensor:
    """(cells,) noise variance of the weak-texture (N, n) `patches` in each cell: each patch's
    mean energy in the shared noise subspace, averaged per cell. A cell with too few patches to
    read (texture) takes the value of the nearest readable cell in index order (region-major:
    a neighbouring brightness band of its region, or failing that of the next region)."""
    _, basis, mean = _noise_subspace(patches)
    energy = ((patches - mean) @ basis).square().mean(dim=1)
    count = torch.bincount(cell, minlength=cells)
    total = torch.zeros(cells).index_add_(0, cell, energy)
    readable = torch.nonzero(count >= PCA_MIN_PER_CELL).flatten()
    if readable.numel() == 0:
        return torch.full((cells,), float(energy.mean()))
    nearest = readable[(torch.arange(cells)[:, None] - readable[None, :]).abs().argmin(1)]
    return (total / count.clamp_min(1))[nearest]


def _noise_subspace(patches: Tensor) -> tuple[float, Tensor, Tensor]:
    """The noise directions of the (N, n) patches' covariance: (mean noise eigenvalue, (n, k)
    basis, (1, n) mean patch). The noise eigenvalues are the largest set of the smallest ones
    with no more of them below their mean than above it (mean = median); signal eigenvalues
    are few and large, and pull the mean above the median."""
    mean = patches.mean(dim=0, keepdim=True)
    centred = patches - mean
    covariance = (centred.T @ centred).double() / max(patches.shape[0] - 1, 1)
    values, vectors = torch.linalg.eigh(covariance)  # ascending
    n = values.numel()
    means = values.cumsum(0) / torch.arange(1, n + 1, dtype=values.dtype)
    inside = torch.arange(n)[None, :] < torch.arange(1, n + 1)[:, None]  # [k-1, j]: j < k
    above = ((values[None, :] > means[:, None]) & inside).sum(1)
    below = ((values[None, :] < means[:, None]) & inside).sum(1)
    k = int(torch.nonzero(above >= below).max())  # k = 0 (one value) always qualifies
    return float(means[k]), vectors[:, : k + 1].float(), mean


@functools.cache
def _noise_energy_quantile(d: int, z: float) -> float:
    """Quantile `z` (in standard normal units) of a d x d patch's gradient energy (summed
    squared horizontal and vertical neighbour differences) under unit white noise.

    The energy is y^T M y for y ~ N(0, I), M = D^T D of the difference operator D: mean tr M,
    variance 2 tr M^2. It is matched to a gamma distribution (as Liu et al. do), whose quantile
    the Wilson-Hilferty cube-root normal approximation gives (7x7, z = 2.326: 272.1 against
    274.7 from 100,000 simulated patches, 1% low).
    """
    index = torch.arange(d * d).reshape(d, d)
    pairs = ((index[:, 1:], index[:, :-1]), (index[1:], index[:-1]))
    rows = []
    for later, earlier in pairs:
        diff = torch.zeros(later.numel(), d * d, dtype=torch.float64)
        row = torch.arange(later.numel())
        diff[row, later.flatten()] = 1.0
        diff[row, earlier.flatten()] = -1.0
        rows.append(diff)
    diff = torch.cat(rows)
    gram = diff.T @ diff
    trace, trace_sq = float(gram.trace()), float((gram @ gram).trace())
    shape, scale = trace**2 / (2 * trace_sq), 2 * trace_sq / trace
    cube = 1 - 1 / (9 * shape) + z * math.sqrt(1 / (9 * shape))
    return shape * cube**3 * scale
