"""k-fold training of the baseline tagger on one generator's validation sample (toy or Pythia 8).

A validation sample holds a few thousand candidates per class, too few to set a fifth of them aside as the only test
sample: the rejection of a single split has a 50-100 % error. Here every candidate is assigned to one of k folds, and
for fold i the baseline architecture is trained on the other k - 1 folds with the training code of `train_baseline`
(`autopruner.training.steps`); fold i is then scored by that model (`autopruner.validation.crossval`). Every
candidate is thus a test candidate exactly once, and never scored by a model that saw it.

The folds are drawn per event, not per candidate (an event's candidates stay together, so no event is both trained
on and tested), and per label (stratified: the events of each class are shared out evenly), seeded from the master
seed. The k - 1 training folds are split again into the training and the validation (early stopping) part in the
dataset's train:validation proportion, the same way. Training uses the dataset's p_T-flattening ``train_weight``:
it flattens each split of the dataset separately, so a union of whole splits is flat and a random 4/5 of the
candidates is flat up to statistical fluctuations; rebuilding the weights per fold would need the flattening outside
the dataset stage for no visible gain.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from autopruner.dataset.merge import open_candidates_tree
from autopruner.io_utils import CorruptInputError, require_file, write_json
from autopruner.schema import FEATURE_NAMES
from autopruner.training.steps import Split, TrainingData, TrainSettings, train_baseline
from autopruner.training.tagger import configure_tensorflow, save_model

#: spawn keys of the fold assignment, of the training/validation split of the training folds and of the fold models'
#: initialisation (independent of every other stream of the project)
FOLD_STREAM = 12
INNER_SPLIT_STREAM = 13
FOLD_TRAINING_STREAM = 14


@dataclass(frozen=True)
class Candidates:
    """Every candidate of a dataset file (all splits): features, label, event id and both weights."""

    x: np.ndarray  # [n, n_features] float32, FEATURE_NAMES order
    label: np.ndarray  # [n] int8, 1 signal
    event_id: np.ndarray  # [n] uint64
    weight: np.ndarray  # [n] generator weight: what the evaluation uses
    train_weight: np.ndarray  # [n] p_T-flattening weight: what the training uses

    def __len__(self) -> int:
        return int(self.label.size)

    def subset(self, keep: np.ndarray) -> Candidates:
        """The candidates selected by a boolean mask or an index array."""
        return Candidates(self.x[keep], self.label[keep], self.event_id[keep], self.weight[keep],
                          self.train_weight[keep])


def read_candidates(dataset_path: str | os.PathLike) -> Candidates:
    """All candidates of a dataset file, in file order; a missing column or a broken file raises naming it."""
    path = require_file(dataset_path)
    tree = open_candidates_tree(path)
    columns = (*FEATURE_NAMES, "label", "event_id", "weight", "train_weight")
    missing = [name for name in columns if name not in tree.keys()]
    if missing:
        raise KeyError(f"{path} lacks columns {missing}")
    try:
        data = tree.arrays(list(columns), library="np")
    except Exception as exc:
        raise CorruptInputError(f"cannot read candidates of {path}: {exc}") from exc
    x = np.column_stack([data[name] for name in FEATURE_NAMES]).astype(np.float32)
    return Candidates(x, data["label"].astype(np.int8), data["event_id"].astype(np.uint64),
                      data["weight"].astype(np.float64), data["train_weight"].astype(np.float64))


def _shuffled_events(event_id: np.ndarray, label: np.ndarray, seed: int, spawn_key: tuple[int, ...]):
    """Per label: the candidates of that label, the inverse map candidate -> event and a seeded event order.

    Yields (candidate mask, inverse, rank) where ``rank[e]`` is the position of event ``e`` (in sorted-id order) in a
    permutation drawn from ``seed`` and ``spawn_key`` + (label,). Sorting the ids first makes the result independent
    of the order of the candidates in the file.
    """
    for value in np.unique(label):
        mask = label == value
        events, inverse = np.unique(event_id[mask], return_inverse=True)
        rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(*spawn_key, int(value))))
        rank = np.empty(events.size, dtype=np.int64)
        rank[rng.permutation(events.size)] = np.arange(events.size)
        yield mask, inverse, rank


def assign_folds(event_id: np.ndarray, label: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """Fold (0..n_folds-1, int64) of each candidate: per label the events are shuffled and dealt out in turn.

    Deterministic in (event ids, labels, n_folds, seed) whatever the candidates' order; an event's candidates share
    a fold; per label the folds' event counts differ by at most one. Raises ValueError when a label has fewer events
    than folds (a fold would have no candidate of that class).
    """
    n_folds = int(n_folds)
    if n_folds < 2:
        raise ValueError(f"k-fold needs at least 2 folds, got {n_folds}")
    event_id, label = np.asarray(event_id), np.asarray(label)
    folds = np.empty(label.size, dtype=np.int64)
    for mask, inverse, rank in _shuffled_events(event_id, label, seed, (FOLD_STREAM,)):
        if rank.size < n_folds:
            raise ValueError(f"{rank.size} events of one label cannot fill {n_folds} folds")
        folds[mask] = (rank % n_folds)[inverse]
    return folds


def validation_fraction(split_fractions: Mapping[str, float]) -> float:
    """The validation share of the candidates the dataset trains on: validation / (train + validation)."""
    train, validation = float(split_fractions["train"]), float(split_fractions["validation"])
    if train <= 0 or validation <= 0:
        raise ValueError(f"k-fold training needs a train and a validation fraction, got {dict(split_fractions)}")
    return validation / (train + validation)


def inner_validation_mask(event_id: np.ndarray, label: np.ndarray, fraction: float, seed: int,
                          fold: int) -> np.ndarray:
    """True for the candidates of the training folds that go to early stopping: per label a seeded ``fraction``
    of the events (rounded, at least one), drawn anew for each held-out ``fold``."""
    event_id, label = np.asarray(event_id), np.asarray(label)
    out = np.zeros(label.size, dtype=bool)
    for mask, inverse, rank in _shuffled_events(event_id, label, seed, (INNER_SPLIT_STREAM, int(fold))):
        n_validation = min(max(1, round(fraction * rank.size)), rank.size - 1)
        out[mask] = (rank < n_validation)[inverse]
    return out


def held_out_digest(event_id: np.ndarray) -> str:
    """A short hash of a set of event ids (order-free): ties a fold model to the candidates it must not have seen."""
    ids = np.unique(np.asarray(event_id, dtype=np.uint64))
    return hashlib.sha256(ids.astype("<u8").tobytes()).hexdigest()[:16]


def fold_training_data(candidates: Candidates, folds: np.ndarray, fold: int, fraction: float,
                       seed: int) -> TrainingData:
    """Training and early-stopping splits of every fold but ``fold``, weighted by ``train_weight``."""
    rest = candidates.subset(folds != fold)
    is_validation = inner_validation_mask(rest.event_id, rest.label, fraction, seed, fold)
    train, validation = rest.subset(~is_validation), rest.subset(is_validation)
    return TrainingData(Split.of(train.x, train.label, train.train_weight),
                        Split.of(validation.x, validation.label, validation.train_weight))


def fold_training_seed(master_seed: int, training_seed: int, fold: int) -> int:
    """The 31-bit TensorFlow/Keras seed of one fold's model: each fold starts from its own initialisation."""
    sequence = np.random.SeedSequence([int(master_seed), int(training_seed), FOLD_TRAINING_STREAM, int(fold)])
    return int(sequence.generate_state(1)[0] >> 1)


