"""Data-quality outputs of the dataset: a page per feature (signal vs background), cut flow, feature AUCs.

Columns are read from ``results/dataset.root`` one at a time, so memory stays at a few columns however large the
dataset. Histograms are normalised to unit area per class with the generator event weights; values outside the plotted
range are drawn in the edge bins (defaults such as sv_mass = -1 stay visible).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from autopruner.dataset.merge import open_candidates_tree
from autopruner.io_utils import CorruptInputError, atomic_output, require_file
from autopruner.plotting import hep_style, mplhep, open_pdf, plt
from autopruner.roc import auc
from autopruner.schema import SPLIT_CODES

#: (axis label, unit) of the large-R jet features and of each VR track-jet feature ({k} = 1, 2)
_LARGE_R_LABELS = {
    "fj_pt": (r"Large-$R$ jet $p_\mathrm{T}$", "GeV"),
    "fj_eta": (r"Large-$R$ jet $\eta$", ""),
    "fj_mass": (r"Trimmed large-$R$ jet mass", "GeV"),
    "fj_tau21": (r"$\tau_{21}^\mathrm{WTA}$", ""),
    "fj_tau32": (r"$\tau_{32}^\mathrm{WTA}$", ""),
    "fj_c2": (r"$C_2^{\beta=1}$", ""),
    "fj_d2": (r"$D_2^{\beta=1}$", ""),
    "fj_split12": (r"$\sqrt{d_{12}}$", "GeV"),
    "fj_split23": (r"$\sqrt{d_{23}}$", "GeV"),
    "fj_zcut12": (r"$z_\mathrm{cut,12}$", ""),
    "fj_n_constituents": ("Number of large-$R$ jet constituents", ""),
    "fj_n_tracks": ("Number of ghost-associated tracks", ""),
    "fj_n_trackjets": ("Number of ghost-associated VR track jets", ""),
    "tj_dr12": (r"$\Delta R$(track jet 1, track jet 2)", ""),
    "tj_mass12": (r"$m$(track jet 1 + track jet 2)", "GeV"),
}
_TRACK_JET_LABELS = {
    "pt_frac": (r"$p_\mathrm{T}^\mathrm{track\ jet\ {k}} / p_\mathrm{T}^\mathrm{large-}R$", ""),
    "dr_fj": (r"$\Delta R$(track jet {k}, large-$R$ jet)", ""),
    "mass": ("Track jet {k} mass", "GeV"),
    "n_tracks": ("Track jet {k}: number of tracks", ""),
    "ip2d_llr": ("Track jet {k}: IP2D log($P_b/P_u$)", ""),
    "ip3d_llr": ("Track jet {k}: IP3D log($P_b/P_u$)", ""),
    "sd0_1": (r"Track jet {k}: largest $d_0/\sigma_{d_0}$", ""),
    "sd0_2": (r"Track jet {k}: 2nd largest $d_0/\sigma_{d_0}$", ""),
    "sd0_3": (r"Track jet {k}: 3rd largest $d_0/\sigma_{d_0}$", ""),
    "sv_mass": ("Track jet {k}: secondary-vertex mass", "GeV"),
    "sv_efrac": ("Track jet {k}: secondary-vertex energy fraction", ""),
    "sv_lxy_sig": (r"Track jet {k}: SV $L_{xy}/\sigma_{L_{xy}}$", ""),
}
N_BINS = 50
LOG_Y_DECADES = 2.5  # log-y when the populated bins span more than this many decades
SPIKE_RATIO = 20.0  # ... or when the highest bin exceeds this multiple of the median populated bin
QUANTILE_RANGE = (0.001, 0.999)


def axis_label(feature: str) -> str:
    """x-axis label of a feature with its unit in brackets (ATLAS style)."""
    if feature in _LARGE_R_LABELS:
        text, unit = _LARGE_R_LABELS[feature]
    elif feature[:2] == "tj" and feature[2:3].isdigit() and feature[4:] in _TRACK_JET_LABELS:
        text, unit = _TRACK_JET_LABELS[feature[4:]]
        text = text.replace("{k}", feature[2])
    else:
        text, unit = feature.replace("_", " "), ""
    return f"{text} [{unit}]" if unit else text


def _default_feature_names() -> tuple[str, ...]:
    """The 39 feature names of the candidates tree (docs/design.md)."""
    from autopruner.schema import FEATURE_NAMES

    return tuple(FEATURE_NAMES)


def _column(tree, name: str, path: str | Path) -> np.ndarray:
    """One column of the dataset as float64; read errors name the file."""
    try:
        return np.asarray(tree[name].array(library="np"), dtype=np.float64)
    except Exception as exc:
        raise CorruptInputError(f"cannot read column {name!r} of {path}: {exc}") from exc


def feature_binning(values: np.ndarray, is_integer: bool) -> np.ndarray:
    """Bin edges: unit bins for integer features, else N_BINS over the central quantiles of all candidates."""
    if values.size == 0:
        return np.linspace(0.0, 1.0, N_BINS + 1)
    if is_integer:
        lo, hi = np.quantile(values, [0.0, QUANTILE_RANGE[1]])
        step = max(1.0, np.ceil((hi - lo + 1) / N_BINS))
        return np.arange(np.floor(lo) - 0.5, np.ceil(hi) + 0.5 + step, step)
    lo, hi = np.quantile(values, QUANTILE_RANGE)
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, N_BINS + 1)


def normalised_histogram(values: np.ndarray, weights: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Unit-area fraction per bin (not a density), values outside the edges put in the edge bins."""
    clipped = np.clip(values, edges[0], edges[-1] - 1e-9 * (edges[-1] - edges[0]))
    hist, _ = np.histogram(clipped, edges, weights=weights)
    total = hist.sum()
    return hist / total if total > 0 else hist


