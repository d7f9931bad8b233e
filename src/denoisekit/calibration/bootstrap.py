"""Region bootstrap: how much a single-image calibration would move with other flat regions.

The standard errors of the line fit (`linefit.line_errors`) come from the scatter of the
intensity bins about the line. On photos that scatter understates the error: the texture that
leaks into the flat blocks of one region (a shadow with fine detail, a patterned wall) shifts
several neighbouring bins together, which looks like signal, not scatter. Measured on the
photos of benchmarks/calibration.py (one image each), the errors of b were 2.2x the fit's
stated standard error (RMS of error / stderr), and 1.3x with the bootstrap's. Resampling
whole regions of blocks with replacement and refitting puts that region-to-region variation
into the standard error. A bias shared by every region (an image whose dark areas all hold
the same fine texture) stays outside it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import DataError

REGION = 4  # blocks per side of a resampled region (64x64 pixels with 16-pixel blocks)
REPLICATES = 40
_MIN_REPLICATES = 10  # replicates that must fit for a standard error to be reported


def block_regions(height: int, width: int, block: int, region: int = REGION) -> np.ndarray:
    """Region index of each block of one (height, width) channel, in `block_stats` order
    (row-major over the grid of whole blocks inside the 1-pixel border)."""
    ny, nx = (height - 2) // block, (width - 2) // block
    columns = -(-nx // region)
    rows = np.arange(ny)[:, None] // region
    return (rows * columns + np.arange(nx)[None, :] // region).reshape(-1)


def region_bootstrap(
    fit: Callable[[np.ndarray], tuple[float, float]],
    regions: np.ndarray,
    *,
    replicates: int = REPLICATES,
    seed: int = 0,
) -> tuple[float, float] | None:
    """Standard deviations of (a, b) over refits on regions resampled with replacement.

    `fit(indices)` fits from the blocks at `indices` (a block may repeat) and raises
    DataError when they cannot carry a fit; `regions`: the region of every block (all
    channels of one area share a region, as they share its texture). Replicates that cannot
    be fitted are left out; with fewer than 10 fitted, None (no trustworthy spread). Seeded,
    so a calibration repeats exactly.
    """
    names, which = np.unique(regions, return_inverse=True)
    order = np.argsort(which, kind="stable")
    starts = np.searchsorted(which[order], np.arange(len(names) + 1))
    rng = np.random.default_rng(seed)
    fitted = []
    for _ in range(replicates):
        chosen = rng.integers(0, len(names), len(names))
        indices = np.concatenate([order[starts[r] : starts[r + 1]] for r in chosen])
        try:
            fitted.append(fit(indices))
        except DataError:
            continue
    if len(fitted) < _MIN_REPLICATES:
        return None
    spread = np.asarray(fitted).std(axis=0, ddof=1)
    return float(spread[0]), float(spread[1])
