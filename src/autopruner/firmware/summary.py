"""Firmware trade-off summary: per model and implementation, resources and latency beside the emulated rejection.

Three implementations of every network, each with its own source of numbers, never mixed:

* ``hls4ml``: the hls4ml project (Latency strategy) — the calibrated DSP/LUT formula (``"estimate"``) or a vendor
  C-synthesis report; its rejection from hls4ml's bit-accurate emulation;
* ``da4ml``: the distributed-arithmetic design — da4ml's own estimate (``"da4ml <version> estimate"``);
* ``yosys``: the same design after ``yosys synth_xilinx`` (``"yosys <version> synth_xilinx (no place and route)"``),
  or a skipped row (no numbers) where the design was too large or no tool was configured;
* with ``firmware.quantization: hgq`` also ``da4ml_hgq2`` and ``yosys_hgq2``: the DA design of the network after
  HGQ2 quantization-aware fine-tuning (`autopruner.firmware.hgq`), with the same sources as ``da4ml``/``yosys``
  but rows of their own, never mixed with the post-training ones.

Both DA rows take their rejection from the DA design itself (da4ml's bit-exact interpreter). LUT-equivalents are
LUT + 55·DSP, the resource unit of the HGQ papers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from autopruner.evaluation.comparison import METHOD_STYLES
from autopruner.evaluation.roc_plots import KIND_COLOURS
from autopruner.io_utils import CorruptInputError, require_file, write_csv_rows
from autopruner.plotting import hep_style, plt, save_pages

#: LUTs one DSP counts for in LUT-equivalents
LUT_PER_DSP = 55
IMPLEMENTATIONS = ("hls4ml", "da4ml", "yosys", "da4ml_hgq2", "yosys_hgq2")
#: the implementation whose source rules a report's ``source`` (the HGQ2 designs come from the same tools)
SOURCE_OF = {"hls4ml": "hls4ml", "da4ml": "da4ml", "yosys": "yosys", "da4ml_hgq2": "da4ml", "yosys_hgq2": "yosys"}
_STYLE = {"hls4ml": ("tab:red", "hls4ml Latency"), "da4ml": ("tab:blue", "DA, da4ml estimate"),
          "yosys": ("tab:green", "DA, Yosys synth_xilinx"),
          "da4ml_hgq2": ("tab:purple", "DA + HGQ2 bits, da4ml estimate"),
          "yosys_hgq2": ("tab:olive", "DA + HGQ2 bits, Yosys synth_xilinx")}
#: per-model file kinds of the workflow's summary inputs; the hgq ones only with firmware.quantization hgq
FILE_KEYS = ("reports", "emulations", "da_reports", "da_emulations", "yosys_reports")
HGQ_FILE_KEYS = ("hgq_da_reports", "hgq_da_emulations", "hgq_yosys_reports")
#: a marker per kind of network: the AutoPruner's, and the compared methods' (firmware.methods), whose kind is the
#: method's name
_MARKERS = {"baseline": "s", "reduced": "o", "retrained": "^", "magnitude": "v", "uniform": "<", "search": "D",
            "pquant": "P"}
#: the AutoPruner's kinds: the headline (issue 12's targets) is about its networks only
AUTOPRUNER_KINDS = ("baseline", "reduced", "retrained")


def _edge_colour(kind: str, default: str) -> str:
    """The marker edge colour of a kind: the ROC plots' colour of an AutoPruner kind, the comparison's of a method."""
    if kind in KIND_COLOURS:
        return KIND_COLOURS[kind]
    return METHOD_STYLES.get(kind, (default,))[0]


@dataclass(frozen=True)
class HlsEntry:
    """One firmware model: name (``baseline``, ``budget50_reduced``, ``budget5_magnitude``...), its kind (a compared
    method's network has the method's name), its budget (100 for the baseline), files."""

    name: str
    kind: str
    budget: int
    synthesis_report: str
    emulation: str
    da_report: str
    da_emulation: str
    yosys_report: str
    hgq_da_report: str | None = None
    hgq_da_emulation: str | None = None
    hgq_yosys_report: str | None = None


def entries_from_models(models: Sequence[Mapping[str, str]], files: Mapping[str, Sequence[str]]) -> list[HlsEntry]:
    """Firmware entries from the workflow's (variant, kind) list and, per file kind, the matching files (the HGQ2
    designs' only where ``files`` has them)."""
    entries = []
    hgq = all(key in files for key in HGQ_FILE_KEYS)
    for n, model in enumerate(models):
        variant, kind = model["variant"], model["kind"]
        baseline = variant == "baseline"
        entries.append(HlsEntry(
            "baseline" if baseline else f"{variant}_{kind}",
            "baseline" if baseline else kind,
            100 if baseline else int(variant.removeprefix("budget")),
            *(str(files[key][n]) for key in FILE_KEYS),
            *((str(files[key][n]) for key in HGQ_FILE_KEYS) if hgq else ()),
        ))
    return entries


