"""Tagger performance: weighted ROC, AUC, background rejection at fixed signal efficiency, bootstrap errors.

Conventions (ATLAS flavour-tagging style): a candidate is tagged when its score is above a threshold; the
signal
efficiency ε_S and background efficiency ε_B are the weighted fractions of signal and background candidates
tagged;
the background rejection is 1/ε_B. Between two ROC points the operating point is interpolated linearly in
(ε_S, ε_B): that straight segment is exactly what a classifier that picks one of the two thresholds at random
achieves, so it is the achievable, un-optimistic value (a log interpolation would overstate the rejection).

Statistical uncertainties come from the bootstrap: the test candidates are resampled with replacement
(multinomial counts), the quantity is recomputed on every replica and its standard deviation quoted. The
counts of
replica r depend only on the generator and on the number of candidates, so two models scored on the same test
candidates with equally seeded generators see the same replicas (paired bootstrap: ratios between models get
correlated, honest uncertainties).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: replicas drawn per block in the bootstrap (bounds the memory: block × candidates counts)
_BOOTSTRAP_BLOCK = 16


@dataclass(frozen=True)
class RocCurve:
    """A weighted ROC: ε_S and ε_B after each distinct threshold, from (0, 0) to (1, 1), both
    non-decreasing."""

    eff_signal: np.ndarray
    eff_background: np.ndarray
    thresholds: np.ndarray


@dataclass(frozen=True)
class SortedSample:
    """Scores sorted once (descending) so every bootstrap replica only needs cumulative sums."""

    order: np.ndarray  # permutation that sorts the original candidates by descending score
    w_signal: np.ndarray  # weight if signal else 0, in sorted order
    w_background: np.ndarray  # weight if background else 0, in sorted order
    group_ends: np.ndarray  # index of the last candidate of each group of tied scores, in sorted order
    thresholds: np.ndarray  # the distinct scores, descending


def _as_arrays(scores, labels, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate and convert the inputs (weights default to 1)."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).ravel().astype(bool)
    w = np.ones_like(s) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if not (s.shape == y.shape == w.shape):
        raise ValueError(f"scores {s.shape}, labels {y.shape} and weights {w.shape} differ in length")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores contain NaN or inf")
    if not (y.any() and (~y).any()):
        raise ValueError("need both signal and background candidates")
    return s, y, w


def sort_sample(scores, labels, weights=None) -> SortedSample:
    """Sort candidates by descending score and find the tie groups (one ROC point per distinct score)."""
    s, y, w = _as_arrays(scores, labels, weights)
    order = np.argsort(-s, kind="stable")
    s_sorted = s[order]
    y_sorted = y[order]
    w_sorted = w[order]
    group_ends = np.r_[np.flatnonzero(np.diff(s_sorted) != 0.0), s_sorted.size - 1]
    return SortedSample(
        order=order,
        w_signal=np.where(y_sorted, w_sorted, 0.0),
        w_background=np.where(y_sorted, 0.0, w_sorted),
        group_ends=group_ends,
        thresholds=s_sorted[group_ends],
    )


def _efficiencies(cum_signal: np.ndarray, cum_background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised cumulative sums (last axis) with the (0, 0) point prepended."""
    total_s = cum_signal[..., -1:]
    total_b = cum_background[..., -1:]
    zeros = np.zeros(cum_signal.shape[:-1] + (1,))
    with np.errstate(invalid="ignore", divide="ignore"):
        eff_s = np.concatenate([zeros, cum_signal / total_s], axis=-1)
        eff_b = np.concatenate([zeros, cum_background / total_b], axis=-1)
    return eff_s, eff_b


def roc_curve(scores, labels, weights=None) -> RocCurve:
    """Weighted ROC of a score: (ε_S, ε_B) for every distinct threshold, tied scores kept together."""
    sample = sort_sample(scores, labels, weights)
    cum_s = np.cumsum(sample.w_signal)[sample.group_ends]
    cum_b = np.cumsum(sample.w_background)[sample.group_ends]
    eff_s, eff_b = _efficiencies(cum_s, cum_b)
    return RocCurve(eff_s, eff_b, np.r_[np.inf, sample.thresholds])


def auc_from_roc(eff_signal: np.ndarray, eff_background: np.ndarray) -> np.ndarray:
    """Area under ε_S(ε_B) by the trapezoid rule (exact for a step ROC; ties count one half), along the last
    axis."""
    d_eff_b = np.diff(eff_background, axis=-1)
    mean_eff_s = 0.5 * (eff_signal[..., 1:] + eff_signal[..., :-1])
    return np.sum(d_eff_b * mean_eff_s, axis=-1)


