"""ROC pages and summary tables from evaluated models (synthetic scores)."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest

from autopruner.evaluation.roc_plots import ModelRecord, make_budget_pdf, make_roc_all
from autopruner.evaluation.scores import write_scores
from autopruner.evaluation.scoring import evaluate_scores
from autopruner.io_utils import write_json

pypdf = pytest.importorskip("pypdf")
CFG = {"seed": 3, "evaluation": {"bootstrap_replicas": 10, "signal_efficiencies": [0.3, 0.5, 0.7]}}


def _record(tmp_path, kind, budget, seed, separation, rng) -> ModelRecord:
    """Write scores (signal shifted by ``separation``) and metrics of one fake model."""
    n = 400
    labels = np.r_[np.ones(n), np.zeros(n)].astype(np.int8)
    scores = 1.0 / (1.0 + np.exp(-(rng.normal(size=2 * n) + separation * labels)))
    weights = rng.uniform(0.5, 1.5, 2 * n)
    stem = (
        tmp_path
        / (f"seed{seed}" if seed else "")
        / ("baseline" if budget is None else f"budget{budget}")
        / kind
    )
    stem.parent.mkdir(parents=True, exist_ok=True)
    write_scores(f"{stem}.scores.npz", scores, labels, weights)
    metrics = evaluate_scores(scores, labels, weights, CFG)
    hidden = 256 if budget is None else round(2.56 * budget)
    metrics["size"] = {
        "nodes_per_layer": [hidden // 4] * 4 + [1],
        "hidden_nodes": hidden,
        "weights": 10 * hidden,
        "multiplications": 9 * hidden,
    }
    write_json(f"{stem}.metrics.json", metrics)
    return ModelRecord(kind, budget, seed, f"{stem}.metrics.json", f"{stem}.scores.npz")


def test_roc_all_has_one_page_per_budget_plus_three(tmp_path):
    rng = np.random.default_rng(0)
    budgets = [30, 70]
    records = [_record(tmp_path, "baseline", None, None, 2.5, rng)]
    for seed in (None, 1):
        for b in budgets:
            records += [_record(tmp_path, k, b, seed, 1.5 + b / 100, rng) for k in ("pruned", "retrained")]
    records.append(_record(tmp_path, "baseline", None, 1, 2.4, rng))
    out = tmp_path / "roc_all.pdf"
    make_roc_all(records, CFG, out, tmp_path / "summary.csv", tmp_path / "summary.md")
    assert len(pypdf.PdfReader(out).pages) == 2 + len(budgets) + 1
    rows = list(csv.DictReader(open(tmp_path / "summary.csv")))
    assert len(rows) == len(records)
    assert {"auc", "auc_err", "rejection_50", "rejection_50_err", "nodes_per_layer"} <= set(rows[0])
    assert float(rows[0]["auc"]) > float(rows[1]["auc"])  # the baseline separates best
    assert (tmp_path / "summary.md").read_text().count("\n") == len(records) + 2

    single = tmp_path / "roc30.pdf"
    make_budget_pdf(records[0], records[1], records[2], CFG, single)
    assert len(pypdf.PdfReader(single).pages) == 1


def test_report_modules_import_without_tensorflow():
    """The plotting and report jobs (roc_budget, roc_all, comparison, hls_summary) read score and metrics files only:
    their modules must not pull in TensorFlow, whose import costs each such job ~7 s of CPU."""
    code = (
        "import sys\n"
        "import autopruner.evaluation.comparison, autopruner.evaluation.roc_plots, autopruner.firmware.summary\n"
        "print(sorted(name for name in ('keras', 'tensorflow') if name in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
