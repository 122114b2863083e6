"""Merge the per-shard candidate files into one dataset with a hash-based split and p_T-flattening weights.

The split of a candidate depends only on its ``event_id`` (splitmix64 hash -> uniform number in [0, 1)), so it is the
same on every rerun, for any file order and any sharding. ``train_weight`` reweights the p_T spectra of signal and
background onto each other, separately in each split: both classes take the shape of the average of their normalised
spectra in the configured bins and the same total, so the tagger cannot learn p_T. (A flat target spectrum was the first
choice, but on p_T^-5 spectra it gave the few TeV-scale candidates weights of hundreds and the baseline over-trained on
them within five epochs; the common shape keeps weights of order one.) Candidates in bins where either class of their
split is empty, or outside the bins, get weight 0. Everything streams file by file (two passes: histograms, then
writing) so memory stays flat.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import uproot

from autopruner.event_io import reproducible_root_file
from autopruner.io_utils import CorruptInputError, require_file
from autopruner.schema import CANDIDATES_TREE, SPLIT_CODES

TREE_NAME = CANDIDATES_TREE
PT_COLUMN = "fj_pt"
STEP_SIZE = "200 MB"  # uproot chunk size while streaming


def splitmix64(values: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser applied elementwise to uint64 values (a fixed, well-mixed 64-bit hash)."""
    z = np.asarray(values, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def assign_split(event_id: np.ndarray, split_fractions: Mapping[str, float]) -> np.ndarray:
    """Split code (int8: 0 train, 1 validation, 2 test) of each event id from its hash."""
    fractions = _checked_fractions(split_fractions)
    u = (splitmix64(np.atleast_1d(event_id)) >> np.uint64(11)).astype(np.float64) * 2.0**-53
    cuts = np.cumsum([fractions["train"], fractions["validation"]])
    return np.searchsorted(cuts, u, side="right").astype(np.int8)


def _checked_fractions(split_fractions: Mapping[str, float]) -> dict[str, float]:
    """The train/validation/test fractions, validated to be non-negative and sum to one."""
    if set(split_fractions) != set(SPLIT_CODES):
        raise ValueError(
            f"split fractions need exactly the keys {sorted(SPLIT_CODES)}, got {sorted(split_fractions)}"
        )
    fractions = {k: float(v) for k, v in split_fractions.items()}
    if min(fractions.values()) < 0 or abs(sum(fractions.values()) - 1.0) > 1e-6:
        raise ValueError(f"split fractions must be >= 0 and sum to 1, got {fractions}")
    return fractions


def open_candidates_tree(path: str | Path) -> uproot.TTree:
    """The candidates TTree of ``path``; missing -> FileNotFoundError, unreadable -> CorruptInputError."""
    path = require_file(path)
    try:
        return uproot.open(path)[TREE_NAME]
    except Exception as exc:  # uproot raises many types on truncated/garbled files
        raise CorruptInputError(f"cannot read TTree '{TREE_NAME}' from {path}: {exc}") from exc


def _iterate(path: str | Path, columns: Sequence[str] | None = None) -> Iterator[dict[str, np.ndarray]]:
    """Chunks of the candidates TTree of ``path`` as numpy dicts; read errors name the file."""
    tree = open_candidates_tree(path)
    try:
        yield from tree.iterate(columns, step_size=STEP_SIZE, library="np")
    except Exception as exc:
        raise CorruptInputError(f"cannot read candidates from {path}: {exc}") from exc


def _schema(path: str | Path) -> dict[str, np.dtype]:
    """Column name -> numpy dtype of the candidates TTree of ``path``."""
    tree = open_candidates_tree(path)
    try:
        return {k: v.dtype for k, v in tree.arrays(entry_stop=0, library="np").items()}
    except Exception as exc:
        raise CorruptInputError(f"cannot read the columns of {path}: {exc}") from exc


class _PtHistograms:
    """Sums of event weights per (split, class, p_T bin): pass one of the flattening."""

    def __init__(self, pt_bins_gev: Sequence[float]):
        self.edges = np.asarray(pt_bins_gev, dtype=np.float64)
        if self.edges.ndim != 1 or self.edges.size < 2 or np.any(np.diff(self.edges) <= 0):
            raise ValueError(f"pt bins must be increasing with at least two edges, got {pt_bins_gev}")
        self.sums = np.zeros((len(SPLIT_CODES), 2, self.edges.size - 1))
        self.counts = np.zeros(len(SPLIT_CODES))

    def bin_index(self, pt_gev: np.ndarray) -> np.ndarray:
        """p_T bin of each candidate, -1 outside the edges."""
        idx = np.searchsorted(self.edges, pt_gev, side="right") - 1
        return np.where((idx >= 0) & (idx < self.edges.size - 1), idx, -1)

    def fill(self, split: np.ndarray, label: np.ndarray, pt_gev: np.ndarray, weight: np.ndarray) -> None:
        """Add a chunk of candidates."""
        b = self.bin_index(pt_gev)
        inside = b >= 0
        np.add.at(self.sums, (split[inside], label[inside], b[inside]), weight[inside])
        self.counts += np.bincount(split, minlength=len(SPLIT_CODES))

    def train_weight(self, split: np.ndarray, label: np.ndarray, pt_gev: np.ndarray, weight: np.ndarray):
        """weight * (target in the bin) / (class sum in the bin); each class sums to n_split / 2 in its split.

        The target shape is the mean of the two classes' normalised spectra over the bins both populate.
        """
        populated = np.all(self.sums > 0, axis=1)  # [split, bin]: both classes present
        class_sums = np.where(populated[:, None, :], self.sums, 0.0)
        totals = class_sums.sum(axis=2, keepdims=True)
        shape = 0.5 * (class_sums / np.where(totals > 0, totals, 1.0)).sum(axis=1)  # [split, bin], sums to 1
        target = shape * (0.5 * self.counts)[:, None]  # [split, bin]
        b = self.bin_index(pt_gev)
        safe_b = np.maximum(b, 0)
        ok = (b >= 0) & populated[split, safe_b]
        denom = np.where(ok, self.sums[split, label, safe_b], 1.0)
        return np.where(ok, weight * target[split, safe_b] / denom, 0.0)


def _split_label_pt_weight(chunk: dict[str, np.ndarray], fractions: Mapping[str, float]):
    """The columns the flattening needs, from one chunk."""
    split = assign_split(chunk["event_id"], fractions).astype(np.int64)
    label = (chunk["label"] > 0).astype(np.int64)
    return split, label, chunk[PT_COLUMN].astype(np.float64), chunk["weight"].astype(np.float64)


def merge_candidates(
    paths: Sequence[str | Path],
    split_fractions: Mapping[str, float],
    pt_bins_gev: Sequence[float],
    out_path: str | Path,
) -> dict[str, int]:
    """Write all candidates of ``paths`` plus ``split`` and ``train_weight``; returns candidates per split."""
    if not paths:
        raise ValueError("merge_candidates needs at least one candidate file")
    fractions = _checked_fractions(split_fractions)
    hists = _PtHistograms(pt_bins_gev)
    schemas = {}
    for path in paths:  # pass 1: p_T histograms per split and class; also validates every input up front
        schemas[str(path)] = _schema(path)
        for chunk in _iterate(path, ["event_id", "label", PT_COLUMN, "weight"]):
            hists.fill(*_split_label_pt_weight(chunk, fractions))
    schema = schemas[str(paths[0])]
    for path, other in schemas.items():
        if other != schema:
            raise CorruptInputError(f"{path} has columns {sorted(other)} unlike {paths[0]}: {sorted(schema)}")
    with reproducible_root_file(out_path, f"dataset:{os.fspath(out_path)}") as out:
        tree = out.mktree(TREE_NAME, {**schema, "split": np.int8, "train_weight": np.float64})
        for path in paths:  # pass 2: copy, adding the split and the weights
            for chunk in _iterate(path):
                if len(chunk["event_id"]) == 0:
                    continue
                split, label, pt, weight = _split_label_pt_weight(chunk, fractions)
                chunk["split"] = split.astype(np.int8)
                chunk["train_weight"] = hists.train_weight(split, label, pt, weight)
                tree.extend(chunk)
    return {name: int(hists.counts[code]) for name, code in SPLIT_CODES.items()}


def load_split(
    path: str | Path, split: str, feature_names: Sequence[str], weight_column: str = "train_weight"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X float32 [n, n_features] in feature_names order, y int8 label, w float32) of a split.

    ``w`` is the p_T-flattening ``train_weight`` for training, or the generator ``weight`` for evaluation.
    """
    if split not in SPLIT_CODES:
        raise ValueError(f"unknown split {split!r}; expected one of {list(SPLIT_CODES)}")
    tree = open_candidates_tree(path)
    missing = [name for name in (*feature_names, "label", "split", weight_column) if name not in tree.keys()]
    if missing:
        raise KeyError(f"{path} lacks columns {missing}")
    xs, ys, ws = [], [], []
    for chunk in _iterate(path, [*feature_names, "label", "split", weight_column]):
        keep = chunk["split"] == SPLIT_CODES[split]
        xs.append(np.column_stack([chunk[name][keep] for name in feature_names]).astype(np.float32))
        ys.append(chunk["label"][keep].astype(np.int8))
        ws.append(chunk[weight_column][keep].astype(np.float32))
    if not xs:
        return np.zeros((0, len(feature_names)), np.float32), np.zeros(0, np.int8), np.zeros(0, np.float32)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)
