"""Side-by-side comparison of the node-budget methods: one row per (method, budget, seed), summaries and plots.

Every row comes from one evaluated model (its ``metrics.json``) and the training histories that produced it; the
CPU seconds of a row are the time to solution, summed over those histories (the AutoPruner's retrained network pays
for the AutoPruner run and the retraining; magnitude pruning's history already includes the baseline's training).

Uncertainty of a (method, budget) point: sigma = hypot(mean bootstrap sigma of the rejection, standard deviation
over seeds) (the seed spread only with two seeds or more). A budget is *within 1 sigma of the baseline* when
rejection_baseline - rejection <= hypot(sigma, sigma_baseline): not worse by more than one combined standard
deviation (a better rejection counts as within). The answer to "how small can the tagger get" is, per method, the
smallest budget from which every larger budget is within 1 sigma too (one lucky low budget does not count).

The stability over seeds (`autopruner.evaluation.stability`) goes into the summary (``feature_stability``: the
Jaccard overlap of the kept input features per feature budget) and its own table, ``stability.csv``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autopruner.evaluation.roc_plots import EXPERIMENT_LABEL, load_metrics
from autopruner.evaluation.stability import STABILITY_COLUMNS, feature_stability, json_safe, stability_rows
from autopruner.io_utils import CorruptInputError, require_file, write_csv_rows, write_json
from autopruner.plotting import hep_style, plt, save_pages

BASELINE = "baseline"
#: the reference efficiency of the comparison (``rejection_50``)
REFERENCE_EFF = 0.5
METHOD_STYLES = {
    "baseline": ("black", "s"),
    "autopruner": ("tab:orange", "o"),
    "autopruner_retrained": ("tab:green", "o"),
    "magnitude": ("tab:red", "v"),
    "uniform": ("tab:blue", "^"),
    "search": ("tab:purple", "D"),
    "pquant": ("tab:brown", "P"),
}
COLUMNS = ["method", "budget", "seed", "nodes_per_layer", "hidden_nodes", "multiplications", "rejection_50",
           "rejection_50_err", "auc", "auc_err", "cpu_seconds", "wall_seconds"]


@dataclass(frozen=True)
class Entry:
    """One row's identity: method, budget in % (100 for the baseline), training seed."""

    method: str
    budget: int
    seed: int


def load_history(path: str | Path) -> dict[str, Any]:
    """A training ``history.json``; a broken file raises naming it."""
    p = require_file(path)
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise CorruptInputError(f"cannot parse history {p}: {exc}") from exc


def cpu_seconds(history: Mapping[str, Any]) -> float:
    """Time to solution of one history: ``cpu_seconds`` (a method's total), else ``cpu_time_s``, else wall time."""
    for key in ("cpu_seconds", "cpu_time_s", "wall_time_s"):
        if history.get(key) is not None:
            return float(history[key])
    return float("nan")


def comparison_row(entry: Entry, metrics: Mapping[str, Any], histories: Sequence[Mapping[str, Any]]) -> dict:
    """One flat row: identity, live size, rejection at eps_S = 50 % with its bootstrap sigma, AUC, time."""
    rejection = metrics["rejection"][f"{REFERENCE_EFF:g}"]
    size = metrics["size"]
    return {
        "method": entry.method,
        "budget": int(entry.budget),
        "seed": int(entry.seed),
        "nodes_per_layer": "-".join(str(n) for n in size["nodes_per_layer"][:-1]),
        "hidden_nodes": int(size["hidden_nodes"]),
        "multiplications": int(size["multiplications"]),
        "rejection_50": _number(rejection["value"]),
        "rejection_50_err": _number(rejection["err"]),
        "auc": float(metrics["auc"]),
        "auc_err": float(metrics["auc_err"]),
        "cpu_seconds": float(sum(cpu_seconds(h) for h in histories)),
        "wall_seconds": float(sum(float(h.get("wall_time_s", 0.0)) for h in histories)),
    }


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def comparison_rows(
    entries: Sequence[Entry], metrics: Sequence[Mapping[str, Any]], histories: Sequence[Sequence[Mapping[str, Any]]]
) -> list[dict]:
    """Rows in (method, budget, seed) order; a repeated (method, budget, seed) is an error."""
    keys = [(e.method, e.budget, e.seed) for e in entries]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValueError(f"repeated (method, budget, seed) rows: {duplicates}")
    rows = [comparison_row(e, m, h) for e, m, h in zip(entries, metrics, histories, strict=True)]
    return sorted(rows, key=lambda r: (r["method"] != BASELINE, r["method"], r["budget"], r["seed"]))


# --- summaries ------------------------------------------------------------------------------------------------


