"""ROC comparison plots (AutoPruner paper Figs. 2 and 3) and the per-model summary tables.

Every curve is background rejection 1/ε_B (log axis) against signal efficiency ε_S, with a 68 % bootstrap band. Ratio
panels divide each model by the baseline replica by replica: all models share the bootstrap replicas of the same test
candidates (`autopruner.evaluation.scores.bootstrap_rng`), so the ratio band is the paired uncertainty.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autopruner.evaluation import metrics
from autopruner.evaluation.scores import bootstrap_rng, read_scores
from autopruner.io_utils import CorruptInputError, atomic_output, require_file, write_csv_rows
from autopruner.plotting import hep_style, plt, save_pages

#: ε_S grid of the curves
EFF_GRID = np.round(np.linspace(0.10, 0.98, 89), 4)
#: working point of the last page and of the trade-off plots
REFERENCE_EFF = 0.5
KIND_COLOURS = {"baseline": "black", "pruned": "tab:orange", "retrained": "tab:green", "reduced": "tab:blue"}
KIND_LABELS = {"baseline": "original", "pruned": "pruned during training", "retrained": "pruned, retrained"}
EXPERIMENT_LABEL = r"Toy $H\to b\bar{b}$ vs QCD, √s = 14 TeV, $p_T>250$ GeV"


@dataclass(frozen=True)
class ModelRecord:
    """One evaluated model: what it is and where its metrics and scores lie."""

    kind: str  # baseline, pruned, retrained
    budget: int | None
    seed: int
    metrics_path: str
    scores_path: str

    @property
    def label(self) -> str:
        """Short unique name, e.g. ``budget50/pruned`` or ``seed1/baseline``."""
        base = "baseline" if self.budget is None else f"budget{self.budget}/{self.kind}"
        return base if self.seed is None else f"seed{self.seed}/{base}"


def records_from_models(
    models: Sequence[Mapping[str, Any]], primary_seed: int, metrics_paths: Sequence[str], scores_paths: Sequence[str]
) -> list[ModelRecord]:
    """Model records from the workflow's model list (seed, variant, kind) and its matching evaluation files.

    The primary seed's models get ``seed=None`` (they draw the curves); the variant ``budget{B}`` gives the budget.
    """
    records = []
    for model, metrics_path, scores_path in zip(models, metrics_paths, scores_paths, strict=True):
        variant, seed = model["variant"], int(model["seed"])
        budget = None if variant == "baseline" else int(variant.removeprefix("budget"))
        kind = "baseline" if variant == "baseline" else model["kind"]
        records.append(ModelRecord(kind, budget, None if seed == int(primary_seed) else seed, str(metrics_path),
                                   str(scores_path)))
    return records


@dataclass
class Curve:
    """Bootstrap rejection curve of one model."""

    record: ModelRecord
    boot: metrics.BootstrapResult
    metrics: dict


def load_metrics(path: str | os.PathLike) -> dict:
    """A ``metrics.json``; a broken file raises naming it."""
    p = require_file(path)
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise CorruptInputError(f"cannot parse metrics file {p}: {exc}") from exc


def build_curve(record: ModelRecord, cfg: dict[str, Any]) -> Curve:
    """Recompute the bootstrap rejection curve of a model from its scores (replicas paired across models)."""
    scores, labels, weights = read_scores(record.scores_path)
    boot = metrics.bootstrap_roc(
        scores, labels, weights, EFF_GRID, int(cfg["evaluation"]["bootstrap_replicas"]), bootstrap_rng(cfg)
    )
    return Curve(record, boot, load_metrics(record.metrics_path))


def curve_from_scores(scores, labels, weights, cfg: dict[str, Any]) -> Curve:
    """A bootstrap curve of in-memory scores (same paired replicas as the evaluated models)."""
    boot = metrics.bootstrap_roc(
        scores, labels, weights, EFF_GRID, int(cfg["evaluation"]["bootstrap_replicas"]), bootstrap_rng(cfg)
    )
    return Curve(None, boot, {"auc": boot.auc})


def _finite(values: np.ndarray) -> np.ndarray:
    """Replace inf (no background left) by NaN so matplotlib leaves a gap."""
    return np.where(np.isfinite(values), values, np.nan)


def new_rejection_page(title: str):
    """A figure with a rejection panel (1/ε_B against ε_S, log scale) on top and a ratio panel below."""
    fig, (ax, rax) = plt.subplots(
        2, 1, figsize=(8, 8), sharex=True, gridspec_kw={"height_ratios": [3, 1], "hspace": 0.05}
    )
    ax.set_yscale("log")
    ax.set_ylabel(r"Background rejection $1/\varepsilon_B$")
    rax.set_xlabel(r"Signal efficiency $\varepsilon_S$")
    rax.set_ylabel("Ratio to original")
    rax.axhline(1.0, color="black", lw=1, ls=":")
    ax.set_xlim(EFF_GRID[0], 1.0)
    ax.text(0.03, 0.05, f"{EXPERIMENT_LABEL}\n{title}", transform=ax.transAxes, fontsize=11, va="bottom")
    ax.grid(True, which="major", alpha=0.3)
    rax.grid(True, alpha=0.3)
    return fig, ax, rax


def draw_rejection(ax, rax, curve: Curve, reference: Curve, colour, label: str, linestyle: str = "-") -> None:
    """One model's rejection curve with its 68 % band, and its paired ratio to the reference."""
    boot = curve.boot
    central = _finite(boot.rejection)
    lo, hi = _finite(boot.rejection_band())
    auc = curve.metrics.get("auc", boot.auc)
    ax.plot(EFF_GRID, central, color=colour, ls=linestyle, lw=2, label=f"{label} (AUC {auc:.3f})")
    ax.fill_between(EFF_GRID, lo, hi, color=colour, alpha=0.25, lw=0)
    if curve is reference:
        rax.fill_between(EFF_GRID, lo / central, hi / central, color=colour, alpha=0.2, lw=0)
        return
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ratio_reps = _finite(boot.rejection_replicas) / _finite(reference.boot.rejection_replicas)
        ratio = central / _finite(reference.boot.rejection)
        rlo, rhi = np.nanquantile(ratio_reps, [0.16, 0.84], axis=0)
    rax.plot(EFF_GRID, ratio, color=colour, ls=linestyle, lw=2)
    rax.fill_between(EFF_GRID, rlo, rhi, color=colour, alpha=0.25, lw=0)


