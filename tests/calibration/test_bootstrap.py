"""Region bootstrap: region indices follow the block order, and the spread it reports is the
standard error it should be."""

from __future__ import annotations

import numpy as np
import pytest

from denoisekit.calibration.bootstrap import block_regions, region_bootstrap
from denoisekit.calibration.flatblocks import block_stats
from denoisekit.errors import DataError


def test_block_regions_follow_block_order() -> None:
    # 16-pixel blocks inside the 1-pixel border of a 146x212 channel: a 9x13 grid; regions of
    # 4x4 blocks: 3 rows of 4 regions, the last row and column ragged.
    regions = block_regions(146, 212, 16)
    assert len(regions) == len(block_stats(np.zeros((146, 212)), 16).mean) == 9 * 13
    grid = regions.reshape(9, 13)
    assert grid[0, :4].tolist() == [0, 0, 0, 0] and grid[0, 4] == 1 and grid[0, 12] == 3
    assert grid[4, 0] == 4 and grid[8, 12] == 11
    assert len(np.unique(regions)) == 12


def test_spread_is_the_standard_error_of_a_mean() -> None:
    # A "fit" that averages per-block values: regions of 16 independent blocks, so the
    # bootstrap spread of the mean must match sigma / sqrt(number of blocks).
    rng = np.random.default_rng(0)
    values = rng.standard_normal(1600)
    regions = np.repeat(np.arange(100), 16)
    spread = region_bootstrap(
        lambda i: (values[i].mean(), 2 * values[i].mean()), regions, replicates=400
    )
    assert spread is not None
    expected = values.std() / np.sqrt(len(values))
    assert spread[0] == pytest.approx(expected, rel=0.15)
    assert spread[1] == pytest.approx(2 * spread[0])


def test_spread_sees_regions_that_move_together() -> None:
    # Blocks of one region share an offset (texture shared by a region): the spread is that
    # of 100 region means, far above what 1600 independent blocks would give.
    rng = np.random.default_rng(1)
    regions = np.repeat(np.arange(100), 16)
    values = rng.standard_normal(100)[regions] + 0.1 * rng.standard_normal(1600)
    spread = region_bootstrap(lambda i: (values[i].mean(), 0.0), regions, replicates=400)
    assert spread is not None
    assert spread[0] == pytest.approx(1 / np.sqrt(100), rel=0.2)
    naive = values.std() / np.sqrt(1600)  # as if the 1600 blocks were independent
    assert spread[0] > 3 * naive


def test_repeatable_and_none_when_fits_fail() -> None:
    regions = np.repeat(np.arange(10), 4)
    values = np.arange(40.0)

    def fit(i):
        return values[i].mean(), values[i].std()

    assert region_bootstrap(fit, regions) == region_bootstrap(fit, regions)

    def refuse(i):
        raise DataError("too few bins")

    assert region_bootstrap(refuse, regions) is None
