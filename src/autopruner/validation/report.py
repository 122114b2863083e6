"""The toy-vs-Pythia validation report: feature distances, heavy-flavour content, candidates per event, and the
transfer test of the tagger (k-fold pooled, `autopruner.validation.crossval`), written as ``toy_vs_pythia.json`` and
``toy_vs_pythia.pdf``.

Both generators' events went through the same detector, the same reconstruction and the same IP templates, so
every difference here is a difference of the generators.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autopruner.dataset.merge import open_candidates_tree
from autopruner.dataset.plots import axis_label, sum_cutflows
from autopruner.io_utils import CorruptInputError, require_file, write_json
from autopruner.plotting import hep_style, open_pdf, plt
from autopruner.schema import FEATURE_NAMES, FLAVOUR_B, FLAVOUR_C
from autopruner.validation.distances import common_binning, compare_feature

GENERATORS = ("toy", "pythia8")
GENERATOR_LABELS = {"toy": "toy generator", "pythia8": "Pythia 8"}
PROCESS_OF_LABEL = {1: "hbb", 0: "qcd"}
PROCESS_LABELS = {"hbb": r"$H\to b\bar{b}$", "qcd": "QCD multijet"}
#: the issue's pass mark for a feature: noise-subtracted JS distance below this in both processes
JS_EXCESS_TARGET = 0.1
#: spawn key of the floor's random splits (independent of every other stream)
FLOOR_STREAM = 11
COLUMNS = (*FEATURE_NAMES, "label", "weight", "tj1_flavour")
#: what the transfer test's numbers are, written into the JSON beside them
R50_ERRORS = (
    "r50: 1/eps_B at eps_S = 50 % of the k-fold pooled out-of-fold scores (every candidate of the tested sample scored "
    "once, by the fold model that did not train on it; toy_on_pythia: Pythia fold i by the toy fold-i model). "
    "r50_err: bootstrap std of those pooled scores (test-sample statistics, the k models held fixed). "
    "r50_folds: the k per-fold values (1/k of the candidates each, each its own model), their mean, std and "
    "sem = std/sqrt(k); the std shows the model-to-model variation plus the statistics of 1/k of the sample. "
    "r50_models (toy_on_pythia only): each toy fold model's value on the whole Pythia sample, which none trained on; "
    "their std is the model-to-model variation alone. transfer_err: the two pooled bootstrap errors in quadrature."
)


def read_candidates(dataset_path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every candidate of a dataset file (all splits): the features, label, generator weight, tj1 flavour."""
    path = require_file(dataset_path)
    tree = open_candidates_tree(path)
    try:
        return {name: np.asarray(tree[name].array(library="np")) for name in COLUMNS}
    except Exception as exc:
        raise CorruptInputError(f"cannot read candidates of {path}: {exc}") from exc


def by_process(candidates: Mapping[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """The candidates split into signal (hbb) and background (qcd)."""
    out = {}
    for label, process in PROCESS_OF_LABEL.items():
        keep = candidates["label"] == label
        out[process] = {name: values[keep] for name, values in candidates.items()}
    return out


def feature_distances(toy: Mapping[str, Mapping[str, np.ndarray]], pythia: Mapping[str, Mapping[str, np.ndarray]],
                      seed: int, feature_names: Sequence[str] = FEATURE_NAMES
                      ) -> dict[str, dict[str, dict[str, float]]]:
    """{feature: {process: {js, js_floor, js_excess}}} between the toy and Pythia samples."""
    result: dict[str, dict[str, dict[str, float]]] = {}
    for i, feature in enumerate(feature_names):
        result[feature] = {}
        for j, process in enumerate(PROCESS_OF_LABEL.values()):
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(FLOOR_STREAM, i, j)))
            a, b = toy[process], pythia[process]
            result[feature][process] = compare_feature(a[feature], b[feature], a["weight"], b["weight"], rng)
    return result


def passing_features(distances: Mapping[str, Mapping[str, Mapping[str, float]]]) -> list[str]:
    """Features whose noise-subtracted distance is below the target in every process."""
    return [f for f, per_process in distances.items()
            if all(entry["js_excess"] < JS_EXCESS_TARGET for entry in per_process.values())]


