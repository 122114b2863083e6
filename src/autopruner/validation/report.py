"""The toy-vs-Pythia validation report: feature distances, heavy-flavour content, candidates per event, and the
transfer test of the tagger (k-fold pooled, `autopruner.validation.crossval`, once per training seed and averaged
over the seeds), written as ``toy_vs_pythia.json`` and ``toy_vs_pythia.pdf``.

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
from autopruner.evaluation.metrics import spread
from autopruner.io_utils import CorruptInputError, require_file, write_json
from autopruner.plotting import hep_style, open_pdf, plt
from autopruner.schema import FEATURE_NAMES, FLAVOUR_B, FLAVOUR_C
from autopruner.validation.distances import common_binning, compare_feature
from autopruner.validation.peaks import CORE_SIGMAS, core_density, mass_peak

GENERATORS = ("toy", "pythia8")
GENERATOR_LABELS = {"toy": "toy generator", "pythia8": "Pythia 8"}
PROCESS_OF_LABEL = {1: "hbb", 0: "qcd"}
PROCESS_LABELS = {"hbb": r"$H\to b\bar{b}$", "qcd": "QCD multijet"}
#: the issue's pass mark for a feature: noise-subtracted JS distance below this in both processes
JS_EXCESS_TARGET = 0.1
#: the issue's other targets (toy against Pythia 8): features passing (of the 39), the QCD heavy-flavour fraction's
#: toy/Pythia ratio, the rejection's toy/Pythia ratio, the most rejection the toy-trained tagger may lose on Pythia,
#: the window of the signal's trimmed-mass peak [GeV] (both generators), the least AUC on Pythia's events
FEATURES_PASSING_TARGET = 32
HF_RATIO_WINDOW = (0.8, 1.2)
R50_RATIO_WINDOW = (0.75, 1.25)
MAX_TRANSFER_LOSS = 0.25
MASS_PEAK_WINDOW_GEV = (110.0, 130.0)
MIN_PYTHIA_AUC = 0.95
#: the feature whose signal peak is checked: the leading trimmed large-R jet's mass
MASS_FEATURE = "fj_mass"
#: spawn key of the floor's random splits (independent of every other stream)
FLOOR_STREAM = 11
COLUMNS = (*FEATURE_NAMES, "label", "weight", "tj1_flavour")
#: what the transfer test's numbers are, written into the JSON beside them
R50_ERRORS = (
    "r50: mean over the training seeds (training_seeds) of 1/eps_B at eps_S = 50 % of the k-fold pooled out-of-fold "
    "scores (every candidate of the tested sample scored once, by the fold model of that seed that did not train on "
    "it; toy_on_pythia: Pythia fold i by the toy fold-i model). The seeds share the events and the folds: they "
    "differ in the training's random draws alone. "
    "r50_seeds: each seed's pooled value with its bootstrap std (test-sample statistics, the k models held fixed), "
    "and their mean, std (ddof 1; null for one seed) and sem = std/sqrt(n). "
    "r50_err: error of r50, sqrt(mean bootstrap variance + sem^2): the test-sample error, which every seed shares, "
    "and the training's. "
    "r50_folds, r50_models: of the first training seed. r50_folds: the k per-fold values (1/k of the candidates each, "
    "each its own model), their mean, std and sem = std/sqrt(k). r50_models (toy_on_pythia only): each toy fold "
    "model's value on the whole Pythia sample, which none trained on; their std is the model-to-model variation "
    "alone. auc, auc_err: as r50 and r50_err. "
    "transfer: ratios of the seed means; transfer_err: the two r50_err in quadrature (toy_on_pythia_over_toy_on_toy "
    "shares its models, so this overstates its training part). transfer_seeds: each seed's ratio, their mean, std "
    "and sem."
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
    """Weighted shares of background candidates whose leading track jet is b- or c-labelled, and their sum, each
    with its binomial error on the effective number of candidates n_eff = (sum w)^2 / sum w^2 (``*_err``)."""
    w = background["weight"].astype(np.float64)
    flavour = background["tj1_flavour"]
    total = w.sum()
    n_eff = total**2 / np.sum(w * w)
    b, c = w[flavour == FLAVOUR_B].sum() / total, w[flavour == FLAVOUR_C].sum() / total
    shares = {"b": float(b), "c": float(c), "b_or_c": float(b + c)}
    errors = {f"{name}_err": float(np.sqrt(f * (1.0 - f) / n_eff)) for name, f in shares.items()}
    return shares | errors | {"n_eff": float(n_eff)}


def signal_mass_peaks(samples: Mapping[str, Mapping[str, Mapping[str, np.ndarray]]]) -> dict[str, dict[str, Any]]:
    """Per generator, the H -> b bbar candidates' trimmed-mass peak (`autopruner.validation.peaks.mass_peak`: an
    iterated Gaussian fit to the core, the generator weights applied) with its median and quantiles."""
    return {g: mass_peak(s["hbb"][MASS_FEATURE], s["hbb"]["weight"]) for g, s in samples.items()}


def _target(value: Any, criterion: str, met: bool | None, err: Any = None) -> dict[str, Any]:
    """One entry of the JSON's ``targets``."""
    return {"value": value, "err": err, "criterion": criterion, "met": met}