def _use_log_y(*hists: np.ndarray) -> bool:
    """True when the populated bins span many decades or one spike (a default value) dwarfs the rest."""
    populated = np.concatenate([h[h > 0] for h in hists])
    if populated.size == 0:
        return False
    return bool(
        np.log10(populated.max() / populated.min()) > LOG_Y_DECADES
        or populated.max() > SPIKE_RATIO * np.median(populated)
    )


def _draw_page(pdf, feature: str, values: np.ndarray, label: np.ndarray, weight: np.ndarray) -> None:
    """One page: normalised signal and background histograms of one feature."""
    is_integer = values.size > 0 and bool(np.all(values == np.round(values))) and np.ptp(values) > 0
    edges = feature_binning(values, is_integer)
    sig = normalised_histogram(values[label], weight[label], edges)
    bkg = normalised_histogram(values[~label], weight[~label], edges)
    fig, ax = plt.subplots(figsize=(8, 6))
    mplhep.histplot(sig, edges, ax=ax, label=r"$H\rightarrow b\bar{b}$", color="tab:red", lw=2, flow=None)
    mplhep.histplot(bkg, edges, ax=ax, label="Multijet (QCD)", color="tab:blue", lw=2, ls="--", flow=None)
    log = _use_log_y(sig, bkg)
    if log:
        ax.set_yscale("log")
        populated = np.concatenate([sig[sig > 0], bkg[bkg > 0]])
        ax.set_ylim(populated.min() * 0.5, populated.max() * 50)
    else:
        ax.set_ylim(0, max(sig.max(initial=0), bkg.max(initial=0)) * 1.4 or 1.0)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel(axis_label(feature))
    ax.set_ylabel("Fraction of candidates / bin")
    mplhep.label.exp_label(exp="AutoPruner", text="(toy)", rlabel="√s = 14 TeV", ax=ax)
    ax.legend(loc="upper right", title="Normalised to unit area")
    pdf.savefig(fig)
    plt.close(fig)


def plot_features(
    dataset_path: str | Path, out_pdf: str | Path, feature_names: Sequence[str] | None = None
) -> int:
    """``results/plots/features.pdf``: one page per feature, signal vs background; returns the page count."""
    names = tuple(feature_names) if feature_names is not None else _default_feature_names()
    tree = open_candidates_tree(require_file(dataset_path))
    label = _column(tree, "label", dataset_path) > 0
    weight = _column(tree, "weight", dataset_path)
    with hep_style("ATLAS"), open_pdf(out_pdf) as pdf:
        for feature in names:
            _draw_page(pdf, feature, _column(tree, feature, dataset_path), label, weight)
    return len(names)


def read_cutflow(path: str | Path) -> dict[str, int]:
    """One shard's cut flow ({step: count} in selection order); unreadable -> CorruptInputError naming it."""
    path = require_file(path)
    try:
        payload = json.loads(Path(path).read_text())
        return {str(step): int(count) for step, count in payload.items()}
    except (ValueError, AttributeError, TypeError) as exc:
        raise CorruptInputError(f"cannot read cut flow {path}: {exc}") from exc


def sum_cutflows(cutflow_jsons: Sequence[str | Path]) -> dict[str, dict[str, int]]:
    """{process: {step: count}} summed over shards; the process is the parent directory of each file."""
    totals: dict[str, dict[str, int]] = {}
    for path in cutflow_jsons:
        steps = totals.setdefault(Path(path).parent.name, {})
        for step, count in read_cutflow(path).items():
            steps[step] = steps.get(step, 0) + count
    return totals


def write_cutflow_table(cutflow_jsons: Sequence[str | Path], out_csv: str | Path) -> dict[str, dict[str, int]]:
    """``results/cutflow.csv``: per step, the count and the fraction of generated events for each process."""
    totals = sum_cutflows(cutflow_jsons)
    processes = sorted(totals)
    steps: list[str] = []
    for process in processes:
        steps += [s for s in totals[process] if s not in steps]
    with atomic_output(out_csv) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", *processes, *(f"{p}_fraction" for p in processes)])
        for step in steps:
            counts = [totals[p].get(step, 0) for p in processes]
            first = [next(iter(totals[p].values()), 0) for p in processes]
            fractions = [f"{c / f:.6f}" if f else "" for c, f in zip(counts, first, strict=True)]
            writer.writerow([step, *counts, *fractions])
    return totals


def single_feature_auc(
    dataset_path: str | Path, feature_names: Sequence[str] | None = None, split: str = "test"
) -> dict[str, float]:
    """ROC AUC of each feature alone on one split, orientation-free: max(AUC, 1 - AUC), event-weighted."""
    names = tuple(feature_names) if feature_names is not None else _default_feature_names()
    tree = open_candidates_tree(require_file(dataset_path))
    in_split = _column(tree, "split", dataset_path) == SPLIT_CODES[split]
    label = _column(tree, "label", dataset_path)[in_split] > 0
    weight = _column(tree, "weight", dataset_path)[in_split]
    result = {}
    for feature in names:
        value = auc(_column(tree, feature, dataset_path)[in_split], label, weight)
        result[feature] = float(max(value, 1.0 - value))
    return result
