"""The mass-peak fit: a Gaussian's mean and width back, the mode (not the median) of a tailed peak, weights honoured,
and a clear answer where there is no peak to fit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.stats import norm

from autopruner.validation.peaks import mass_peak, weighted_quantiles


def test_gaussian_gives_its_mean_and_width():
    rng = np.random.default_rng(3)
    peak = mass_peak(rng.normal(125.0, 10.0, 20_000))
    assert peak["fit"] == "ok"
    assert peak["peak_gev"] == pytest.approx(125.0, abs=3 * peak["peak_err_gev"])
    assert 0.05 < peak["peak_err_gev"] < 0.3  # ~sigma / sqrt(n in the core), times the core fit's loss
    assert peak["sigma_gev"] == pytest.approx(10.0, rel=0.06)
    assert peak["median_gev"] == pytest.approx(125.0, abs=0.3)
    lo, hi = peak["fit_range_gev"]
    assert lo == pytest.approx(115.0, abs=1.5) and hi == pytest.approx(135.0, abs=1.5)  # the +-1 sigma core


def test_a_low_side_tail_moves_the_median_not_the_peak():
    """A peak with the low tail of a jet mass (lost radiation, neutrinos): the fit finds the mode of the density,
    the median lies well below it."""
    rng = np.random.default_rng(4)
    n = 40_000
    core = rng.random(n) < 0.7
    mass = np.where(core, rng.normal(125.0, 8.0, n), rng.normal(85.0, 20.0, n))

    def density(x):
        return 0.7 * norm.pdf(x, 125.0, 8.0) + 0.3 * norm.pdf(x, 85.0, 20.0)

    mode = minimize_scalar(lambda x: -density(x), bounds=(100.0, 140.0), method="bounded").x
    peak = mass_peak(mass)
    assert peak["peak_gev"] == pytest.approx(mode, abs=max(1.0, 4 * peak["peak_err_gev"]))
    assert peak["median_gev"] < mode - 3.0
    assert peak["q10_gev"] < peak["median_gev"] < peak["q90_gev"]


def test_weights_select_the_peak():
    """Two equally populated peaks, one carrying a tenth of the weight: the weighted peak is the heavy one's."""
    rng = np.random.default_rng(5)
    light, heavy = rng.normal(90.0, 6.0, 10_000), rng.normal(125.0, 6.0, 10_000)
    mass = np.concatenate([light, heavy])
    weight = np.concatenate([np.full(light.size, 0.1), np.ones(heavy.size)])
    assert mass_peak(mass, weight)["peak_gev"] == pytest.approx(125.0, abs=0.5)
    assert mass_peak(mass, weight[::-1])["peak_gev"] == pytest.approx(90.0, abs=0.5)


def test_weighted_quantiles_of_unit_weights_are_the_sample_quantiles():
    values = np.random.default_rng(6).normal(size=10_001)
    q = weighted_quantiles(values, np.ones_like(values), np.array([0.1, 0.5, 0.9]))
    assert q == pytest.approx(np.quantile(values, [0.1, 0.5, 0.9]), abs=1e-3)
    doubled = weighted_quantiles(values, np.where(values > 0.0, 2.0, 1.0), np.array([0.5]))
    assert doubled[0] == pytest.approx(np.quantile(np.concatenate([values, values[values > 0.0]]), 0.5), abs=1e-3)


@pytest.mark.parametrize(("mass", "reason"), [
    (np.array([]), "no candidates"),
    (np.full(50, 120.0), "no spread"),
    (np.random.default_rng(7).uniform(0.0, 1.0, 2000), "no peak"),
    (np.random.default_rng(7).normal(120.0, 8.0, 40), "in the core"),
])
def test_no_peak_to_fit_says_why(mass, reason):
    peak = mass_peak(mass)
    assert peak["peak_gev"] is None and peak["peak_err_gev"] is None
    assert reason in peak["fit"]
    assert peak["n"] == mass.size


def test_non_finite_and_zero_weight_entries_are_left_out():
    rng = np.random.default_rng(8)
    mass = rng.normal(120.0, 8.0, 5_000)
    clean = mass_peak(mass)
    dirty = mass_peak(np.concatenate([mass, [np.nan, np.inf, 300.0]]), np.concatenate([np.ones(5_000), [1, 1, 0]]))
    assert dirty["n"] == 5_000 and dirty["peak_gev"] == pytest.approx(clean["peak_gev"], abs=1e-9)


def test_the_window_settles_and_the_error_is_the_scatter():
    """Thirty samples the size of a 24k validation's signal (6 000 candidates, a tailed peak): every iteration
    settles (moved all the way, the window cycled on 4 of 40 such samples), and the peaks scatter by their quoted
    error."""
    peaks = []
    for seed in range(30):
        rng = np.random.default_rng(100 + seed)
        core = rng.random(6_000) < 0.6
        peak = mass_peak(np.where(core, rng.normal(120.0, 8.0, 6_000), rng.normal(85.0, 22.0, 6_000)))
        assert peak["fit"] == "ok", peak["fit"]
        peaks.append((peak["peak_gev"], peak["peak_err_gev"]))
    values, errors = np.array(peaks).T
    assert np.std(values, ddof=1) == pytest.approx(np.mean(errors), rel=0.35)


def test_window_probability_is_accurate_in_both_tails_and_for_narrow_windows():
    from autopruner.validation.peaks import _log_window_probability

    for lo, hi in ((-1.0, 1.0), (3.0, 5.0), (-9.0, -7.0), (0.2, 0.2 + 1e-9), (40.0, 41.0)):
        if lo > 30.0:  # beyond double precision in linear space: the log-space difference of the tails
            exact = norm.logsf(lo) + np.log1p(-np.exp(norm.logsf(hi) - norm.logsf(lo)))
        else:
            exact = np.log(norm.sf(lo) - norm.sf(hi)) if lo > 0 else np.log(norm.cdf(hi) - norm.cdf(lo))
        assert _log_window_probability(lo, hi, 0.0, 1.0) == pytest.approx(exact, rel=1e-6)