def finish_rejection_page(fig, ax, rax) -> None:
    """Legend and ratio range."""
    ax.legend(loc="upper right", fontsize=11, frameon=False)
    lo, hi = rax.get_ylim()
    rax.set_ylim(max(lo, 0.0), min(hi, 2.5))


def budget_page(baseline: Curve, pruned: Curve | None, retrained: Curve | None, budget: int):
    """Fig. 3 style: original (black), pruned during training (orange), retrained (green) for one budget."""
    fig, ax, rax = new_rejection_page(f"node budget {budget} %")
    draw_rejection(ax, rax, baseline, baseline, KIND_COLOURS["baseline"], KIND_LABELS["baseline"])
    for curve in (pruned, retrained):
        if curve is not None:
            kind = curve.record.kind
            draw_rejection(ax, rax, curve, baseline, KIND_COLOURS[kind], KIND_LABELS[kind])
    finish_rejection_page(fig, ax, rax)
    return fig


def overview_page(baseline: Curve, curves: Sequence[Curve], kind: str):
    """Fig. 2 style: the original and every budget's ``kind`` model, coloured by budget."""
    fig, ax, rax = new_rejection_page(f"{KIND_LABELS[kind]}, all budgets")
    draw_rejection(ax, rax, baseline, baseline, "black", KIND_LABELS["baseline"])
    cmap = plt.get_cmap("viridis")
    ordered = sorted(curves, key=lambda c: c.record.budget)
    for i, curve in enumerate(ordered):
        colour = cmap(i / max(len(ordered) - 1, 1) * 0.9)
        kept = curve.metrics.get("size", {}).get("hidden_nodes")
        nodes = f", {kept} nodes" if kept is not None else ""
        draw_rejection(ax, rax, curve, baseline, colour, f"budget {curve.record.budget} %{nodes}")
    finish_rejection_page(fig, ax, rax)
    return fig