def _within(value: float | None, window: tuple[float, float]) -> bool | None:
    """Whether value lies in the closed window; None for an unmeasured value."""
    return None if value is None else bool(window[0] <= value <= window[1])


def target_checks(result: Mapping[str, Any], n_features: int) -> dict[str, dict[str, Any]]:
    """The issue's targets, each with its measured value (and error where there is one), the criterion and whether
    the central value meets it (None where the value could not be measured). The feature count is checked only on
    the full set of `FEATURE_NAMES`; on fewer features (tests, studies) it has no target."""
    hf = {name: {"value": v["b_or_c"], "err": v["b_or_c_err"]} for name, v in result["hf_composition_qcd"].items()}
    hf_ratio, hf_ratio_err = _ratio_with_error(hf["toy"], hf["pythia"])
    transfer, transfer_err = result["transfer"], result["transfer_err"]
    kept = transfer["toy_on_pythia_over_toy_on_toy"]
    loss = None if kept is None else 1.0 - kept
    peaks = {g: result["signal_mass"][g]["peak_gev"] for g in GENERATORS}
    peak_errs = {g: result["signal_mass"][g]["peak_err_gev"] for g in GENERATORS}
    in_window = [_within(p, MASS_PEAK_WINDOW_GEV) for p in peaks.values()]
    auc = result["auc"]["pythia_on_pythia"]
    n_passing = result["n_features_js_excess_below_0p1"]
    full_set = n_features == len(FEATURE_NAMES)
    return {
        "features_js_excess_below_0p1": _target(
            n_passing, f">= {FEATURES_PASSING_TARGET} of {len(FEATURE_NAMES)} in both processes",
            bool(n_passing >= FEATURES_PASSING_TARGET) if full_set else None),
        "hf_fraction_qcd_toy_over_pythia": _target(
            hf_ratio, f"{HF_RATIO_WINDOW[0]}-{HF_RATIO_WINDOW[1]}", _within(hf_ratio, HF_RATIO_WINDOW), hf_ratio_err),
        "r50_toy_on_toy_over_pythia_on_pythia": _target(
            transfer["toy_over_pythia"], f"{R50_RATIO_WINDOW[0]}-{R50_RATIO_WINDOW[1]}",
            _within(transfer["toy_over_pythia"], R50_RATIO_WINDOW), transfer_err["toy_over_pythia"]),
        "r50_loss_toy_on_pythia": _target(
            loss, f"<= {MAX_TRANSFER_LOSS}", None if loss is None else bool(loss <= MAX_TRANSFER_LOSS),
            transfer_err["toy_on_pythia_over_toy_on_toy"]),
        "signal_mass_peak_gev": _target(
            peaks, f"{MASS_PEAK_WINDOW_GEV[0]:g}-{MASS_PEAK_WINDOW_GEV[1]:g} GeV for both generators",
            None if None in in_window else all(in_window), peak_errs),
        "auc_pythia_on_pythia": _target(
            auc, f">= {MIN_PYTHIA_AUC}", None if auc is None else bool(auc >= MIN_PYTHIA_AUC),
            result["auc_err"]["pythia_on_pythia"]),
    }


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