def _read_json(path) -> dict:
    """A JSON file; a broken one raises naming it."""
    p = require_file(path)
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise CorruptInputError(f"cannot parse {p}: {exc}") from exc


def check_source(implementation: str, source: str | None) -> None:
    """Refuse a report whose source does not belong to its implementation (an estimate is never synthesis)."""
    ok = {
        "hls4ml": source is not None and not source.startswith(("da4ml", "yosys")),
        "da4ml": source is not None and source.startswith("da4ml ") and source.endswith(" estimate"),
        "yosys": source is None or (source.startswith("yosys ") and "synth_xilinx" in source),
    }[SOURCE_OF[implementation]]
    if not ok:
        raise CorruptInputError(f"a {implementation} report cannot have the source {source!r}")


def lut_equivalents(lut, dsp) -> float | None:
    """LUT + 55·DSP, or None without numbers."""
    if lut is None or dsp is None:
        return None
    return float(lut) + LUT_PER_DSP * float(dsp)


def network_products(synthesis_report: Mapping) -> int | None:
    """The non-zero products (quantized weights between live nodes) of the post-training fixed-point network, summed
    over the layers of its hls4ml report; None where the report does not list them (a vendor report)."""
    layers = synthesis_report.get("layers")
    if not layers or any("products" not in layer for layer in layers):
        return None
    return int(sum(layer["products"] for layer in layers))


def _row(entry: HlsEntry, implementation: str, report: dict, emulation: dict, scores_key: str,
         products: int | None = None) -> dict:
    """One CSV row: resources of one implementation, rejection of the firmware it emulates, and the products of the
    network it implements where they are known."""
    source = report.get("source")
    check_source(implementation, source)
    done = report.get("status", "done") == "done"
    firmware = emulation[scores_key]
    return {
        "model": entry.name,
        "kind": entry.kind,
        "budget": entry.budget,
        "implementation": implementation,
        "status": "done" if done else "skipped",
        "source": source or "",
        "reason": report.get("reason", ""),
        "LUT": report.get("LUT"),
        "FF": report.get("FF"),
        "DSP": report.get("DSP"),
        "CARRY": report.get("CARRY"),
        "products": products,
        "lut_equivalents": lut_equivalents(report.get("LUT"), report.get("DSP")) if done else None,
        "latency_cycles": report.get("latency_cycles", report.get("latency_cycles_max")) if done else None,
        "latency_ns": report.get("latency_ns") if done else None,
        "auc_float": emulation["float"]["auc"],
        "auc_firmware": firmware["auc"],
        "rejection_50_float": emulation["float"]["rejection_50"],
        "rejection_50_firmware": firmware["rejection_50"],
        "rejection_50_firmware_err": firmware["rejection_50_err"],
        "input_quantization_auc_cost": emulation.get("input_quantization", {}).get("auc_cost"),
    }


