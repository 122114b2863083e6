"""The weighted ROC and the numbers read off it: AUC, background efficiency and rejection at fixed ε_S.

Conventions (ATLAS flavour-tagging style): a candidate is tagged when its score is above a threshold; the signal
efficiency ε_S and background efficiency ε_B are the weighted fractions of signal and background candidates tagged; the
background rejection is 1/ε_B. Between two ROC points the operating point is interpolated linearly in (ε_S, ε_B): that
straight segment is exactly what a classifier that picks one of the two thresholds at random achieves, so it is the
achievable, un-optimistic value (a log interpolation would overstate the rejection).

This is the project's one ROC and AUC implementation: the dataset stage (single-feature AUCs), training (validation AUC)
and evaluation (with bootstrap errors, `autopruner.evaluation.metrics`) all use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RocCurve:
    """A weighted ROC: ε_S and ε_B after each distinct threshold, from (0, 0) to (1, 1), both non-decreasing."""

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


def as_arrays(scores, labels, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    s, y, w = as_arrays(scores, labels, weights)
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


def efficiencies(cum_signal: np.ndarray, cum_background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    eff_s, eff_b = efficiencies(cum_s, cum_b)
    return RocCurve(eff_s, eff_b, np.r_[np.inf, sample.thresholds])


def auc_from_roc(eff_signal: np.ndarray, eff_background: np.ndarray) -> np.ndarray:
    """Area under ε_S(ε_B) by the trapezoid rule (exact for a step ROC; ties count one half), along the last axis."""
    d_eff_b = np.diff(eff_background, axis=-1)
    mean_eff_s = 0.5 * (eff_signal[..., 1:] + eff_signal[..., :-1])
    return np.sum(d_eff_b * mean_eff_s, axis=-1)


def auc(scores, labels, weights=None) -> float:
    """Weighted area under the ROC: probability that a signal candidate scores above a background one."""
    roc = roc_curve(scores, labels, weights)
    return float(auc_from_roc(roc.eff_signal, roc.eff_background))


def background_efficiency_at(eff_signal: np.ndarray, eff_background: np.ndarray, targets) -> np.ndarray:
    """ε_B at the signal efficiencies ``targets``, linear between the two ROC points that bracket each target.

    At each target the lower ROC point is the last one below it and the upper point the first one at or above it: for a
    run of points with the same ε_S (thresholds that only add background) the cheapest one is taken.
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