def seed_average(per_seed: Sequence[Mapping[str, Any]], value_key: str = "value",
                 err_key: str = "err") -> dict[str, Any]:
    """One transfer case's metric (``value_key``, with its bootstrap ``err_key``) over the training seeds.

    ``value`` is the mean of the seeds' values. Its error adds two parts in quadrature. The bootstrap error is the
    test sample's, the same events for every seed, so averaging does not shrink it: its mean variance enters. The
    training's part is the sem of the seeds' values (which also holds the little of the test sample's error that
    differs between models). With one seed this is that seed's value and bootstrap error. Seeds without a value (no
    background passed the cut) are left out; None where none has one.
    """
    values = [s[value_key] for s in per_seed]
    errs = [s[err_key] for s in per_seed]
    result = spread(values) | {"err": errs}
    defined = [(v, e) for v, e in zip(values, errs, strict=True) if v is not None]
    if not defined:
        return result | {"value": None, "total_err": None}
    boot = [e for _, e in defined if e is not None]
    boot_var = float(np.mean(np.square(boot))) if boot else 0.0
    total_err = float(np.sqrt(boot_var + (result["sem"] or 0.0) ** 2)) if boot or result["sem"] else None
    return result | {"value": result["mean"], "total_err": total_err}


def _ratio_with_error(num: Mapping[str, Any], den: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """num/den and its error from the two relative errors (``err``) in quadrature (independent test candidates)."""
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
    """The issue's two ratios of rejections at ε_S = 50 % (``value`` of each case), and their errors.

    Each error combines the two cases' errors (``err``) in quadrature: the test candidates of the two cases are
    independent (different generators), while the training fluctuations that toy on toy and toy on Pythia share
    (the same toy models) are counted in both, not cancelled.
    """
    values, errors = {}, {}
    for name, (num, den) in TRANSFER_RATIOS.items():
        values[name], errors[name] = _ratio_with_error(r50[num], r50[den])
    return values, errors


def transfer_per_seed(per_seed: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Each training seed's two ratios (`TRANSFER_RATIOS`, None where undefined) with their mean, std and sem."""
    n_seeds = len(next(iter(per_seed.values())))
    ratios = [transfer_summary({case: seeds[i] for case, seeds in per_seed.items()})[0] for i in range(n_seeds)]
    return {name: spread([r[name] for r in ratios]) for name in TRANSFER_RATIOS}


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


def _format_target_value(value: Any, err: Any) -> str:
    """A target's value as the table shows it: per generator where it is one, with its error where it has one."""
    if isinstance(value, Mapping):
        return ", ".join(f"{'toy' if g == 'toy' else 'Pythia'} {_format_target_value(v, (err or {}).get(g))}"
                         for g, v in value.items())
    if value is None:
        return "not measured"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}" if err is None else f"{value:.4g} ± {err:.2g}"


TARGET_MARKS = {True: "met", False: "MISSED", None: "-"}


def _target_rows(targets: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str, str, str]]:
    """Each target as the text and PDF tables show it: name, measured value (± error), criterion, mark."""
    return [(name, _format_target_value(t["value"], t["err"]), t["criterion"], TARGET_MARKS[t["met"]])
            for name, t in targets.items()]


