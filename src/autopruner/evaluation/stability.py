"""Stability against initial conditions: how much what a method keeps changes from one training seed to the next.

Two kinds of budget are covered. Hidden-node budgets (every method of the comparison): the spread over seeds of the
rejection and of the nodes kept per layer. Input-feature budgets (the AutoPruner's feature ranking, one input-gate run
per number of features kept and seed, ``results/seed{S}/feature_ranking.json``): the mean and the smallest pairwise
Jaccard overlap |A ∩ B| / |A ∪ B| of the kept feature sets over every pair of seeds. Hidden neurons have no identity
across seeds (any permutation of a layer is the same network), so only the features get a Jaccard overlap.

With fewer than two seeds a spread or an overlap is undefined: NaN in the CSV, null in the JSON, never 0 or 1.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np

#: kinds of stability row: hidden-node budgets (every method) and input-feature budgets (feature ranking)
HIDDEN = "hidden_nodes"
FEATURES = "input_features"
#: the method name of the feature-ranking rows
FEATURE_METHOD = "autopruner_features"
STABILITY_COLUMNS = ["kind", "method", "budget", "n_seeds", "rejection_50_mean", "rejection_50_seed_std",
                     "validation_auc_mean", "validation_auc_seed_std", "nodes_per_layer_mean",
                     "nodes_per_layer_seed_std", "jaccard_mean_pairwise", "jaccard_min_pairwise",
                     "kept_by_every_seed"]


def jaccard(a: Collection[str], b: Collection[str]) -> float:
    """|A ∩ B| / |A ∪ B| of two sets (two empty sets are identical: 1)."""
    a, b = set(a), set(b)
    union = a | b
    return 1.0 if not union else len(a & b) / len(union)


def pairwise_jaccard(sets: Sequence[Collection[str]]) -> list[float]:
    """The Jaccard overlap of every unordered pair of sets (empty for fewer than two sets)."""
    return [jaccard(a, b) for a, b in itertools.combinations(sets, 2)]


def mean_pairwise_jaccard(sets: Sequence[Collection[str]]) -> float:
    """Mean Jaccard overlap over every pair of sets; NaN with fewer than two sets (undefined, not 1)."""
    pairs = pairwise_jaccard(sets)
    return float(np.mean(pairs)) if pairs else float("nan")


def _seed_std(values: Sequence[float]) -> float:
    """Standard deviation over seeds (ddof 1); NaN with fewer than two seeds."""
    return float(np.std(np.asarray(values, dtype=float), ddof=1)) if len(values) > 1 else float("nan")


def feature_stability(rankings: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per number of features kept: seeds, mean and smallest pairwise Jaccard overlap of the kept sets, the features
    every seed kept, and the validation AUC over seeds. ``rankings`` are feature_ranking.json payloads, one per seed."""
    per_k: dict[int, list[tuple[int, Mapping[str, Any]]]] = {}
    for ranking in rankings:
        for budget in ranking["budgets"]:
            per_k.setdefault(int(budget["k"]), []).append((int(ranking.get("training_seed", ranking["seed"])), budget))
    out = []
    for k in sorted(per_k):
        seeds = [s for s, _ in per_k[k]]
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"feature budget {k}: a seed appears twice among {seeds}")
        sets = [set(b["kept"]) for _, b in per_k[k]]
        pairs = pairwise_jaccard(sets)
        aucs = [float(b["validation_auc"]) for _, b in per_k[k]]
        out.append({
            "features_kept": k,
            "n_seeds": len(sets),
            "seeds": seeds,
            "jaccard_mean_pairwise": float(np.mean(pairs)) if pairs else float("nan"),
            "jaccard_min_pairwise": float(np.min(pairs)) if pairs else float("nan"),
            "kept_by_every_seed": sorted(set.intersection(*sets)),
            "validation_auc_mean": float(np.mean(aucs)),
            "validation_auc_seed_std": _seed_std(aucs),
        })
    return out


def _layers(values: Sequence[float]) -> str:
    return "-".join(f"{v:.3g}" for v in values)


def stability_rows(methods: Mapping[str, Any], features: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The stability table: one row per (method, hidden budget) from the comparison summary's ``methods`` and one
    per feature budget; a column that does not apply to a kind is empty, one that is undefined (one seed) is NaN."""
    rows = []
    for method, info in methods.items():
        for budget in sorted(int(b) for b in info["budgets"]):
            p = info["budgets"][str(budget)]
            one = p["n_seeds"] < 2
            rows.append({
                "kind": HIDDEN, "method": method, "budget": budget, "n_seeds": p["n_seeds"],
                "rejection_50_mean": p["rejection_50_mean"],
                "rejection_50_seed_std": float("nan") if one else p["rejection_50_seed_std"],
                "validation_auc_mean": "", "validation_auc_seed_std": "",
                "nodes_per_layer_mean": _layers(p["nodes_per_layer_mean"]),
                "nodes_per_layer_seed_std": "nan" if one else _layers(p["nodes_per_layer_seed_std"]),
                "jaccard_mean_pairwise": "", "jaccard_min_pairwise": "", "kept_by_every_seed": "",
            })
    for f in features:
        rows.append({
            "kind": FEATURES, "method": FEATURE_METHOD, "budget": f["features_kept"], "n_seeds": f["n_seeds"],
            "rejection_50_mean": "", "rejection_50_seed_std": "",
            "validation_auc_mean": f["validation_auc_mean"], "validation_auc_seed_std": f["validation_auc_seed_std"],
            "nodes_per_layer_mean": "", "nodes_per_layer_seed_std": "",
            "jaccard_mean_pairwise": f["jaccard_mean_pairwise"], "jaccard_min_pairwise": f["jaccard_min_pairwise"],
            "kept_by_every_seed": " ".join(f["kept_by_every_seed"]),
        })
    return rows


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value