def train_fold(candidates: Candidates, config: Mapping[str, Any], training_seed: int,
               fold: int) -> tuple[keras.Model, dict[str, Any]]:
    """The baseline tagger trained on every fold but ``fold``; returns the model and its JSON-ready history.

    ``config`` holds ``seed``, ``training``, ``dataset.split`` and ``validation.folds``. The history records the
    fold, the candidate counts and the digest of the held-out events, which the pooling step checks.
    """
    n_folds, master_seed = int(config["validation"]["folds"]), int(config["seed"])
    if not 0 <= int(fold) < n_folds:
        raise ValueError(f"fold {fold} does not exist with validation.folds = {n_folds}")
    folds = assign_folds(candidates.event_id, candidates.label, n_folds, master_seed)
    fraction = validation_fraction(config["dataset"]["split"])
    data = fold_training_data(candidates, folds, int(fold), fraction, master_seed)
    tf_seed = fold_training_seed(master_seed, training_seed, fold)
    model, history = train_baseline(data, TrainSettings.from_config(config["training"]), tf_seed)
    held_out = folds == fold
    return model, history | {
        "training_seed": int(training_seed),
        "fold": int(fold),
        "n_folds": n_folds,
        "n_train": int(data.train.y.size),
        "n_validation": int(data.validation.y.size),
        "n_held_out": int(held_out.sum()),
        "held_out_digest": held_out_digest(candidates.event_id[held_out]),
    }


def run_train_fold(dataset: str | os.PathLike, model_out: str | os.PathLike, history_out: str | os.PathLike,
                   config: Mapping[str, Any], training_seed: int, fold: int, threads: int) -> dict[str, Any]:
    """Rule validation_fold_train: train one fold's model from the dataset file; write model.keras and
    history.json; return the history."""
    configure_tensorflow(threads)
    model, history = train_fold(read_candidates(dataset), config, training_seed, fold)
    save_model(model, model_out)
    write_json(history_out, history)
    return history