def auc(scores, labels, weights=None) -> float:
    """Weighted area under the ROC: probability that a signal candidate scores above a background one."""
    roc = roc_curve(scores, labels, weights)
    return float(auc_from_roc(roc.eff_signal, roc.eff_background))


def background_efficiency_at(eff_signal: np.ndarray, eff_background: np.ndarray, targets) -> np.ndarray:
    """ε_B at the signal efficiencies ``targets``, linear between the two ROC points that bracket each target.

    At each target the lower ROC point is the last one below it and the upper point the first one at or above
    it:
    for a run of points with the same ε_S (thresholds that only add background) the cheapest one is taken.
    """
    targets = np.atleast_1d(np.asarray(targets, dtype=np.float64))
    if np.any((targets <= 0.0) | (targets > 1.0)):
        raise ValueError(f"signal efficiencies must lie in (0, 1], got {targets}")
    upper = np.searchsorted(eff_signal, targets, side="left")
    upper = np.clip(upper, 1, eff_signal.size - 1)
    lower = upper - 1
    s0, s1 = eff_signal[lower], eff_signal[upper]
    b0, b1 = eff_background[lower], eff_background[upper]
    frac = np.where(s1 > s0, (targets - s0) / np.where(s1 > s0, s1 - s0, 1.0), 1.0)
    return b0 + frac * (b1 - b0)


