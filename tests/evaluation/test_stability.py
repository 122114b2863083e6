"""Stability over seeds: Jaccard overlap of kept feature sets, the feature-budget summary, the stability table."""

from __future__ import annotations

import math

import pytest

from autopruner.evaluation.stability import (
    FEATURES,
    HIDDEN,
    feature_stability,
    jaccard,
    json_safe,
    mean_pairwise_jaccard,
    pairwise_jaccard,
    stability_rows,
)


def test_jaccard_of_hand_made_sets():
    assert jaccard({"a", "b", "c"}, {"b", "c", "d"}) == pytest.approx(2 / 4)
    assert jaccard({"a"}, {"a"}) == 1.0 and jaccard({"a"}, {"b"}) == 0.0
    assert jaccard(set(), set()) == 1.0
    sets = [{"a", "b"}, {"a", "c"}, {"a", "b"}]
    assert pairwise_jaccard(sets) == pytest.approx([1 / 3, 1.0, 1 / 3])
    assert mean_pairwise_jaccard(sets) == pytest.approx(5 / 9)


def test_one_seed_gives_an_undefined_overlap_not_one():
    assert math.isnan(mean_pairwise_jaccard([{"a", "b"}]))
    assert pairwise_jaccard([{"a"}]) == []


def ranking(seed: int, kept_by_k: dict[int, list[str]], auc: float = 0.9) -> dict:
    """A feature_ranking.json payload (only what the stability reads)."""
    return {"seed": 1000 + seed, "training_seed": seed,
            "budgets": [{"k": k, "kept": kept, "validation_auc": auc} for k, kept in kept_by_k.items()]}


def test_feature_stability_per_budget_over_seeds():
    rankings = [ranking(0, {2: ["a", "b"], 3: ["a", "b", "c"]}, 0.90),
                ranking(1, {2: ["a", "c"], 3: ["a", "b", "c"]}, 0.92),
                ranking(2, {2: ["a", "b"], 3: ["a", "b", "d"]}, 0.94)]
    two, three = feature_stability(rankings)
    assert two["features_kept"] == 2 and two["n_seeds"] == 3 and two["seeds"] == [0, 1, 2]
    assert two["jaccard_mean_pairwise"] == pytest.approx(5 / 9)
    assert two["jaccard_min_pairwise"] == pytest.approx(1 / 3)
    assert two["kept_by_every_seed"] == ["a"]
    assert three["jaccard_mean_pairwise"] == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert two["validation_auc_mean"] == pytest.approx(0.92) and two["validation_auc_seed_std"] == pytest.approx(0.02)


def test_single_seed_feature_stability_is_undefined_and_null_in_json():
    (row,) = feature_stability([ranking(0, {5: ["a", "b", "c", "d", "e"]})])
    assert row["n_seeds"] == 1 and math.isnan(row["jaccard_mean_pairwise"])
    assert math.isnan(row["validation_auc_seed_std"])
    assert json_safe(row)["jaccard_mean_pairwise"] is None


def test_a_seed_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):
        feature_stability([ranking(0, {2: ["a", "b"]}), ranking(0, {2: ["a", "b"]})])


def test_stability_rows_cover_hidden_and_feature_budgets():
    point = {"n_seeds": 1, "rejection_50_mean": 500.0, "rejection_50_seed_std": 0.0,
             "nodes_per_layer_mean": [20.0, 19.0], "nodes_per_layer_seed_std": [0.0, 0.0]}
    methods = {"pquant": {"budgets": {"30": point}}}
    rows = stability_rows(methods, feature_stability([ranking(0, {5: list("abcde")})]))
    hidden, feature = rows
    assert hidden["kind"] == HIDDEN and hidden["method"] == "pquant" and hidden["budget"] == 30
    assert math.isnan(hidden["rejection_50_seed_std"]) and hidden["nodes_per_layer_seed_std"] == "nan"
    assert feature["kind"] == FEATURES and feature["budget"] == 5 and math.isnan(feature["jaccard_mean_pairwise"])
