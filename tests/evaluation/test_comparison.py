"""The method comparison table, its summary and plots, from synthetic metrics and history files."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from pypdf import PdfReader

from autopruner.evaluation.comparison import (
    COLUMNS,
    Entry,
    comparison_rows,
    smallest_budget_within,
    summarise,
    write_comparison,
)

METHODS = ("autopruner", "autopruner_retrained", "magnitude", "uniform", "search", "pquant")
BUDGETS = (5, 30, 70)
SEEDS = (0, 1, 2)


def fake_metrics(rejection: float, err: float, hidden: list[int]) -> dict:
    """A metrics.json as evaluate writes it (only what the comparison reads)."""
    widths = [39, *hidden, 1]
    mults = sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=True))
    return {
        "auc": 0.99,
        "auc_err": 0.001,
        "rejection": {"0.5": {"value": rejection, "err": err}, "0.3": {"value": 2 * rejection, "err": err}},
        "size": {"nodes_per_layer": [*hidden, 1], "hidden_nodes": sum(hidden), "multiplications": mults},
    }


def rejection_of(method: str, budget: int, seed: int) -> float:
    """Performance that breaks below 30 %: 600 at 30 and 70 %, 300 at 5 % (the search is a little worse)."""
    base = 600.0 if budget >= 30 else 300.0
    return base - (50.0 if method == "search" else 0.0) + 5.0 * seed


@pytest.fixture()
def synthetic_files(tmp_path: Path):
    entries, metrics, histories = [], [], []
    for seed in SEEDS:
        rows = [("baseline", 100)] + [(m, b) for m in METHODS for b in BUDGETS]
        for method, budget in rows:
            k = math.ceil(budget * 256 / 100)
            hidden = [k // 4 + (1 if i < k % 4 else 0) for i in range(4)]
            m_path = tmp_path / f"{method}_{budget}_{seed}.metrics.json"
            m_path.write_text(json.dumps(fake_metrics(rejection_of(method, budget, seed), 40.0, hidden)))
            h_path = tmp_path / f"{method}_{budget}_{seed}.history.json"
            h_path.write_text(json.dumps({"cpu_time_s": 10.0, "wall_time_s": 6.0}))
            indices = [len(histories)]
            histories.append(str(h_path))
            if method == "autopruner_retrained":  # shares the AutoPruner run's history, plus its own
                indices.append(indices[0] - 1)
            entries.append({"method": method, "budget": budget, "seed": seed, "histories": indices})
            metrics.append(str(m_path))
    return entries, metrics, histories


def test_comparison_table_has_one_row_per_method_budget_and_seed(synthetic_files, tmp_path):
    entries, metrics, histories = synthetic_files
    out = {s: tmp_path / f"comparison.{s}" for s in ("csv", "pdf", "json")}
    rankings = []
    for seed in SEEDS:  # feature rankings: seed 2 keeps another second feature at k = 2
        kept = {2: ["a", "b" if seed < 2 else "c"], 3: ["a", "b", "c"]}
        path = tmp_path / f"feature_ranking_{seed}.json"
        path.write_text(json.dumps({"training_seed": seed, "seed": 99 + seed, "budgets": [
            {"k": k, "kept": v, "validation_auc": 0.9} for k, v in kept.items()]}))
        rankings.append(str(path))
    stability = tmp_path / "stability.csv"
    summary = write_comparison(entries, metrics, histories, out["csv"], out["pdf"], out["json"], rankings, stability)
    with out["csv"].open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == COLUMNS
    keys = [(r["method"], int(r["budget"]), int(r["seed"])) for r in rows]
    expected = {("baseline", 100, s) for s in SEEDS} | {(m, b, s) for m in METHODS for b in BUDGETS for s in SEEDS}
    assert len(keys) == len(set(keys)) == len(expected) and set(keys) == expected
    retrained = next(r for r in rows if r["method"] == "autopruner_retrained")
    assert float(retrained["cpu_seconds"]) == 20.0  # the AutoPruner run plus the retraining
    assert summary["smallest_budget_within_1sigma"] == 30
    assert summary["methods"]["autopruner"]["budgets"]["30"]["n_seeds"] == 3
    assert json.loads(out["json"].read_text())["smallest_budget_within_1sigma"] == 30
    assert len(PdfReader(out["pdf"]).pages) == 4
    assert {r["method"] for r in rows} == {"baseline", *METHODS}
    with stability.open() as f:
        table = list(csv.DictReader(f))
    assert {(r["method"], int(r["budget"])) for r in table if r["kind"] == "hidden_nodes"} == {
        (m, b) for m in METHODS for b in BUDGETS}
    features = {int(r["budget"]): r for r in table if r["kind"] == "input_features"}
    assert float(features[2]["jaccard_mean_pairwise"]) == pytest.approx((1 + 1 / 3 + 1 / 3) / 3)
    assert float(features[3]["jaccard_mean_pairwise"]) == 1.0 and features[3]["n_seeds"] == "3"
    assert json.loads(out["json"].read_text())["feature_stability"][0]["kept_by_every_seed"] == ["a"]


def test_a_repeated_row_is_refused():
    metrics = fake_metrics(100.0, 1.0, [4, 4, 4, 4])
    with pytest.raises(ValueError, match="repeated"):
        comparison_rows([Entry("uniform", 30, 0)] * 2, [metrics] * 2, [[{}], [{}]])


def test_smallest_budget_needs_every_larger_budget_within():
    points = {b: {"within_1sigma_of_baseline": ok} for b, ok in ((2, True), (5, False), (10, True), (50, True))}
    assert smallest_budget_within(points) == 10
    assert smallest_budget_within({50: {"within_1sigma_of_baseline": False}}) is None


def test_within_uses_the_combined_sigma():
    rows = [{"method": "baseline", "budget": 100, "seed": 0, "rejection_50": 600.0, "rejection_50_err": 30.0,
             "auc": 0.99, "hidden_nodes": 256, "multiplications": 14848, "nodes_per_layer": "64-64-64-64",
             "cpu_seconds": 1.0}]
    for budget, rejection in ((10, 560.0), (5, 520.0)):  # combined sigma 30 * sqrt(2) = 42.4
        rows.append(rows[0] | {"method": "uniform", "budget": budget, "rejection_50": rejection})
    summary = summarise(rows, headline_method="uniform")
    assert summary["methods"]["uniform"]["budgets"]["10"]["within_1sigma_of_baseline"]
    assert not summary["methods"]["uniform"]["budgets"]["5"]["within_1sigma_of_baseline"]
    assert summary["smallest_budget_within_1sigma"] == 10
