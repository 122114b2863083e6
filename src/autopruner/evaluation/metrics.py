"""Tagger performance with uncertainties: AUC and background rejection at fixed ε_S from bootstrap replicas.

The ROC itself and its conventions are in `autopruner.roc`. Statistical uncertainties come from the bootstrap: the test
candidates are resampled with replacement (multinomial counts), the quantity is recomputed on every replica and its
standard deviation quoted. The counts of replica r depend only on the generator and on the number of candidates, so two
models scored on the same test candidates with equally seeded generators see the same replicas (paired bootstrap: ratios
between models get correlated, honest uncertainties).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autopruner.roc import (
    as_arrays,
    auc_from_roc,
    background_efficiency_at,
    efficiencies,
    rejection_from_efficiency,
    sort_sample,
)

#: replicas drawn per block in the bootstrap (bounds the memory: block × candidates counts)
_BOOTSTRAP_BLOCK = 16


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
        """Bootstrap standard deviation of 1/ε_B on the grid (replicas with no background passing are dropped)."""
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
    """Multinomial resampling counts (n_replicas, n_candidates): how often each candidate enters each replica."""
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
    """AUC and ε_B(ε_S grid) with ``n_replicas`` bootstrap replicas of the candidates (vectorised per block)."""
    sample = sort_sample(scores, labels, weights)
    grid = np.atleast_1d(np.asarray(signal_efficiencies, dtype=np.float64))
    cum_s = np.cumsum(sample.w_signal)[sample.group_ends]
    cum_b = np.cumsum(sample.w_background)[sample.group_ends]
    eff_s, eff_b = efficiencies(cum_s, cum_b)
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
        rep_eff_s, rep_eff_b = efficiencies(rep_s, rep_b)
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
    _, y, w = as_arrays(scores, labels, weights)
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


def spread(values: Sequence[float | None]) -> dict[str, Any]:
    """Values (per fold, per model or per training seed; None where undefined) with the mean, standard deviation
    (ddof 1) and standard error of the defined ones; std and sem are None below two defined values."""
    defined = np.array([v for v in values if v is not None], dtype=np.float64)
    n = defined.size
    std = float(np.std(defined, ddof=1)) if n > 1 else None
    return {
        "values": list(values),
        "mean": float(defined.mean()) if n else None,
        "std": std,
        "sem": float(std / np.sqrt(n)) if std is not None else None,
        "n_defined": int(n),
    }