def summary_rows(entries: Sequence[HlsEntry]) -> list[dict]:
    """Three rows per firmware model: hls4ml, DA (da4ml estimate), DA (Yosys or skipped); with the HGQ2 designs two
    more: DA + HGQ2 (da4ml estimate), DA + HGQ2 (Yosys or skipped). The three post-training rows implement the same
    fixed-point network and carry its products (`network_products`); the HGQ2 rows, whose bit widths zero other
    weights, carry none."""
    rows = []
    for e in entries:
        emulation, da_emulation = _read_json(e.emulation), _read_json(e.da_emulation)
        synthesis_report = _read_json(e.synthesis_report)
        products = network_products(synthesis_report)
        rows.append(_row(e, "hls4ml", synthesis_report, emulation, "fixed", products))
        rows.append(_row(e, "da4ml", _read_json(e.da_report), da_emulation, "fixed", products))
        rows.append(_row(e, "yosys", _read_json(e.yosys_report), da_emulation, "fixed", products))
        if e.hgq_da_report is not None:
            hgq_emulation = _read_json(e.hgq_da_emulation)
            rows.append(_row(e, "da4ml_hgq2", _read_json(e.hgq_da_report), hgq_emulation, "fixed"))
            rows.append(_row(e, "yosys_hgq2", _read_json(e.hgq_yosys_report), hgq_emulation, "fixed"))
    return rows


#: issue 12's targets for the best compressed network (AutoPruner structure + HGQ2 bits)
TARGETS = {"lut_equivalents_fraction": 0.05, "latency_cycles": 10, "DSP": 0, "rejection_fraction": 0.85}


def _hgq_designs(rows: Sequence[dict]) -> list[dict]:
    """Per AutoPruner model the HGQ2 design's row with the best numbers there are: Yosys where it ran, else da4ml's
    estimate."""
    designs = {}
    for r in rows:
        if (r["implementation"] in ("da4ml_hgq2", "yosys_hgq2") and r["status"] == "done"
                and r["kind"] in AUTOPRUNER_KINDS):
            if r["model"] not in designs or r["implementation"] == "yosys_hgq2":
                designs[r["model"]] = r
    return list(designs.values())


def headline(rows: Sequence[dict]) -> dict | None:
    """The best compressed AutoPruner network against the targets, or None without HGQ2 rows (the compared
    methods' networks, with firmware.methods, are not candidates: the targets are the AutoPruner's).

    The reference is the baseline's hls4ml row (LUT-equivalents) and its float network's rejection at ε_S = 50 %.
    "Best" is the smallest design (LUT-equivalents) whose rejection is within 15 % of that; if none is, the smallest.
    """
    designs = _hgq_designs(rows)
    reference = next((r for r in rows if r["model"] == "baseline" and r["implementation"] == "hls4ml"), None)
    if not designs or reference is None or reference["lut_equivalents"] is None:
        return None
    lut_ref, rejection_ref = reference["lut_equivalents"], reference["rejection_50_float"]
    good = [r for r in designs if r["rejection_50_firmware"] >= TARGETS["rejection_fraction"] * rejection_ref]
    best = min(good or designs, key=lambda r: r["lut_equivalents"])
    fraction = best["lut_equivalents"] / lut_ref
    ratio = best["rejection_50_firmware"] / rejection_ref
    return {
        "model": best["model"],
        "implementation": best["implementation"],
        "source": best["source"],
        "lut_equivalents": best["lut_equivalents"],
        "baseline_lut_equivalents": lut_ref,
        "baseline_source": reference["source"],
        "lut_equivalents_fraction": fraction,
        "latency_cycles": best["latency_cycles"],
        "DSP": best["DSP"],
        "rejection_50": best["rejection_50_firmware"],
        "rejection_50_err": best["rejection_50_firmware_err"],
        "baseline_float_rejection_50": rejection_ref,
        "rejection_fraction": ratio,
        "targets_met": {
            "lut_equivalents": fraction <= TARGETS["lut_equivalents_fraction"],
            "latency": best["latency_cycles"] is not None and best["latency_cycles"] <= TARGETS["latency_cycles"],
            "DSP": best["DSP"] is not None and float(best["DSP"]) == TARGETS["DSP"],
            "rejection": ratio >= TARGETS["rejection_fraction"],
        },
    }


def pareto_front(rows: Sequence[Mapping]) -> list[Mapping]:
    """The rows that no cheaper row beats, cheapest first: each has a higher rejection at ε_S = 50 % than every row
    with fewer LUT-equivalents (ties in cost keep the better one).

    The trade-off curve goes through these, so it reads as the best rejection that so many LUTs bought. A line
    through every row zigzags between the reduced and retrained networks of neighbouring budgets, whose costs are
    close and whose rejections differ by their statistical errors.
    """
    front: list[Mapping] = []
    best = -np.inf
    for row in sorted(rows, key=lambda r: (r["lut_equivalents"], -r["rejection_50_firmware"])):
        if row["rejection_50_firmware"] > best:
            front.append(row)
            best = row["rejection_50_firmware"]
    return front