def heavy_flavour_fraction(background: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Weighted shares of background candidates whose leading track jet is b- or c-labelled, and their sum."""
    w = background["weight"].astype(np.float64)
    flavour = background["tj1_flavour"]
    total = w.sum()
    b, c = w[flavour == FLAVOUR_B].sum() / total, w[flavour == FLAVOUR_C].sum() / total
    return {"b": float(b), "c": float(c), "b_or_c": float(b + c)}


def candidates_per_event(cutflow_jsons: Sequence[str | os.PathLike]) -> dict[str, float]:
    """Candidates per generated event, per process, from the shards' cut flows."""
    totals = sum_cutflows(cutflow_jsons)
    return {process: steps["candidates"] / steps["events"] for process, steps in totals.items() if steps["events"]}


def transfer_case(metrics_json: str | os.PathLike) -> dict[str, Any]:
    """AUC and rejection at ε_S = 50 % of one transfer case from its pooled k-fold ``metrics.json``
    (`autopruner.validation.crossval`): the pooled values with their bootstrap errors, the per-fold spread and, on
    the other generator's sample, each fold model's value on the whole sample (None on the model's own)."""
    path = require_file(metrics_json)
    try:
        metrics = json.loads(Path(path).read_text())
        pooled, folds = metrics["rejection"]["0.5"], metrics["folds"]
        per_fold = folds["rejection"]["0.5"]
        per_model = metrics.get("models_on_whole_sample")  # only where the models never saw the tested sample
        return {
            "auc": metrics["auc"],
            "auc_err": metrics["auc_err"],
            "value": pooled["value"],
            "err": pooled["err"],
            "folds": {"n_folds": int(folds["n_folds"]),
                      **{key: per_fold[key] for key in ("values", "err", "mean", "std", "sem")}},
            "models": None if per_model is None else {
                key: per_model["rejection"]["0.5"][key] for key in ("values", "err", "mean", "std", "sem")},
            "n_signal": int(metrics["n_signal"]),
            "n_background": int(metrics["n_background"]),
        }
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CorruptInputError(f"no pooled k-fold rejection at 0.5 in {path}: {exc}") from exc


def _ratio_with_error(num: Mapping[str, Any], den: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """num/den and its error from the two bootstrap errors in quadrature (independent test candidates)."""
    a, b, da, db = num["value"], den["value"], num["err"], den["err"]
    if a is None or b in (None, 0):
        return None, None
    ratio = float(a / b)
    if da is None or db is None or a == 0:
        return ratio, None
    return ratio, ratio * float(np.hypot(da / a, db / b))


#: the issue's two ratios: toy-on-toy over Pythia-on-Pythia, and toy-on-Pythia over toy-on-toy
TRANSFER_RATIOS = {"toy_over_pythia": ("toy_on_toy", "pythia_on_pythia"),
                   "toy_on_pythia_over_toy_on_toy": ("toy_on_pythia", "toy_on_toy")}


def transfer_summary(r50: Mapping[str, Mapping[str, Any]]) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """The issue's two ratios of rejections at ε_S = 50 %, and their errors.

    Each error combines the two pooled bootstrap errors in quadrature: the test candidates of the two cases are
    independent (different generators), while the training fluctuations they share (toy on toy and toy on Pythia use
    the same toy models) are not counted.
    """
    values, errors = {}, {}
    for name, (num, den) in TRANSFER_RATIOS.items():
        values[name], errors[name] = _ratio_with_error(r50[num], r50[den])
    return values, errors


def overlay_page(feature: str, toy: Mapping[str, Mapping[str, np.ndarray]],
                 pythia: Mapping[str, Mapping[str, np.ndarray]], distances: Mapping[str, Mapping[str, float]]):
    """One feature: normalised toy and Pythia distributions per process, and the toy/Pythia ratio below."""
    fig, axes = plt.subplots(2, 2, figsize=(13, 7), sharex="col", gridspec_kw={"height_ratios": [3, 1], "hspace": 0.05})
    for col, process in enumerate(PROCESS_OF_LABEL.values()):
        ax, rax = axes[0, col], axes[1, col]
        a, b = toy[process], pythia[process]
        binning = common_binning(a[feature], b[feature], n_bins=30)
        h_toy = binning.histogram(a[feature], a["weight"])
        h_py = binning.histogram(b[feature], b["weight"])
        n_toy, n_py = h_toy.sum(), h_py.sum()
        x = np.arange(h_toy.size)
        for hist, n, colour, label in ((h_toy, n_toy, "tab:blue", GENERATOR_LABELS["toy"]),
                                       (h_py, n_py, "black", GENERATOR_LABELS["pythia8"])):
            ax.errorbar(x, hist / n, yerr=np.sqrt(hist) / n, drawstyle="steps-mid", color=colour, label=label)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (h_toy / n_toy) / (h_py / n_py)
            err = ratio * np.sqrt(1.0 / h_toy + 1.0 / h_py)
        rax.errorbar(x, ratio, yerr=err, fmt="o", ms=3, color="tab:blue")
        rax.axhline(1.0, color="black", ls=":")
        rax.set_ylim(0.0, 2.0)
        rax.set_ylabel("toy / Pythia")
        rax.set_xlabel(f"{axis_label(feature)}: bin (exact default values first, then equal-population bins)")
        d = distances[process]
        ax.set_title(f"{PROCESS_LABELS[process]}: JS {d['js']:.3f}, floor {d['js_floor']:.3f}, "
                     f"excess {d['js_excess']:.3f}", fontsize=11)
        ax.set_ylabel("Fraction of candidates / bin")
        ax.legend(frameon=False, fontsize=10)
    return fig


def summary_page(result: Mapping[str, Any]):
    """Noise-subtracted JS distance of every feature in both processes against the 0.1 target."""
    features = list(result["features"])
    fig, ax = plt.subplots(figsize=(9, 12))
    y = np.arange(len(features))
    for offset, process, colour in ((-0.2, "hbb", "tab:red"), (0.2, "qcd", "tab:blue")):
        values = [result["features"][f][process]["js_excess"] for f in features]
        ax.barh(y + offset, values, height=0.4, color=colour, label=PROCESS_LABELS[process])
    ax.axvline(JS_EXCESS_TARGET, color="black", ls="--", label=f"target {JS_EXCESS_TARGET}")
    ax.set_yticks(y, features, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(r"noise-subtracted JS distance $\sqrt{JS^2 - JS_{floor}^2}$ (toy vs Pythia 8)")
    hf = result["hf_fraction_qcd"]
    ax.set_title(f"{result['n_features_js_excess_below_0p1']} of {len(features)} features below target; "
                 f"QCD heavy flavour: toy {hf['toy']:.3f}, Pythia {hf['pythia']:.3f}", fontsize=10)
    ax.legend(frameon=False, loc="lower right")
    return fig


def transfer_page(result: Mapping[str, Any]):
    """Rejection at ε_S = 50 % per transfer case: the pooled k-fold value with its bootstrap error, and each fold's
    value with its own, so the fold-to-fold spread is seen beside the pooled error."""
    cases = list(result["r50"])
    fig, ax = plt.subplots(figsize=(9, 5))
    for row, case in enumerate(cases):
        value, err = result["r50"][case], result["r50_err"][case]
        if value is not None:
            ax.errorbar(value, row, xerr=err or 0.0, fmt="s", ms=8, color="black", capsize=4,
                        label="pooled (bootstrap error)" if row == 0 else None)
        folds = result["r50_folds"][case]
        per_fold = [(v, e) for v, e in zip(folds["values"], folds["err"], strict=True) if v is not None]
        offsets = np.linspace(-0.25, 0.25, len(per_fold)) if len(per_fold) > 1 else np.zeros(len(per_fold))
        for (v, e), dy in zip(per_fold, offsets, strict=True):
            ax.errorbar(v, row + dy, xerr=e or 0.0, fmt="o", ms=4, color="tab:blue", alpha=0.7,
                        label="one fold (bootstrap error)" if row == 0 and dy == offsets[0] else None)
        models = result["r50_models"].get(case)
        if models is not None:
            values = [v for v in models["values"] if v is not None]
            ax.plot(values, np.full(len(values), row + 0.35), "x", ms=7, color="tab:red",
                    label="one fold model on the whole sample")
    ax.set_yticks(range(len(cases)), [c.replace("_", " ") for c in cases])
    ax.invert_yaxis()
    ax.set_xlabel(r"baseline $1/\varepsilon_B$ at $\varepsilon_S = 50\,\%$")
    n_folds = next(iter(result["r50_folds"].values()))["n_folds"]
    ratios = result["transfer"]
    ax.set_title(f"{n_folds}-fold transfer test: toy/Pythia {_format_ratio(ratios, result, 'toy_over_pythia')}, "
                 f"toy on Pythia/toy {_format_ratio(ratios, result, 'toy_on_pythia_over_toy_on_toy')}",
                 fontsize=10)
    ax.legend(frameon=False, fontsize=9)
    return fig


def _format_ratio(ratios: Mapping[str, float | None], result: Mapping[str, Any], name: str) -> str:
    value, err = ratios[name], result["transfer_err"][name]
    if value is None:
        return "undefined"
    return f"{value:.2f}" if err is None else f"{value:.2f} ± {err:.2f}"


def make_validation_report(datasets: Mapping[str, str], cutflows: Mapping[str, Sequence[str]],
                           metrics: Mapping[str, str], seed: int, events_per_process: int,
                           out_json: str | os.PathLike, out_pdf: str | os.PathLike,
                           feature_names: Sequence[str] = FEATURE_NAMES) -> dict[str, Any]:
    """Compare the generators' candidates and taggers; write the JSON and the PDF; return the JSON payload.

    ``datasets`` and ``cutflows`` are keyed by generator (``toy``, ``pythia8``), ``metrics`` by transfer case
    (``toy_on_toy``, ``toy_on_pythia``, ``pythia_on_pythia``: pooled k-fold metrics files of
    `autopruner.validation.crossval`). ``feature_names`` narrows the comparison (tests).
    """
    samples = {g: by_process(read_candidates(datasets[g])) for g in GENERATORS}
    distances = feature_distances(samples["toy"], samples["pythia8"], seed, feature_names)
    passing = passing_features(distances)
    hf = {name: heavy_flavour_fraction(samples[g]["qcd"]) for name, g in (("toy", "toy"), ("pythia", "pythia8"))}
    r50 = {case: transfer_case(path) for case, path in metrics.items()}
    transfer, transfer_err = transfer_summary(r50)
    result = {
        "events_per_process": int(events_per_process),
        "candidates": {g: {p: int(samples[g][p]["label"].size) for p in samples[g]} for g in GENERATORS},
        "features": distances,
        "n_features_js_excess_below_0p1": len(passing),
        "features_passing": passing,
        "hf_fraction_qcd": {name: v["b_or_c"] for name, v in hf.items()},
        "hf_composition_qcd": hf,
        "candidates_per_event": {g: candidates_per_event(cutflows[g]) for g in GENERATORS},
        "r50": {case: v["value"] for case, v in r50.items()},
        "r50_err": {case: v["err"] for case, v in r50.items()},
        "r50_folds": {case: v["folds"] for case, v in r50.items()},
        "r50_models": {case: v["models"] for case, v in r50.items() if v["models"] is not None},
        "r50_errors": R50_ERRORS,
        "auc": {case: v["auc"] for case, v in r50.items()},
        "auc_err": {case: v["auc_err"] for case, v in r50.items()},
        "test_candidates": {case: {"hbb": v["n_signal"], "qcd": v["n_background"]} for case, v in r50.items()},
        "transfer": transfer,
        "transfer_err": transfer_err,
    }
    write_json(out_json, result)
    with hep_style(), open_pdf(out_pdf) as pdf:  # page by page: 40 figures need not live at once
        for make_page in (lambda: summary_page(result), lambda: transfer_page(result),
                          *(lambda f=f: overlay_page(f, samples["toy"], samples["pythia8"], distances[f])
                            for f in feature_names)):
            fig = make_page()
            pdf.savefig(fig, bbox_inches="tight")
            plt.close(fig)
    return result
