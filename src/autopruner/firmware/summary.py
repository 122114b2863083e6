"""Firmware trade-off summary: resources and latency against the node budget, beside the rejection at ε_S = 50 %."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from autopruner.evaluation.roc_plots import KIND_COLOURS
from autopruner.io_utils import CorruptInputError, atomic_output, require_file, write_csv_rows
from autopruner.plotting import hep_style, plt


@dataclass(frozen=True)
class HlsEntry:
    """One firmware model: name (``baseline``, ``budget50_reduced``...), its budget (100 for the baseline), files."""

    name: str
    kind: str
    budget: int
    synthesis_report: str
    emulation: str


def entries_from_models(
    models: Sequence[Mapping[str, str]], reports: Sequence[str], emulations: Sequence[str]
) -> list[HlsEntry]:
    """Firmware entries from the workflow's (variant, kind) list and its matching report and emulation files."""
    entries = []
    for model, report, emulation in zip(models, reports, emulations, strict=True):
        variant, kind = model["variant"], model["kind"]
        baseline = variant == "baseline"
        entries.append(HlsEntry(
            "baseline" if baseline else f"{variant}_{kind}",
            "baseline" if baseline else kind,
            100 if baseline else int(variant.removeprefix("budget")),
            str(report),
            str(emulation),
        ))
    return entries


def _read_json(path) -> dict:
    """A JSON file; a broken one raises naming it."""
    p = require_file(path)
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise CorruptInputError(f"cannot parse {p}: {exc}") from exc


def summary_rows(entries: Sequence[HlsEntry]) -> list[dict]:
    """One row per firmware model: resources, latency, float and fixed-point AUC and rejection."""
    rows = []
    for e in entries:
        rep, emu = _read_json(e.synthesis_report), _read_json(e.emulation)
        rows.append(
            {
                "model": e.name,
                "kind": e.kind,
                "budget": e.budget,
                "DSP": rep["DSP"],
                "LUT": rep["LUT"],
                "FF": rep["FF"],
                "BRAM_18K": rep["BRAM_18K"],
                "latency_cycles": rep["latency_cycles_max"],
                "latency_ns": rep["latency_ns"],
                "interval": rep["interval"],
                "source": rep["source"],
                "auc_float": emu["float"]["auc"],
                "auc_fixed": emu["fixed"]["auc"],
                "auc_loss": emu["auc_loss"],
                "rejection_50_float": emu["float"]["rejection_50"],
                "rejection_50_fixed": emu["fixed"]["rejection_50"],
                "rejection_50_fixed_err": emu["fixed"]["rejection_50_err"],
                "max_abs_delta_score": emu["max_abs_delta_score"],
            }
        )
    return rows


def write_pdf(rows: list[dict], path) -> None:
    """Four panels: DSP, LUT/FF and latency against the budget; rejection at ε_S = 50 % against DSPs."""
    styles = {
        "baseline": ("s", "original"),
        "reduced": ("o", "pruned (reduced)"),
        "retrained": ("^", "retrained"),
    }
    with hep_style():
        fig, axes = plt.subplots(2, 2, figsize=(15, 12), layout="constrained")
        (a_dsp, a_lut), (a_lat, a_tradeoff) = axes
        source = ", ".join(sorted({r["source"] for r in rows}))
        for kind, (marker, label) in styles.items():
            sel = sorted((r for r in rows if r["kind"] == kind), key=lambda r: r["budget"])
            if not sel:
                continue
            x = np.array([r["budget"] for r in sel], dtype=float)
            colour = KIND_COLOURS[kind]
            a_dsp.plot(x, [r["DSP"] for r in sel], marker=marker, color=colour, label=label)
            a_lut.plot(x, [r["LUT"] for r in sel], marker=marker, color=colour, label=f"LUT, {label}")
            a_lut.plot(x, [r["FF"] for r in sel], marker=marker, color=colour, ls="--", label=f"FF, {label}")
            a_lat.plot(x, [r["latency_ns"] for r in sel], marker=marker, color=colour, label=label)
            a_tradeoff.errorbar(
                [r["DSP"] for r in sel],
                [r["rejection_50_fixed"] for r in sel],
                yerr=[r["rejection_50_fixed_err"] for r in sel],
                fmt=marker,
                color=colour,
                capsize=3,
                label=f"{label}, fixed point",
            )
            a_tradeoff.scatter(
                [r["DSP"] for r in sel],
                [r["rejection_50_float"] for r in sel],
                marker=marker,
                facecolors="none",
                edgecolors=colour,
                label=f"{label}, float",
            )
            for r in sel:
                a_tradeoff.annotate(
                    f"{r['budget']} %",
                    (r["DSP"], r["rejection_50_fixed"]),
                    fontsize=9,
                    xytext=(4, 4),
                    textcoords="offset points",
                )
        for ax, ylabel in ((a_dsp, "DSP"), (a_lut, "LUT, FF"), (a_lat, "Latency [ns]")):
            ax.set_xlabel("Hidden nodes kept [% of all; original = 100]")
            ax.set_ylabel(ylabel)
            ax.grid(True, alpha=0.3)
            ax.legend(frameon=False, fontsize=10)
        a_dsp.set_yscale("log")
        a_lut.set_yscale("log")
        a_tradeoff.set_xscale("log")
        a_tradeoff.set_yscale("log")
        a_tradeoff.set_xlabel("DSP")
        a_tradeoff.set_ylabel(r"$1/\varepsilon_B$ at $\varepsilon_S = 50\,\%$")
        a_tradeoff.grid(True, which="both", alpha=0.3)
        a_tradeoff.legend(frameon=False, fontsize=9)
        rf = rows[0].get("interval")
        origin = "ESTIMATE (no vendor HLS tool)" if source == "estimate" else source
        fig.suptitle(f"hls4ml firmware — resources and latency: {origin}; interval {rf} clock(s)", fontsize=15)
        with atomic_output(path) as tmp:
            fig.savefig(tmp, bbox_inches="tight")
        plt.close(fig)


def make_hls_summary(entries: Sequence[HlsEntry], out_csv, out_pdf) -> list[dict]:
    """``results/hls_summary.csv`` and ``results/hls_summary.pdf``."""
    rows = summary_rows(entries)
    write_csv_rows(rows, out_csv)
    write_pdf(rows, out_pdf)
    return rows