def format_targets(targets: Mapping[str, Mapping[str, Any]]) -> str:
    """The targets as a plain-text table (the job log, and ``python -m autopruner.validation.report JSON``)."""
    rows = [("target", "measured", "criterion", ""), *_target_rows(targets)]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d}".rstrip() for a, b, c, d in rows)


def targets_page(result: Mapping[str, Any]):
    """The issue's targets as a table: measured value (± error), criterion, and whether the central value meets it."""
    rows = [[name.replace("_", " "), *cells] for name, *cells in _target_rows(result["targets"])]
    fig, ax = plt.subplots(figsize=(13, 0.55 * len(rows) + 1.6))
    ax.axis("off")
    table = ax.table(cellText=rows, colLabels=["target", "measured", "criterion", ""], loc="center",
                     cellLoc="left", colWidths=[0.33, 0.33, 0.26, 0.08])
    table.auto_set_font_size(False)
    table.set_fontsize(10)
    table.scale(1.0, 1.6)
    for (row, col), cell in table.get_celld().items():
        if row > 0 and col == 3:
            cell.set_text_props(color={"met": "tab:green", "MISSED": "tab:red"}.get(rows[row - 1][3], "black"))
    seeds = ", ".join(map(str, result["training_seeds"]))
    ax.set_title(f"Toy vs Pythia 8: {result['events_per_process']} events per process and generator, training "
                 f"seeds {seeds}; 'met' judges the central value", fontsize=11)
    return fig


def mass_peak_page(result: Mapping[str, Any], samples: Mapping[str, Mapping[str, Mapping[str, np.ndarray]]]):
    """The H -> b bbar candidates' trimmed mass of both generators, with the Gaussian core each peak comes from and
    the target window."""
    fig, ax = plt.subplots(figsize=(9, 6))
    masses = [samples[g]["hbb"][MASS_FEATURE] for g in GENERATORS]
    pooled = np.concatenate(masses)
    if pooled.size:
        edges = np.arange(np.floor(np.quantile(pooled, 0.005)), np.quantile(pooled, 0.995) + 2.5, 2.5)
    else:
        edges = np.linspace(50.0, 200.0, 61)
    ax.axvspan(*MASS_PEAK_WINDOW_GEV, color="tab:green", alpha=0.12, lw=0,
               label=f"target window {MASS_PEAK_WINDOW_GEV[0]:g}-{MASS_PEAK_WINDOW_GEV[1]:g} GeV")
    for generator, colour in zip(GENERATORS, ("tab:blue", "black"), strict=True):
        sample = samples[generator]["hbb"]
        mass, w = sample[MASS_FEATURE].astype(np.float64), sample["weight"].astype(np.float64)
        total = w.sum()
        if total <= 0.0:
            continue
        counts = np.histogram(mass, edges, weights=w)[0]
        errors = np.sqrt(np.histogram(mass, edges, weights=w * w)[0])
        centres, width = 0.5 * (edges[1:] + edges[:-1]), np.diff(edges)
        ax.errorbar(centres, counts / (total * width), yerr=errors / (total * width), drawstyle="steps-mid",
                    color=colour, label=GENERATOR_LABELS[generator])
        peak = result["signal_mass"][generator]
        if peak["peak_gev"] is not None:
            x = np.linspace(*peak["fit_range_gev"], 100)
            ax.plot(x, core_density(x, peak), color=colour, ls="--", lw=2.0,
                    label=f"{GENERATOR_LABELS[generator]}, core fit: peak {peak['peak_gev']:.1f} "
                          f"± {peak['peak_err_gev']:.1f} GeV, "
                          f"σ {peak['sigma_gev']:.1f} GeV (median {peak['median_gev']:.1f})")
    ax.set_xlabel("Leading trimmed large-R jet mass [GeV]")
    ax.set_ylabel("Fraction of candidates / GeV")
    ax.set_title(r"$H\to b\bar{b}$ candidates: peak from an iterated, unbinned Gaussian fit to the core "
                 rf"($\pm {CORE_SIGMAS:g}\,\sigma$)", fontsize=11)
    ax.set_ylim(0.0, 1.5 * ax.get_ylim()[1])  # room for the legend above the peak
    ax.legend(frameon=False, fontsize=11, loc="upper left")
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


