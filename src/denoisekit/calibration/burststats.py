"""Burst statistics behind burst calibration: per-pixel running sums over the shots of one
static scene, and intensity bins of (mean, noise variance) for the line fit in `linefit.py`.
"""

from __future__ import annotations

import numpy as np

from .linefit import Bins, is_clipped

# Intensity bins over [0, 1]. Fine, so that a black background's bin holds that one level
# and not the dark shades beside it, which the clipping correction would misread: with 32,
# b from bursts of pistachios on black was a median 1.3% low at a=0.002 (0.1% with 128;
# benchmarks/calibration.py).
BINS = 128
MIN_BURST_PIXELS = 64  # pixels per bin (per measuring round) for its variance to count
# Values binned per pass. Binning every value at once held about 80 bytes of temporaries per
# value: 3.9 GB peak for a burst of 8 colour 12 MP shots, against 1 GB for the running sums.
CHUNK = 1 << 22


class Shots:
    """Running per-pixel sums over a group of shots, kept as float32 offsets from the first
    shot so that the variance has no cancellation: n, mean, variance (ddof=1), clip count."""

    def __init__(self) -> None:
        self.n = 0

    def add(self, shot: np.ndarray) -> None:
        if self.n == 0:
            self.first = shot.astype(np.float32)
            self.sum = np.zeros_like(self.first)
            self.square = np.zeros_like(self.first)
            self.clipped = np.zeros(shot.shape, np.uint16)
        else:
            offset = np.subtract(shot, self.first, dtype=np.float32)
            self.sum += offset
            self.square += np.multiply(offset, offset, out=offset)  # in place: one frame less
        self.clipped += is_clipped(shot)
        self.n += 1

    def mean(self, part: slice = slice(None)) -> np.ndarray:
        return self.first[part] + self.sum[part] / self.n

    def var(self, part: slice = slice(None)) -> np.ndarray:
        return (self.square[part] - self.sum[part] ** 2 / self.n) / max(self.n - 1, 1)


def _rounds(even: Shots, odd: Shots, part: slice):
    """The measuring rounds over the values in `part`: (chooser mean, measured mean,
    measured variance, measured clipped fraction, measuring shots) for each."""
    if odd.n == 1 and even.n == 1:  # 2 shots: the mean and variance of the pair
        one, other = even.first[part], odd.first[part]
        mean = (one + other) / 2
        clip = (even.clipped[part] + odd.clipped[part]) / 2
        return [(mean, mean, (one - other) ** 2 / 2, clip, 2)]
    return [
        (
            chooser.mean(part),
            measure.mean(part),
            measure.var(part),
            measure.clipped[part] / measure.n,
            measure.n,
        )
        for chooser, measure in ((odd, even), (even, odd))
        if measure.n >= 2
    ]


def burst_bins(even: Shots, odd: Shots) -> Bins:
    """Bin pixels by their mean over some shots; the other shots give the bin's mean
    intensity and its noise variance (ddof=1).

    Binning by a noisy mean and measuring with the same shots is biased: in a bin, the
    pixels that noise pushed in outnumber those it pushed out wherever the histogram slopes,
    and where clipping skews the noise, the variance of a pixel correlates with its mean.
    Shots that did not choose the bin are independent of that choice, so their mean and
    variance are unbiased. The even and odd shots take turns (with 3 shots, the odd one
    chooses and the two even ones measure). With 2 shots this is impossible and both choose
    and measure (biased where the histogram is steep: take more shots).
    """
    count, intensity, square, var, clip, noise = (np.zeros(BINS) for _ in range(6))
    n_rounds = 0
    for start in range(0, even.first.size, CHUNK):
        part = slice(start, start + CHUNK)
        rounds = _rounds(even, odd, part)
        n_rounds = len(rounds)
        for chooser_mean, mean, pixel_var, clipped, shots in rounds:
            which = np.clip((chooser_mean * BINS).astype(int), 0, BINS - 1)
            count += np.bincount(which, minlength=BINS)
            intensity += np.bincount(which, mean, minlength=BINS)
            square += np.bincount(which, mean.astype(np.float64) ** 2, minlength=BINS)
            var += np.bincount(which, pixel_var, minlength=BINS)
            noise += np.bincount(which, pixel_var / shots, minlength=BINS)
            clip += np.bincount(which, clipped, minlength=BINS)
    ok = count >= MIN_BURST_PIXELS * n_rounds
    count = np.maximum(count, 1)
    mean = intensity / count
    # Spread of the clean intensity in a bin: that of the measured means less their noise.
    spread = np.sqrt(np.maximum(square / count - mean**2 - noise / count, 0.0))
    bins = Bins(mean, var / count, count / n_rounds, clip / count, spread)
    return bins.select(ok)