def _point(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Mean over seeds of one (method, budget), its sigma (bootstrap and seed spread) and size and time."""
    rejection = np.array([r["rejection_50"] for r in rows], dtype=float)
    bootstrap = float(np.nanmean([r["rejection_50_err"] for r in rows]))
    spread = float(np.nanstd(rejection, ddof=1)) if len(rows) > 1 else 0.0
    layers = np.array([[int(n) for n in r["nodes_per_layer"].split("-")] for r in rows], dtype=float)
    return {
        "n_seeds": len(rows),
        "rejection_50_mean": float(np.nanmean(rejection)),
        "rejection_50_seed_std": spread,
        "rejection_50_bootstrap_err": bootstrap,
        "rejection_50_sigma": math.hypot(bootstrap, spread),
        "auc_mean": float(np.mean([r["auc"] for r in rows])),
        "hidden_nodes_mean": float(np.mean([r["hidden_nodes"] for r in rows])),
        "multiplications_mean": float(np.mean([r["multiplications"] for r in rows])),
        "multiplications_seed_std": float(np.std([r["multiplications"] for r in rows], ddof=1)) if len(rows) > 1
        else 0.0,
        "nodes_per_layer_mean": layers.mean(axis=0).tolist(),
        "nodes_per_layer_seed_std": (layers.std(axis=0, ddof=1) if len(rows) > 1 else 0 * layers[0]).tolist(),
        "cpu_seconds_mean": float(np.mean([r["cpu_seconds"] for r in rows])),
    }


def within_one_sigma(point: Mapping[str, Any], baseline: Mapping[str, Any]) -> bool:
    """Not worse than the baseline by more than the combined sigma of the two (better counts as within)."""
    sigma = math.hypot(point["rejection_50_sigma"], baseline["rejection_50_sigma"])
    return bool(baseline["rejection_50_mean"] - point["rejection_50_mean"] <= sigma)


def smallest_budget_within(points: Mapping[int, Mapping[str, Any]]) -> int | None:
    """The smallest budget from which every larger budget is within 1 sigma of the baseline (None if the largest is
    not)."""
    answer = None
    for budget in sorted(points, reverse=True):
        if not points[budget]["within_1sigma_of_baseline"]:
            break
        answer = budget
    return answer


def summarise(rows: Sequence[Mapping[str, Any]], headline_method: str = "autopruner") -> dict[str, Any]:
    """Per method and budget: mean +- sigma, stability over seeds, time; the smallest budget within 1 sigma."""
    baseline_rows = [r for r in rows if r["method"] == BASELINE]
    if not baseline_rows:
        raise ValueError("the comparison needs baseline rows")
    baseline = _point(baseline_rows)
    methods: dict[str, Any] = {}
    for method in sorted({r["method"] for r in rows} - {BASELINE}):
        points = {}
        for budget in sorted({r["budget"] for r in rows if r["method"] == method}):
            point = _point([r for r in rows if r["method"] == method and r["budget"] == budget])
            point["within_1sigma_of_baseline"] = within_one_sigma(point, baseline)
            points[budget] = point
        methods[method] = {
            "budgets": {str(b): p for b, p in points.items()},
            "smallest_budget_within_1sigma": smallest_budget_within(points),
        }
    headline = methods.get(headline_method, {}).get("smallest_budget_within_1sigma")
    return {
        "criterion": "rejection_baseline - rejection <= hypot(sigma, sigma_baseline) at eps_S = 50 %, "
        "sigma = hypot(mean bootstrap sigma, seed std); smallest budget from which every larger one passes",
        "baseline": baseline,
        "methods": methods,
        "headline_method": headline_method,
        "smallest_budget_within_1sigma": headline,
        "seeds": sorted({int(r["seed"]) for r in rows}),
    }


# --- plots ----------------------------------------------------------------------------------------------------


def _baseline_band(ax, baseline: Mapping[str, Any]) -> None:
    mean, sigma = baseline["rejection_50_mean"], baseline["rejection_50_sigma"]
    ax.axhspan(mean - sigma, mean + sigma, color="grey", alpha=0.25, lw=0, label="baseline ±1σ")
    ax.axhline(mean, color="black", ls="--", lw=1)


def rejection_page(summary: Mapping[str, Any], x_key: str, x_label: str):
    """Rejection at eps_S = 50 % (mean +- sigma over seeds) against ``x_key``, one curve per method."""
    fig, ax = plt.subplots(figsize=(8, 6))
    _baseline_band(ax, summary["baseline"])
    for method, info in summary["methods"].items():
        points = sorted(info["budgets"].values(), key=lambda p: p[x_key])
        colour, marker = METHOD_STYLES.get(method, ("grey", "x"))
        ax.errorbar([p[x_key] for p in points], [p["rejection_50_mean"] for p in points],
                    yerr=[p["rejection_50_sigma"] for p in points], fmt=f"{marker}-", color=colour, capsize=3,
                    label=method)
    ax.set_xscale("log")
    ax.set_xlabel(x_label)
    ax.set_ylabel(r"Background rejection $1/\varepsilon_B$ at $\varepsilon_S = 50\,\%$")
    seeds = len(summary["seeds"])
    ax.set_title(f"{EXPERIMENT_LABEL}\nmean over {seeds} seed(s), bars: bootstrap ⊕ seed spread", fontsize=10)
    ax.legend(fontsize=9, frameon=False)
    ax.grid(True, which="both", alpha=0.3)
    return fig


def time_page(summary: Mapping[str, Any]):
    """CPU seconds to solution per method against the budget (every search trial included)."""
    fig, ax = plt.subplots(figsize=(8, 6))
    for method, info in summary["methods"].items():
        budgets = sorted(int(b) for b in info["budgets"])
        colour, marker = METHOD_STYLES.get(method, ("grey", "x"))
        ax.plot(budgets, [info["budgets"][str(b)]["cpu_seconds_mean"] for b in budgets], f"{marker}-",
                color=colour, label=method)
    ax.axhline(summary["baseline"]["cpu_seconds_mean"], color="black", ls="--", lw=1, label="baseline training")
    ax.set_yscale("log")
    ax.set_xlabel("budget [% of hidden nodes]")
    ax.set_ylabel("CPU seconds to solution")
    ax.legend(fontsize=9, frameon=False)
    ax.grid(True, which="both", alpha=0.3)
    return fig


def stability_page(summary: Mapping[str, Any]):
    """A table: per method and budget, rejection mean +- seed std, nodes per layer mean +- seed std, within 1 sigma."""
    lines = [f"{'method':<22}{'B%':>4}  {'1/eps_B (50%)':>18}  {'nodes per layer (mean ± seed std)':<40}{'1σ':>4}"]
    for method, info in summary["methods"].items():
        for budget in sorted(int(b) for b in info["budgets"]):
            p = info["budgets"][str(budget)]
            layers = " ".join(f"{m:.0f}±{s:.1f}" for m, s in zip(p["nodes_per_layer_mean"],
                                                                  p["nodes_per_layer_seed_std"], strict=True))
            rejection = f"{p['rejection_50_mean']:.0f} ± {p['rejection_50_seed_std']:.0f}"
            flag = "yes" if p["within_1sigma_of_baseline"] else "no"
            lines.append(f"{method:<22}{budget:>4}  {rejection:>18}  {layers:<40}{flag:>4}")
    base = summary["baseline"]
    lines.append(f"{'baseline':<22}{100:>4}  {base['rejection_50_mean']:>10.0f} ± {base['rejection_50_sigma']:.0f}")
    lines.append("")
    lines.append(f"smallest budget within 1σ of the baseline ({summary['headline_method']}): "
                 f"{summary['smallest_budget_within_1sigma']}")
    features = summary.get("feature_stability", [])
    if features:
        header = f"{'features kept':<16}{'seeds':>6}  {'Jaccard mean (min) over seed pairs':<36}kept by every seed"
        lines += ["", header]
        for f in features:
            overlap = ("undefined (one seed)" if f["n_seeds"] < 2
                       else f"{f['jaccard_mean_pairwise']:.2f} ({f['jaccard_min_pairwise']:.2f})")
            kept = " ".join(f["kept_by_every_seed"])
            lines.append(f"{f['features_kept']:<16}{f['n_seeds']:>6}  {overlap:<36}{kept[:60]}")
    fig, ax = plt.subplots(figsize=(11, max(4.0, 0.25 * len(lines) + 1)))
    ax.axis("off")
    ax.text(0.0, 1.0, "\n".join(lines), family="monospace", fontsize=8, va="top", transform=ax.transAxes)
    return fig


# --- file wrapper ---------------------------------------------------------------------------------------------


def write_comparison(
    entries: Sequence[Mapping[str, Any]],
    metrics_paths: Sequence[str],
    history_paths: Sequence[str],
    out_csv: str,
    out_pdf: str,
    out_json: str,
    ranking_paths: Sequence[str] = (),
    out_stability: str | None = None,
) -> dict[str, Any]:
    """Read every row's metrics and histories (``entries[i]["histories"]``: indices into ``history_paths``) and the
    seeds' feature rankings, write the table, the summary, the plots and the stability table; return the summary."""
    loaded = [load_history(p) for p in history_paths]
    histories = [[loaded[int(i)] for i in entry["histories"]] for entry in entries]
    ids = [Entry(str(e["method"]), int(e["budget"]), int(e["seed"])) for e in entries]
    rows = comparison_rows(ids, [load_metrics(p) for p in metrics_paths], histories)
    summary = summarise(rows)
    summary["feature_stability"] = feature_stability([load_history(p) for p in ranking_paths])
    write_csv_rows([{key: row[key] for key in COLUMNS} for row in rows], out_csv)
    if out_stability is not None:
        table = stability_rows(summary["methods"], summary["feature_stability"])
        write_csv_rows([{key: row[key] for key in STABILITY_COLUMNS} for row in table], out_stability)
    write_json(out_json, json_safe(summary))
    with hep_style():
        pages = [
            rejection_page(summary, "hidden_nodes_mean", "Hidden nodes kept"),
            rejection_page(summary, "multiplications_mean", "Multiplications (live products)"),
            time_page(summary),
            stability_page(summary),
        ]
        save_pages(pages, out_pdf)
    return summary