def composition_page(result: Mapping[str, Any]):
    """The background's flavour composition (leading track jet light, c or b: the background a double-b tagger
    keeps at tight cuts is mostly heavy flavour) and the candidates per event of both processes, toy against Pythia."""
    fig, (ax_hf, ax_cand) = plt.subplots(1, 2, figsize=(15, 6), gridspec_kw={"wspace": 0.3})
    width = 0.38
    for offset, (name, generator, colour) in zip((-width / 2, width / 2),
                                                  (("toy", "toy", "tab:blue"), ("pythia", "pythia8", "black")),
                                                  strict=True):
        hf = result["hf_composition_qcd"][name]
        shares = [1.0 - hf["b_or_c"], hf["c"], hf["b"]]
        errors = [hf["b_or_c_err"], hf["c_err"], hf["b_err"]]
        ax_hf.bar(np.arange(3) + offset, shares, width, yerr=errors, capsize=3, color=colour, alpha=0.75,
                  label=GENERATOR_LABELS[generator])
        per_event = result["candidates_per_event"][generator]
        ax_cand.bar(np.arange(2) + offset, [per_event.get("hbb", np.nan), per_event.get("qcd", np.nan)], width,
                    color=colour, alpha=0.75, label=GENERATOR_LABELS[generator])
    ax_hf.set_xticks(range(3), ["light", "c", "b"])
    ax_hf.set_yscale("log")
    ax_hf.set_ylim(0.01, 3.0)
    ax_hf.set_xlabel("flavour of the leading track jet (QCD candidates)", fontsize=14)
    ax_hf.set_ylabel("Fraction of QCD candidates (weighted)", fontsize=14)
    hf_toy, hf_py = result["hf_fraction_qcd"]["toy"], result["hf_fraction_qcd"]["pythia"]
    ax_hf.set_title(f"b or c: toy {hf_toy:.3f}, Pythia {hf_py:.3f} (toy/Pythia {hf_toy / hf_py:.2f}; "
                    "target 0.8-1.2)", fontsize=12)
    ax_hf.legend(frameon=False, fontsize=12)
    ax_cand.set_xticks(range(2), [PROCESS_LABELS["hbb"], PROCESS_LABELS["qcd"]])
    ax_cand.set_ylim(0.0, 0.4)
    ax_cand.set_ylabel("Candidates per generated event", fontsize=14)
    ax_cand.set_title("one candidate per event at most: the selection's efficiency", fontsize=12)
    ax_cand.legend(frameon=False, fontsize=12)
    return fig