def rejection_from_efficiency(eff_background: np.ndarray) -> np.ndarray:
    """1/ε_B, infinite where no background passes."""
    eff_b = np.asarray(eff_background, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(eff_b > 0.0, 1.0 / np.where(eff_b > 0.0, eff_b, 1.0), np.inf)


def rejection_at(scores, labels, weights, signal_efficiencies) -> np.ndarray:
    """Background rejection 1/ε_B at each requested signal efficiency."""
    roc = roc_curve(scores, labels, weights)
    return rejection_from_efficiency(
        background_efficiency_at(roc.eff_signal, roc.eff_background, signal_efficiencies)
    )


@dataclass(frozen=True)
class BootstrapResult:
    """Central values and bootstrap replicas of the AUC and of ε_B on a grid of signal efficiencies."""

    signal_efficiencies: np.ndarray  # (G,)
    auc: float
    eff_background: np.ndarray  # (G,) central ε_B
    auc_replicas: np.ndarray  # (R,)
    eff_background_replicas: np.ndarray  # (R, G)

    @property
    def rejection(self) -> np.ndarray:
        """Central 1/ε_B on the grid."""
        return rejection_from_efficiency(self.eff_background)

    @property
    def rejection_replicas(self) -> np.ndarray:
        """1/ε_B of every replica on the grid (R, G)."""
        return rejection_from_efficiency(self.eff_background_replicas)

    @property
    def auc_std(self) -> float:
        """Bootstrap standard deviation of the AUC."""
        return float(np.std(self.auc_replicas, ddof=1)) if self.auc_replicas.size > 1 else float("nan")

    def rejection_std(self) -> np.ndarray:
        """Bootstrap standard deviation of 1/ε_B on the grid (replicas with no background passing are
        dropped)."""
        rej = self.rejection_replicas
        finite = np.where(np.isfinite(rej), rej, np.nan)
        if rej.shape[0] < 2:
            return np.full(rej.shape[1], np.nan)
        with np.errstate(invalid="ignore"):
            return np.nanstd(finite, axis=0, ddof=1)

    def rejection_band(self, quantiles: Sequence[float] = (0.16, 0.84)) -> np.ndarray:
        """68 % band of 1/ε_B on the grid (len(quantiles), G), from the replica quantiles of ε_B."""
        flipped = np.quantile(self.eff_background_replicas, [1.0 - q for q in quantiles], axis=0)
        return rejection_from_efficiency(flipped)


def bootstrap_counts(n_candidates: int, n_replicas: int, rng: np.random.Generator) -> np.ndarray:
    """Multinomial resampling counts (n_replicas, n_candidates): how often each candidate enters each
    replica."""
    p = np.full(n_candidates, 1.0 / n_candidates)
    return rng.multinomial(n_candidates, p, size=n_replicas).astype(np.float64)


def bootstrap_roc(
    scores,
    labels,
    weights,
    signal_efficiencies,
    n_replicas: int,
    rng: np.random.Generator,
) -> BootstrapResult:
    """AUC and ε_B(ε_S grid) with ``n_replicas`` bootstrap replicas of the candidates (vectorised per
    block)."""
    sample = sort_sample(scores, labels, weights)
    grid = np.atleast_1d(np.asarray(signal_efficiencies, dtype=np.float64))
    cum_s = np.cumsum(sample.w_signal)[sample.group_ends]
    cum_b = np.cumsum(sample.w_background)[sample.group_ends]
    eff_s, eff_b = _efficiencies(cum_s, cum_b)
    central_auc = float(auc_from_roc(eff_s, eff_b))
    central_eff_b = background_efficiency_at(eff_s, eff_b, grid)

    n = sample.order.size
    auc_reps = np.empty(n_replicas)
    eff_b_reps = np.empty((n_replicas, grid.size))
    for start in range(0, n_replicas, _BOOTSTRAP_BLOCK):
        stop = min(start + _BOOTSTRAP_BLOCK, n_replicas)
        counts = bootstrap_counts(n, stop - start, rng)[:, sample.order]
        rep_s = np.cumsum(counts * sample.w_signal, axis=1)[:, sample.group_ends]
        rep_b = np.cumsum(counts * sample.w_background, axis=1)[:, sample.group_ends]
        rep_eff_s, rep_eff_b = _efficiencies(rep_s, rep_b)
        auc_reps[start:stop] = auc_from_roc(rep_eff_s, rep_eff_b)
        for k in range(stop - start):
            eff_b_reps[start + k] = background_efficiency_at(rep_eff_s[k], rep_eff_b[k], grid)
    return BootstrapResult(grid, central_auc, central_eff_b, auc_reps, eff_b_reps)


def performance_summary(
    scores,
    labels,
    weights,
    signal_efficiencies: Sequence[float],
    n_replicas: int,
    rng: np.random.Generator,
) -> dict:
    """JSON-ready AUC and rejections at the working points, each with its bootstrap standard deviation."""
    result = bootstrap_roc(scores, labels, weights, signal_efficiencies, n_replicas, rng)
    rej_std = result.rejection_std()
    _, y, w = _as_arrays(scores, labels, weights)
    return {
        "auc": result.auc,
        "auc_err": _finite_or_none(result.auc_std),
        "rejection": {
            f"{eff:g}": {
                "value": _finite_or_none(float(result.rejection[i])),
                "err": _finite_or_none(float(rej_std[i])),
                "eff_background": float(result.eff_background[i]),
            }
            for i, eff in enumerate(result.signal_efficiencies)
        },
        "n_signal": int(y.sum()),
        "n_background": int((~y).sum()),
        "sum_weights_signal": float(w[y].sum()),
        "sum_weights_background": float(w[~y].sum()),
        "bootstrap_replicas": int(n_replicas),
    }


def _finite_or_none(value: float) -> float | None:
    """JSON has no inf/NaN: undefined numbers (no background left, one replica) become null."""
    return float(value) if np.isfinite(value) else None


def model_size(stages) -> dict:
    """Size of the structure that survives pruning: live nodes per layer, weights, multiplications.

    ``stages`` is a folded dense chain (`autopruner.dense_chain.fold_model`); the standardization is folded
    into the first layer and costs nothing. Multiplications are the non-zero weights between live nodes;
    weights adds the biases of the live nodes. The ``*_full`` entries count the same network before pruning.
    """
    from autopruner.dense_chain import live_nodes, nonzero_products

    live = live_nodes(stages)
    products = nonzero_products(stages)
    nodes = [int(mask.sum()) for mask in live[1:]]
    multiplications = int(sum(p.sum() for p in products))
    full_nodes = [int(stage.kernel.shape[1]) for stage in stages]
    full_mults = int(sum(stage.kernel.size for stage in stages))
    return {
        "inputs": int(live[0].sum()),
        "nodes_per_layer": nodes,
        "hidden_nodes": int(sum(nodes[:-1])),
        "multiplications": multiplications,
        "weights": multiplications + int(sum(nodes)),
        "nodes_per_layer_full": full_nodes,
        "hidden_nodes_full": int(sum(full_nodes[:-1])),
        "multiplications_full": full_mults,
        "weights_full": full_mults + int(sum(full_nodes)),
    }
