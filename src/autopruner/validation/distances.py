"""Jensen–Shannon distance between two weighted samples of one feature, and its statistical floor.

The distance is JS = sqrt(JSD) with base-2 logarithms, so it lies in [0, 1]: 0 for identical distributions, 1 for
disjoint ones. Both samples are histogrammed on one common binning: equal-population bins of the pooled sample,
with every value that holds a large share of the pooled sample on its own (a feature's default value, such as -1
for a track jet without a secondary vertex, or the integer values of a multiplicity), so a spike is compared as a
spike rather than smeared over a bin.

A finite sample never gives JS = 0, even against itself. The floor is the distance between two random halves of
the pooled sample with the two samples' sizes, i.e. what statistics alone produce; the excess
sqrt(max(JS² - floor², 0)) is the part of the distance the statistics do not explain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: a single value holding at least this share of the pooled sample gets its own bin
SPIKE_SHARE = 0.01
#: equal-population bins for the continuous part of the pooled sample
N_BINS = 40
#: random half splits averaged (in quadrature) for the floor
FLOOR_REPEATS = 5


@dataclass(frozen=True)
class Binning:
    """Spike values compared exactly, and the bin edges of everything else."""

    spikes: np.ndarray
    edges: np.ndarray

    @property
    def n_bins(self) -> int:
        return self.spikes.size + max(self.edges.size - 1, 0)

    def histogram(self, values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Weighted counts: one per spike value, then one per continuous bin (the outer edges are inclusive)."""
        values = np.asarray(values, dtype=np.float64)
        weights = np.ones_like(values) if weights is None else np.asarray(weights, dtype=np.float64)
        is_spike = np.isin(values, self.spikes)
        spike_index = np.searchsorted(self.spikes, values[is_spike])
        counts = np.bincount(spike_index, weights[is_spike], minlength=self.spikes.size)
        if self.edges.size < 2:
            return counts
        rest, rest_w = values[~is_spike], weights[~is_spike]
        index = np.clip(np.searchsorted(self.edges, rest, side="right") - 1, 0, self.edges.size - 2)
        return np.concatenate([counts, np.bincount(index, rest_w, minlength=self.edges.size - 1)])


def common_binning(a: np.ndarray, b: np.ndarray, n_bins: int = N_BINS, spike_share: float = SPIKE_SHARE) -> Binning:
    """A binning of the pooled sample: its frequent exact values apart, quantile edges for the rest."""
    pooled = np.concatenate([np.asarray(a, np.float64), np.asarray(b, np.float64)])
    pooled = pooled[np.isfinite(pooled)]
    if pooled.size == 0:
        return Binning(np.zeros(0), np.zeros(0))
    values, counts = np.unique(pooled, return_counts=True)
    spikes = values[counts >= spike_share * pooled.size]
    rest = pooled[~np.isin(pooled, spikes)]
    if rest.size == 0:
        return Binning(spikes, np.zeros(0))
    edges = np.unique(np.quantile(rest, np.linspace(0.0, 1.0, n_bins + 1)))
    if edges.size < 2:  # every remaining value equal: one bin around it
        edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
    return Binning(spikes, edges)


def js_from_histograms(h_a: np.ndarray, h_b: np.ndarray) -> float:
    """Jensen–Shannon distance (base 2) between two histograms, each normalised to unit sum."""
    p = np.asarray(h_a, np.float64)
    q = np.asarray(h_b, np.float64)
    if p.sum() <= 0 or q.sum() <= 0:
        raise ValueError("both histograms need positive content")
    p, q = p / p.sum(), q / q.sum()
    m = 0.5 * (p + q)

    def kl(x: np.ndarray) -> float:
        nz = x > 0
        return float(np.sum(x[nz] * np.log2(x[nz] / m[nz])))

    return float(np.sqrt(max(0.5 * kl(p) + 0.5 * kl(q), 0.0)))


def js_distance(a, b, weights_a=None, weights_b=None, binning: Binning | None = None) -> float:
    """JS distance between samples ``a`` and ``b`` (optionally weighted) on their common binning."""
    binning = common_binning(a, b) if binning is None else binning
    return js_from_histograms(binning.histogram(a, weights_a), binning.histogram(b, weights_b))


def js_floor(a, b, weights_a=None, weights_b=None, rng: np.random.Generator | None = None,
             repeats: int = FLOOR_REPEATS, binning: Binning | None = None) -> float:
    """JS distance that statistics alone give: two random disjoint parts of the pooled sample with the sizes of
    ``a`` and ``b``, averaged in quadrature over ``repeats`` splits."""
    rng = np.random.default_rng(0) if rng is None else rng
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    wa = np.ones_like(a) if weights_a is None else np.asarray(weights_a, np.float64)
    wb = np.ones_like(b) if weights_b is None else np.asarray(weights_b, np.float64)
    pooled, pooled_w = np.concatenate([a, b]), np.concatenate([wa, wb])
    binning = common_binning(a, b) if binning is None else binning
    squares = []
    for _ in range(repeats):
        order = rng.permutation(pooled.size)
        first, second = order[: a.size], order[a.size:]
        squares.append(js_distance(pooled[first], pooled[second], pooled_w[first], pooled_w[second], binning) ** 2)
    return float(np.sqrt(np.mean(squares)))


def js_excess(js: float, floor: float) -> float:
    """The distance beyond the statistical floor: sqrt(max(js² - floor², 0))."""
    return float(np.sqrt(max(js * js - floor * floor, 0.0)))


def compare_feature(a, b, weights_a=None, weights_b=None, rng: np.random.Generator | None = None) -> dict[str, float]:
    """``js``, ``js_floor`` and ``js_excess`` of one feature between two samples, on one common binning."""
    binning = common_binning(a, b)
    js = js_distance(a, b, weights_a, weights_b, binning)
    floor = js_floor(a, b, weights_a, weights_b, rng, binning=binning)
    return {"js": js, "js_floor": floor, "js_excess": js_excess(js, floor)}