def transfer_page(result: Mapping[str, Any]):
    """Rejection at ε_S = 50 % per transfer case: the mean over training seeds with its error, each seed's pooled
    k-fold value with its bootstrap error, and the first seed's per-fold values (and, on the other generator's
    sample, its fold models' values on the whole sample), so the training's spread is seen beside the test sample's
    error."""
    cases = list(result["r50"])
    seeds = result["training_seeds"]
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for row, case in enumerate(cases):
        value, err = result["r50"][case], result["r50_err"][case]
        if value is not None:
            ax.errorbar(value, row, xerr=err or 0.0, fmt="s", ms=9, color="black", capsize=4, zorder=3,
                        label=f"mean of {len(seeds)} training seeds (total error)" if row == 0 else None)
        per_seed = result["r50_seeds"][case]
        offsets = np.linspace(-0.3, -0.12, len(seeds)) if len(seeds) > 1 else np.array([-0.2])
        for v, e, dy in zip(per_seed["values"], per_seed["err"], offsets, strict=True):
            if v is not None:
                ax.errorbar(v, row + dy, xerr=e or 0.0, fmt="D", ms=4, color="tab:green", capsize=2,
                            label="one seed, pooled (bootstrap error)" if row == 0 and dy == offsets[0] else None)
        folds = result["r50_folds"][case]
        per_fold = [(v, e) for v, e in zip(folds["values"], folds["err"], strict=True) if v is not None]
        offsets = np.linspace(0.12, 0.3, len(per_fold)) if len(per_fold) > 1 else np.full(len(per_fold), 0.2)
        for (v, e), dy in zip(per_fold, offsets, strict=True):
            ax.errorbar(v, row + dy, xerr=e or 0.0, fmt="o", ms=3, color="tab:blue", alpha=0.6,
                        label=f"one fold, seed {seeds[0]} (bootstrap error)" if row == 0 and dy == offsets[0]
                        else None)
        models = result["r50_models"].get(case)
        if models is not None:
            values = [v for v in models["values"] if v is not None]
            ax.plot(values, np.full(len(values), row + 0.4), "x", ms=7, color="tab:red",
                    label=f"one fold model of seed {seeds[0]} on the whole sample")
    ax.set_yticks(range(len(cases)), [c.replace("_", " ") for c in cases])
    ax.invert_yaxis()
    ax.set_xlabel(r"baseline $1/\varepsilon_B$ at $\varepsilon_S = 50\,\%$")
    n_folds = next(iter(result["r50_folds"].values()))["n_folds"]
    ratios = result["transfer"]
    ax.set_title(f"{n_folds}-fold transfer test, training seeds {', '.join(map(str, seeds))}: toy/Pythia "
                 f"{_format_ratio(ratios, result, 'toy_over_pythia')}, toy on Pythia/toy "
                 f"{_format_ratio(ratios, result, 'toy_on_pythia_over_toy_on_toy')}", fontsize=10)
    ax.legend(frameon=False, fontsize=8, loc="best")
    return fig


def _format_ratio(ratios: Mapping[str, float | None], result: Mapping[str, Any], name: str) -> str:
    value, err = ratios[name], result["transfer_err"][name]
    if value is None:
        return "undefined"
    return f"{value:.2f}" if err is None else f"{value:.2f} ± {err:.2f}"


def seed_metrics(metrics: Mapping[str, Sequence[str | os.PathLike]],
                 training_seeds: Sequence[int]) -> dict[str, list[dict[str, Any]]]:
    """Every transfer case's `transfer_case` per training seed, in ``training_seeds`` order; a ValueError where a
    case has not one metrics file per seed."""
    per_seed = {}
    for case, paths in metrics.items():
        if isinstance(paths, str | os.PathLike) or len(paths) != len(training_seeds):
            raise ValueError(f"transfer case {case}: expected one metrics file per training seed "
                             f"{list(training_seeds)}, got {paths!r}")
        per_seed[case] = [transfer_case(path) for path in paths]
    return per_seed


def transfer_results(per_seed: Mapping[str, Sequence[Mapping[str, Any]]],
                     training_seeds: Sequence[int]) -> dict[str, Any]:
    """The JSON's transfer-test entries (`R50_ERRORS` says what each holds) from each case's per-seed results."""
    r50 = {case: seed_average(seeds) for case, seeds in per_seed.items()}
    auc = {case: seed_average(seeds, "auc", "auc_err") for case, seeds in per_seed.items()}
    transfer, transfer_err = transfer_summary({case: {"value": r["value"], "err": r["total_err"]}
                                               for case, r in r50.items()})
    first = {case: seeds[0] for case, seeds in per_seed.items()}
    keys = ("values", "err", "mean", "std", "sem")
    return {
        "training_seeds": [int(seed) for seed in training_seeds],
        "r50": {case: r["value"] for case, r in r50.items()},
        "r50_err": {case: r["total_err"] for case, r in r50.items()},
        "r50_seeds": {case: {key: r[key] for key in keys} for case, r in r50.items()},
        "r50_folds": {case: v["folds"] for case, v in first.items()},
        "r50_models": {case: v["models"] for case, v in first.items() if v["models"] is not None},
        "r50_errors": R50_ERRORS,
        "auc": {case: a["value"] for case, a in auc.items()},
        "auc_err": {case: a["total_err"] for case, a in auc.items()},
        "auc_seeds": {case: {key: a[key] for key in keys} for case, a in auc.items()},
        "test_candidates": {case: {"hbb": v["n_signal"], "qcd": v["n_background"]} for case, v in first.items()},
        "transfer": transfer,
        "transfer_err": transfer_err,
        "transfer_seeds": transfer_per_seed(per_seed),
    }