def _rejection_at_reference(m: dict) -> tuple[float, float]:
    """(1/ε_B, σ) at ε_S = 50 % from a metrics dict (NaN where undefined)."""
    entry = m["rejection"].get(f"{REFERENCE_EFF:g}", {})
    value, err = entry.get("value"), entry.get("err")
    return (np.nan if value is None else value), (np.nan if err is None else err)


def nodes_page(metrics_by_record: Sequence[tuple[ModelRecord, dict]]):
    """Rejection at ε_S = 50 % against hidden nodes kept: pruned and retrained, seed spread as error bars."""
    fig, ax = plt.subplots(figsize=(8, 6))
    offsets = {"pruned": -0.01, "retrained": 0.01, "baseline": 0.0}
    for kind in ("baseline", "pruned", "retrained"):
        groups: dict[int | None, list[tuple[float, float, float]]] = {}
        for record, m in metrics_by_record:
            if record.kind == kind:
                value, err = _rejection_at_reference(m)
                groups.setdefault(record.budget, []).append((m["size"]["hidden_nodes"], value, err))
        if not groups:
            continue
        xs, ys, stat, spread = [], [], [], []
        for points in groups.values():
            arr = np.asarray(points, dtype=float)
            xs.append(arr[:, 0].mean())
            ys.append(np.nanmean(arr[:, 1]))
            stat.append(np.nanmean(arr[:, 2]))
            spread.append(np.nanstd(arr[:, 1], ddof=1) if len(arr) > 1 else 0.0)
            if len(arr) > 1:
                ax.scatter(
                    arr[:, 0] * (1 + offsets[kind]), arr[:, 1], s=12, color=KIND_COLOURS[kind], alpha=0.4
                )
        order = np.argsort(xs)
        xs, ys = np.asarray(xs)[order] * (1 + offsets[kind]), np.asarray(ys)[order]
        stat, spread = np.asarray(stat)[order], np.asarray(spread)[order]
        n_seeds = max(len(p) for p in groups.values())
        label = KIND_LABELS[kind] + (f" (mean of {n_seeds} seeds, bars: seed spread)" if n_seeds > 1 else "")
        if kind == "baseline":
            ax.axhline(ys[0], color="black", ls="--", lw=1)
        ax.errorbar(
            xs,
            ys,
            yerr=np.hypot(stat, spread),
            fmt="o-" if kind != "baseline" else "s",
            color=KIND_COLOURS[kind],
            capsize=3,
            label=label,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Hidden nodes kept")
    ax.set_ylabel(r"Background rejection $1/\varepsilon_B$ at $\varepsilon_S = 50\,\%$")
    ax.text(0.03, 0.95, EXPERIMENT_LABEL, transform=ax.transAxes, fontsize=11, va="top")
    ax.legend(loc="lower right", fontsize=11, frameon=False)
    ax.grid(True, which="both", alpha=0.3)
    return fig


def make_budget_pdf(
    baseline: ModelRecord, pruned: ModelRecord, retrained: ModelRecord, cfg: dict[str, Any], out_pdf
) -> None:
    """``results/budget{B}/roc.pdf``: one Fig. 3 style page."""
    with hep_style():
        curves = [build_curve(r, cfg) for r in (baseline, pruned, retrained)]
        save_pages([budget_page(*curves, budget=pruned.budget)], out_pdf)


def make_roc_all(records: Sequence[ModelRecord], cfg: dict[str, Any], out_pdf, out_csv, out_md) -> None:
    """``results/roc_all.pdf`` (all pruned, all retrained, one page per budget, rejection vs nodes) and summaries.

    Curves use the primary seed's models (records with ``seed=None``); the last page and the tables use every seed.
    """
    primary = [r for r in records if r.seed is None]
    baseline_rec = next(r for r in primary if r.kind == "baseline")
    budgets_sorted = sorted({r.budget for r in primary if r.budget is not None})
    with hep_style():
        curves = {r.label: build_curve(r, cfg) for r in primary}
        baseline = curves[baseline_rec.label]
        by_kind = {k: [c for c in curves.values() if c.record.kind == k] for k in ("pruned", "retrained")}
        pages = [
            overview_page(baseline, by_kind["pruned"], "pruned"),
            overview_page(baseline, by_kind["retrained"], "retrained"),
        ]
        for budget in budgets_sorted:
            pick = {c.record.kind: c for c in curves.values() if c.record.budget == budget}
            pages.append(budget_page(baseline, pick.get("pruned"), pick.get("retrained"), budget))
        all_metrics = [(r, load_metrics(r.metrics_path)) for r in records]
        pages.append(nodes_page(all_metrics))
        save_pages(pages, out_pdf)
    rows = summary_rows(all_metrics, cfg["evaluation"]["signal_efficiencies"])
    write_csv_rows(rows, out_csv)
    write_summary_md(rows, out_md)


def summary_rows(metrics_by_record: Sequence[tuple[ModelRecord, dict]], signal_efficiencies) -> list[dict]:
    """One flat row per model: identity, size and every performance number."""
    rows = []
    for record, m in metrics_by_record:
        size = m["size"]
        row = {
            "model": record.label,
            "kind": record.kind,
            "budget": "" if record.budget is None else record.budget,
            "seed": "" if record.seed is None else record.seed,
            "nodes_per_layer": "-".join(str(n) for n in size["nodes_per_layer"]),
            "hidden_nodes": size["hidden_nodes"],
            "weights": size["weights"],
            "multiplications": size["multiplications"],
            "auc": m["auc"],
            "auc_err": m["auc_err"],
        }
        for eff in signal_efficiencies:
            entry = m["rejection"][f"{eff:g}"]
            tag = f"{round(100 * eff)}"
            row[f"rejection_{tag}"] = entry["value"]
            row[f"rejection_{tag}_err"] = entry["err"]
        row["n_signal"], row["n_background"] = m["n_signal"], m["n_background"]
        rows.append(row)
    return rows


def _fmt(value, err=None, digits: int = 1) -> str:
    """``value ± err`` for the markdown table."""
    if value is None or value == "":
        return "–"
    if isinstance(value, float):
        text = f"{value:.{digits}f}"
        return text if err is None else f"{text} ± {err:.{digits}f}"
    return str(value)


def write_summary_md(rows: list[dict], path) -> None:
    """The summary as a markdown table: nodes, weights, multiplications, AUC and rejections ± bootstrap σ."""
    rej_tags = [
        k[len("rejection_") :] for k in rows[0] if k.startswith("rejection_") and not k.endswith("_err")
    ]
    header = ["model", "nodes per layer", "hidden nodes", "weights", "multiplications", "AUC"]
    header += [f"1/ε_B at ε_S={tag} %" for tag in rej_tags] + ["test S / B"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [
            row["model"],
            row["nodes_per_layer"],
            str(row["hidden_nodes"]),
            str(row["weights"]),
            str(row["multiplications"]),
            _fmt(row["auc"], row["auc_err"], 4),
        ]
        cells += [_fmt(row[f"rejection_{t}"], row[f"rejection_{t}_err"]) for t in rej_tags]
        cells.append(f"{row['n_signal']} / {row['n_background']}")
        lines.append("| " + " | ".join(cells) + " |")
    with atomic_output(path) as tmp:
        Path(tmp).write_text("\n".join(lines) + "\n")
