"""Flat regions of a noisy image and their noise: the statistics behind single-image calibration.

An image channel is cut into square blocks. Each block gets its mean, its variance about a
fitted quadratic surface (noise plus any detail beyond smooth shading) and its high-pass
energy: the mean square of the finest diagonal Haar band, which cancels everything that
varies along one axis only (edges, ramps), so mostly noise remains. A block is "flat" when
both stay within what pure noise at its brightness would give; the median energy of the
flat blocks in an intensity bin is that bin's noise variance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from .linefit import Bins, is_clipped

# Sum of squared autocorrelations of the (overlapping) high-pass values for white noise:
# (1 + 2 (1/2)^2)^2. The mean of m of them has variance 2 * this / m, times v^2.
HIGHPASS_CORRELATION = 2.25
MIN_BLOCKS = 4  # flat blocks per bin


def highpass(z: np.ndarray) -> np.ndarray:
    """(H, W) -> (H-2, W-2) diagonal differences (z[i,j] - z[i,j+1] - z[i+1,j] + z[i+1,j+1])
    / 2 (the finest Haar HH band, undecimated), aligned with z[1:-1, 1:-1].

    Its squared taps sum to 1, so white noise of variance v gives values of variance v. It
    cancels everything that varies along one axis only (horizontal and vertical edges,
    ramps, shading), so only diagonal detail leaks in.
    """
    r = z[:-1] - z[1:]
    return ((r[:, :-1] - r[:, 1:]) / 2.0)[1:, 1:]


def _blocks(x: np.ndarray, b: int) -> np.ndarray:
    """(H, W) -> (n_blocks, b*b), dropping the ragged right and bottom edges."""
    ny, nx = x.shape[0] // b, x.shape[1] // b
    x = x[: ny * b, : nx * b].reshape(ny, b, nx, b).transpose(0, 2, 1, 3)
    return x.reshape(ny * nx, b * b)


def _quadratic_basis(b: int) -> np.ndarray:
    """(5, b*b) mutually orthogonal, zero-mean basis: i, j, i^2 - c, j^2 - c, i*j."""
    i, j = np.meshgrid(np.arange(b) - (b - 1) / 2, np.arange(b) - (b - 1) / 2, indexing="ij")
    i, j = i.reshape(-1), j.reshape(-1)
    c = (i**2).mean()
    return np.stack([i, j, i**2 - c, j**2 - c, i * j])


@dataclass
class BlockStats:
    """Per block of one or more channels: (n,) arrays."""

    mean: np.ndarray  # block mean intensity
    var: np.ndarray  # variance about the best quadratic surface (noise + detail)
    energy: np.ndarray  # mean squared high-pass value (noise + fine diagonal detail)
    clipped: np.ndarray  # pixels at exactly 0 or 1

    @staticmethod
    def concat(parts: Sequence[BlockStats]) -> BlockStats:
        names = [f.name for f in fields(BlockStats)]
        return BlockStats(*(np.concatenate([getattr(p, n) for p in parts]) for n in names))

    def take(self, indices: np.ndarray) -> BlockStats:
        """The blocks at `indices` (repeats allowed: a bootstrap sample)."""
        return BlockStats(*(getattr(self, f.name)[indices] for f in fields(BlockStats)))


def block_stats(channel: np.ndarray, block: int) -> BlockStats:
    """Statistics of the `block` x `block` blocks of one (H, W) channel (border pixel dropped)."""
    z = _blocks(channel[1:-1, 1:-1], block)
    basis = _quadratic_basis(block)
    mean = z.mean(1)
    centred = z - mean[:, None]
    coef = centred @ basis.T  # the basis is orthogonal, so the projections add up
    explained = (coef**2 / (basis**2).sum(1)).sum(1)
    return BlockStats(
        mean=mean,
        var=np.maximum((centred**2).sum(1) - explained, 0.0) / (block * block - 6),
        energy=(_blocks(highpass(channel), block) ** 2).mean(1),
        clipped=is_clipped(z).sum(1),
    )


def first_pass(s: BlockStats) -> np.ndarray:
    """Flat blocks without a noise model: the variance about the quadratic surface is not
    much above the high-pass energy (edges and shading raise the first, not the second)."""
    return s.var <= 1.5 * np.maximum(s.energy, 1e-20)


def noise_like(s: BlockStats, a: float, b: float, block: int) -> np.ndarray:
    """Blocks whose variance and energy are within 3 standard deviations of pure noise of
    variance a * mean + b (relative standard deviations sqrt(2 / dof) for the variance and
    sqrt(2 * 2.25 / block^2) for the energy, whose values overlap)."""
    expected = np.maximum(a * s.mean + b, 1e-20)
    slack_var = 1 + 3 * math.sqrt(2 / (block * block - 6))
    slack_energy = 1 + 3 * math.sqrt(2 * HIGHPASS_CORRELATION / (block * block))
    return (s.var <= slack_var * expected) & (s.energy <= slack_energy * expected)


def bin_count(keep: np.ndarray, fewest: int = 32, most: int = 128) -> int:
    """Intensity bins for the kept blocks: about 64 blocks per bin, `fewest` to `most`.

    The clipping correction treats the intensities within a bin as normally spread; in the
    dark, where a bin mixes a few distinct flat levels (the patches of a chart), that left b
    4% low on a 4 MP step chart (a=0.01) with 32 bins. Finer bins remove it once there are
    blocks enough to fill them: there ~110 bins give a median error of 0.4% and no bias
    (benchmarks/calibration.py). On 0.15 MP photos 32 bins stay best: 64 left fewer photos
    with b within 10% (34% against 38%), each bin holding too few blocks for a stable median.
    """
    return int(np.clip(int(keep.sum()) // 64, fewest, most))


def bin_blocks(s: BlockStats, keep: np.ndarray, block: int, n_bins: int) -> Bins:
    """Bin the kept blocks by mean intensity; bin variance = median block high-pass energy.

    The median ignores the few textured blocks that pass the flatness test. For pure noise
    a block's energy is close to v * chi2(k) / k with k = block^2 / 2.25 (its values
    overlap), so the median is divided by the median of chi2(k) / k to be unbiased. (The
    variance about the quadratic surface would be more precise, but smooth detail beyond a
    quadratic, and steps between flat areas, raise it: measured +10-40% on photos.) Bins
    with fewer than 4 blocks are left out.
    """
    k = block * block / HIGHPASS_CORRELATION
    median_of_unit = (1 - 2 / (9 * k)) ** 3  # Wilson-Hilferty
    which = np.clip((s.mean * n_bins).astype(int), 0, n_bins - 1)
    # Kept blocks grouped by bin with one sort (the bootstrap bins millions of blocks ~160
    # times; a mask per bin made that most of a calibration's time).
    kept = np.flatnonzero(keep)
    kept = kept[np.argsort(which[kept], kind="stable")]
    edges = np.searchsorted(which[kept], np.arange(n_bins + 1))
    rows = []
    for i in range(n_bins):
        sel = kept[edges[i] : edges[i + 1]]
        if len(sel) >= MIN_BLOCKS:
            var = np.median(s.energy[sel]) / median_of_unit
            n = len(sel) * block * block
            means = s.mean[sel]
            rows.append((means.mean(), var, n, s.clipped[sel].sum() / n, means.std()))
    return Bins(*np.array(rows, dtype=np.float64).reshape(-1, 5).T)