def make_validation_report(datasets: Mapping[str, str], cutflows: Mapping[str, Sequence[str]],
                           metrics: Mapping[str, Sequence[str | os.PathLike]], seed: int, events_per_process: int,
                           out_json: str | os.PathLike, out_pdf: str | os.PathLike,
                           feature_names: Sequence[str] = FEATURE_NAMES, *,
                           training_seeds: Sequence[int]) -> dict[str, Any]:
    """Compare the generators' candidates and taggers; write the JSON and the PDF; return the JSON payload.

    ``datasets`` and ``cutflows`` are keyed by generator (``toy``, ``pythia8``), ``metrics`` by transfer case
    (``toy_on_toy``, ``toy_on_pythia``, ``pythia_on_pythia``): per case, the pooled k-fold metrics files of
    `autopruner.validation.crossval`, one per training seed in ``training_seeds`` order. ``feature_names`` narrows
    the comparison (tests).
    """
    per_seed = seed_metrics(metrics, training_seeds)
    samples = {g: by_process(read_candidates(datasets[g])) for g in GENERATORS}
    distances = feature_distances(samples["toy"], samples["pythia8"], seed, feature_names)
    passing = passing_features(distances)
    hf = {name: heavy_flavour_fraction(samples[g]["qcd"]) for name, g in (("toy", "toy"), ("pythia", "pythia8"))}
    result = {
        "events_per_process": int(events_per_process),
        "candidates": {g: {p: int(samples[g][p]["label"].size) for p in samples[g]} for g in GENERATORS},
        "features": distances,
        "n_features_js_excess_below_0p1": len(passing),
        "features_passing": passing,
        "hf_fraction_qcd": {name: v["b_or_c"] for name, v in hf.items()},
        "hf_fraction_qcd_err": {name: v["b_or_c_err"] for name, v in hf.items()},
        "hf_composition_qcd": hf,
        "candidates_per_event": {g: candidates_per_event(cutflows[g]) for g in GENERATORS},
        "signal_mass": signal_mass_peaks(samples),
        **transfer_results(per_seed, training_seeds),
    }
    result["targets"] = target_checks(result, len(feature_names))
    write_json(out_json, result)
    with hep_style(), open_pdf(out_pdf) as pdf:  # page by page: 40 figures need not live at once
        for make_page in (lambda: targets_page(result), lambda: summary_page(result),
                          lambda: composition_page(result), lambda: transfer_page(result),
                          lambda: mass_peak_page(result, samples),
                          *(lambda f=f: overlay_page(f, samples["toy"], samples["pythia8"], distances[f])
                            for f in feature_names)):
            fig = make_page()
            pdf.savefig(fig, bbox_inches="tight")
            plt.close(fig)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Print the targets of a ``toy_vs_pythia.json`` (``make validate`` ends with this)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("json", type=Path, help="results/validation/toy_vs_pythia.json")
    args = parser.parse_args(argv)
    path = require_file(args.json)
    try:
        targets = json.loads(path.read_text())["targets"]
    except (json.JSONDecodeError, KeyError) as exc:
        raise CorruptInputError(f"{path} holds no targets (written before the report judged them?): {exc}") from exc
    print(f"{path}:\n{format_targets(targets)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
