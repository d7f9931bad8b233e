"""The noise-line fit behind calibration: clipped (and 8-bit rounded) moments, their
inversion, and the line fit through bins that are all clipped."""

from __future__ import annotations

import numpy as np
import pytest

from denoisekit.calibration.linefit import (
    Bins,
    _bin_mean_and_slope,
    bin_moments,
    clipped_moments,
    fit_line,
    moments,
    unclipped_mean,
)

STEP = 1 / 255


@pytest.mark.parametrize("mu,var", [(0.02, 0.0006), (0.5, 0.005), (0.93, 0.01), (0.1, 0.0)])
def test_clipped_moments_match_sampling(mu: float, var: float) -> None:
    rng = np.random.default_rng(0)
    samples = np.clip(mu + np.sqrt(var) * rng.standard_normal(2_000_000), 0.0, 1.0)
    mean, variance = clipped_moments(np.array([mu]), np.array([var]))
    assert mean[0] == pytest.approx(samples.mean(), abs=2e-4)
    assert variance[0] == pytest.approx(samples.var(), rel=5e-3, abs=1e-9)
    observed = np.array([samples.mean()])
    assert unclipped_mean(observed, var / max(mu, 1e-9), 0.0)[0] == pytest.approx(mu, abs=1e-3)


def test_unclipped_mean_inverts_the_clipped_bin_mean() -> None:
    # Bins from black to white, some spread over intensities: the solver must undo clipping
    # (up to half the values of a bin clipped) to machine precision.
    mu = np.linspace(0.0, 1.0, 41)
    spread = np.linspace(0.0, 0.03, 41)
    for a, b in [(0.01, 0.0004), (0.05, 0.001), (0.0, 0.0001)]:
        observed = bin_moments(mu, a, b, spread)[0]
        assert unclipped_mean(observed, a, b, spread) == pytest.approx(mu, abs=1e-10)


def test_fit_line_corrects_bins_that_are_all_clipped() -> None:
    # With no unclipped bin to start from, the first fit takes the bins as they are; the
    # clipping correction must still follow (it once did not: b of a disc on black came out
    # 74-86% low).
    a, b = 0.01, 0.0004
    mu = np.array([0.0, 0.005, 0.01, 0.02, 0.03, 0.45])
    spread = np.zeros_like(mu)
    mean, var = bin_moments(mu, a, b, spread)
    bins = Bins(mean, var, np.full_like(mu, 1e5), np.full_like(mu, 0.1), spread)
    fa, fb, use, x = fit_line(bins, enough=lambda x: len(x) >= 3)
    assert (fa, fb) == pytest.approx((a, b), rel=1e-4)
    assert use.all() and x == pytest.approx(mu, abs=1e-6)


@pytest.mark.parametrize("mu,var", [(0.0, 0.0001), (0.01, 0.0004), (0.5, 0.005), (0.995, 0.01)])
def test_rounded_moments_match_sampling(mu: float, var: float) -> None:
    # 8-bit files: clip, then round to the nearest 255th. Where the values clip this moves
    # the mean and variance by more than the step^2 / 12 it adds elsewhere.
    rng = np.random.default_rng(1)
    samples = np.clip(mu + np.sqrt(var) * rng.standard_normal(2_000_000), 0.0, 1.0)
    rounded = np.round(samples * 255) / 255
    mean, variance = moments(np.array([mu]), np.array([var]), STEP)
    assert mean[0] == pytest.approx(rounded.mean(), abs=2e-5 + 3 * rounded.std() / 1414)
    assert variance[0] == pytest.approx(rounded.var(), rel=4e-3)
    assert (
        moments(np.array([mu]), np.array([var]))[0][0]
        == clipped_moments(np.array([mu]), np.array([var]))[0][0]
    )


def test_rounded_bin_mean_slope_is_its_derivative() -> None:
    mu = np.array([-0.01, 0.0, 0.004, 0.02, 0.5, 0.98, 1.0])
    spread = np.array([0.0, 0.001, 0.0, 0.003, 0.01, 0.0, 0.002])
    a, b, h = 0.002, 0.0001, 1e-6
    _, slope = _bin_mean_and_slope(mu, a, b, spread, STEP)
    numeric = (
        _bin_mean_and_slope(mu + h, a, b, spread, STEP)[0]
        - _bin_mean_and_slope(mu - h, a, b, spread, STEP)[0]
    ) / (2 * h)
    assert slope == pytest.approx(numeric, rel=1e-5, abs=1e-8)
    observed = bin_moments(mu, a, b, spread, STEP)[0]
    assert unclipped_mean(observed, a, b, spread, STEP) == pytest.approx(mu, abs=1e-9)


def test_fit_line_models_rounding() -> None:
    # Bins of 8-bit values, every one clipped or widened by the rounding: exact a and b.
    a, b = 0.002, 0.0001
    mu = np.array([0.0, 0.003, 0.01, 0.05, 0.3, 0.6, 0.9])
    spread = np.zeros_like(mu)
    mean, var = bin_moments(mu, a, b, spread, STEP)
    clipped = np.where(mu < 0.02, 0.3, 0.0)
    bins = Bins(mean, var, np.full_like(mu, 1e5), clipped, spread, step=STEP)
    fa, fb, _, x = fit_line(bins, enough=lambda x: len(x) >= 3)
    assert (fa, fb) == pytest.approx((a, b), rel=1e-4)
    assert x == pytest.approx(mu, abs=1e-6)
