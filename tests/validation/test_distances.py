"""JS distance and its floor: identical samples sit at the floor, shifted Gaussians give the known value."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from autopruner.validation.distances import (
    common_binning,
    compare_feature,
    js_distance,
    js_excess,
    js_from_histograms,
)


def continuous_js(shift: float) -> float:
    """JS distance (base 2) between N(0, 1) and N(shift, 1) by numerical integration."""
    p, q = stats.norm(0.0, 1.0).pdf, stats.norm(shift, 1.0).pdf

    def integrand(x: float) -> float:
        m = 0.5 * (p(x) + q(x))
        return 0.5 * p(x) * np.log2(p(x) / m) + 0.5 * q(x) * np.log2(q(x) / m)

    value, _ = integrate.quad(integrand, -12.0, 12.0 + shift, limit=200)
    return float(np.sqrt(value))


def test_histogram_limits():
    assert js_from_histograms([1, 2, 3], [2, 4, 6]) == pytest.approx(0.0, abs=1e-12)
    assert js_from_histograms([1, 0], [0, 1]) == pytest.approx(1.0)


@pytest.mark.parametrize("shift", [0.3, 1.0])
def test_shifted_gaussians_give_the_known_distance(shift):
    rng = np.random.default_rng(1)
    a = rng.normal(0.0, 1.0, 200_000)
    b = rng.normal(shift, 1.0, 200_000)
    # 40 equal-population bins lose a little of the continuous distance; the statistical part is ~0.005
    assert js_distance(a, b) == pytest.approx(continuous_js(shift), abs=0.015)


def test_identical_distributions_sit_at_the_floor():
    rng = np.random.default_rng(2)
    a, b = rng.exponential(1.0, 5000), rng.exponential(1.0, 20000)
    result = compare_feature(a, b, rng=rng)
    assert 0.0 < result["js_floor"] < 0.08
    assert result["js"] == pytest.approx(result["js_floor"], abs=0.03)
    assert result["js_excess"] < 0.05
    shifted = compare_feature(a, b + 0.5, rng=rng)
    assert shifted["js_excess"] > 0.15


def test_a_default_value_spike_is_its_own_bin():
    rng = np.random.default_rng(3)
    a = np.where(rng.random(10000) < 0.4, -1.0, rng.normal(3.0, 1.0, 10000))
    b = np.where(rng.random(10000) < 0.6, -1.0, rng.normal(3.0, 1.0, 10000))
    binning = common_binning(a, b)
    assert -1.0 in binning.spikes and binning.edges.min() > -1.0
    # only the spike's share differs: JS of Bernoulli(0.4) vs Bernoulli(0.6) on the spike/rest split
    expected = js_from_histograms([0.4, 0.6], [0.6, 0.4])
    assert js_distance(a, b, binning=binning) == pytest.approx(expected, abs=0.02)


def test_excess_is_zero_below_the_floor():
    assert js_excess(0.05, 0.08) == 0.0
    assert js_excess(0.5, 0.3) == pytest.approx(0.4)