def _tradeoff_page(rows: list[dict]):
    """Rejection at ε_S = 50 % against LUT-equivalents: a marker per model and implementation, and per
    implementation a step line along its Pareto front (`pareto_front`); each model on a front is named once."""
    fig, ax = plt.subplots(figsize=(10, 7.5), layout="constrained")
    named: set[str] = set()
    for implementation in IMPLEMENTATIONS:
        colour, label = _STYLE[implementation]
        sel = [r for r in rows if r["implementation"] == implementation and r["status"] == "done"]
        if not sel:
            continue
        sources = sorted({r["source"] for r in sel})
        front = pareto_front(sel)
        ax.step([r["lut_equivalents"] for r in front], [r["rejection_50_firmware"] for r in front], where="post",
                color=colour, alpha=0.6, label=f"{label} [{'; '.join(sources)}], Pareto front")
        for r in sel:
            ax.errorbar(r["lut_equivalents"], r["rejection_50_firmware"], yerr=r["rejection_50_firmware_err"],
                        fmt=_MARKERS.get(r["kind"], "o"), color=colour, mec=_edge_colour(r["kind"], colour),
                        capsize=3)
        for r in (r for r in front if r["model"] not in named):
            named.add(r["model"])
            ax.annotate(r["model"], (r["lut_equivalents"], r["rejection_50_firmware"]), fontsize=7,
                        xytext=(4, 4), textcoords="offset points")
    present = {r["kind"] for r in rows}
    for kind, marker in _MARKERS.items():
        if kind in present:
            ax.plot([], [], marker, color="grey", mec=_edge_colour(kind, "grey"), label=kind)
    ax.set_xscale("log")
    ax.set_xlabel(f"LUT-equivalents (LUT + {LUT_PER_DSP}·DSP)")
    ax.set_ylabel(r"$1/\varepsilon_B$ at $\varepsilon_S = 50\,\%$ (emulated firmware)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("Firmware trade-off: no place and route anywhere; estimates are marked as such", fontsize=11)
    return fig


def _resources_page(rows: list[dict]):
    """LUT-equivalents and latency against the budget, per implementation and kind."""
    fig, (a_lut, a_lat) = plt.subplots(1, 2, figsize=(15, 7.5), layout="constrained")
    for implementation in IMPLEMENTATIONS:
        colour, label = _STYLE[implementation]
        for kind, marker in _MARKERS.items():
            sel = sorted((r for r in rows if r["implementation"] == implementation and r["kind"] == kind
                          and r["status"] == "done"), key=lambda r: r["budget"])
            if not sel:
                continue
            x = np.array([r["budget"] for r in sel], dtype=float)
            a_lut.plot(x, [r["lut_equivalents"] for r in sel], marker=marker, color=colour, label=f"{label}, {kind}")
            a_lat.plot(x, [r["latency_ns"] for r in sel], marker=marker, color=colour, label=f"{label}, {kind}")
    for ax, ylabel in ((a_lut, f"LUT + {LUT_PER_DSP}·DSP"), (a_lat, "Latency [ns]")):
        ax.set_xlabel("Hidden nodes kept [% of all; original = 100]")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
    a_lut.set_yscale("log")
    # one legend for both panels, below them: with the compared methods' kinds it has up to 7 entries per
    # implementation, more than fit inside a panel without hiding the curves
    handles, labels = a_lut.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=min(len(handles), 5), frameon=False, fontsize=8)
    return fig


def write_pdf(rows: list[dict], path) -> None:
    """Page 1: the trade-off plot; page 2: resources and latency against the budget."""
    with hep_style():
        save_pages([_tradeoff_page(rows), _resources_page(rows)], path)


def make_hls_summary(entries: Sequence[HlsEntry], out_csv, out_pdf) -> list[dict]:
    """``results/hls_summary.csv`` and ``results/hls_summary.pdf``."""
    rows = summary_rows(entries)
    write_csv_rows(rows, out_csv)
    write_pdf(rows, out_pdf)
    return rows
