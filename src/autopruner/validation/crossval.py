"""Pooled out-of-fold scores of the k fold models (`autopruner.validation.folds`) and their metrics.

Fold i of the tested sample is scored by the model trained without fold i of its training sample. On its own
generator (toy on toy, Pythia on Pythia) that makes every candidate a test candidate exactly once; on the other
generator (toy on Pythia) every candidate is scored by one toy model, fold i by the fold-i model. The scores of the
k folds are pooled, and AUC and rejections come from the evaluation's bootstrap (`autopruner.evaluation.scoring`,
generator weights, as the test-split evaluation of every other model).

Two errors are recorded, because they answer different questions. The pooled error is the bootstrap σ of the
pooled scores: the candidates are resampled, the k models held fixed, so it is the statistical error of the test
sample, comparable to the single-split error it replaces. The spread of the k per-fold values (each on 1/k of the
candidates, each with its own model) adds the model-to-model variation on top of a k-times smaller test sample.
On the other generator's sample, which no fold model trained on, each model also scores every candidate: the spread of
those k values is the model-to-model variation alone. Pooling scores of different models with one threshold is
slightly pessimistic when the models' score scales differ; the mean of the per-fold values, recorded beside it, is
free of that.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autopruner.evaluation.metrics import spread
from autopruner.evaluation.scoring import evaluate_scores, predict_scores
from autopruner.io_utils import CorruptInputError, atomic_output, require_file, write_json
from autopruner.training.tagger import configure_tensorflow, load_model
from autopruner.validation.folds import Candidates, assign_folds, held_out_digest, read_candidates

#: what the ``err`` of the pooled metrics and the ``folds`` block mean, written into every metrics file
ERROR_NOTE = (
    "err: bootstrap standard deviation on the pooled out-of-fold scores (candidates resampled, the k fold models "
    "held fixed; the test sample's statistical error). folds: each fold's value on its 1/k of the candidates with "
    "its own model; std is their spread (statistics of 1/k of the sample plus model-to-model variation), "
    "sem = std / sqrt(k). models_on_whole_sample (only on a sample the models did not train on): each fold model's "
    "values on all its candidates; their std is the model-to-model variation alone."
)


def out_of_fold_scores(score_fold: Callable[[int, np.ndarray], np.ndarray], x: np.ndarray,
                       folds: np.ndarray, n_folds: int) -> np.ndarray:
    """One score per candidate: the candidates of fold i scored by ``score_fold(i, x_of_fold_i)``.

    Raises ValueError when a fold label lies outside 0..n_folds-1 or a fold's scorer returns the wrong number of
    scores, so no candidate can end up unscored or scored twice.
    """
    folds = np.asarray(folds)
    if folds.size and (folds.min() < 0 or folds.max() >= n_folds):
        raise ValueError(f"fold labels must lie in 0..{n_folds - 1}")
    scores = np.full(folds.size, np.nan, dtype=np.float32)
    for fold in range(n_folds):
        index = np.flatnonzero(folds == fold)
        fold_scores = np.asarray(score_fold(fold, x[index]), dtype=np.float32).ravel()
        if fold_scores.size != index.size:
            raise ValueError(f"fold {fold}: {fold_scores.size} scores for {index.size} candidates")
        scores[index] = fold_scores
    return scores


def fold_spread(per_fold: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """AUC and rejections of k evaluations (one per fold or per fold model), each as values, mean, std and sem."""
    working_points = per_fold[0]["rejection"]
    return {
        "n_folds": len(per_fold),
        "n_signal": [int(m["n_signal"]) for m in per_fold],
        "n_background": [int(m["n_background"]) for m in per_fold],
        "auc": spread([m["auc"] for m in per_fold]),
        "rejection": {eff: spread([m["rejection"][eff]["value"] for m in per_fold]) | {
            "err": [m["rejection"][eff]["err"] for m in per_fold]} for eff in working_points},
    }


def model_spread(score_all: Callable[[int], np.ndarray], labels: np.ndarray, weights: np.ndarray, n_folds: int,
                 cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Each fold model's metrics on the whole sample, ``score_all(i)`` being model i's scores of every candidate.

    Only meaningful on a sample none of the models trained on (the other generator's): all k models then see the
    same candidates, so the spread of their values is the model-to-model variation alone.
    """
    return fold_spread([evaluate_scores(score_all(fold), labels, weights, cfg) for fold in range(n_folds)])


def pooled_metrics(scores: np.ndarray, labels: np.ndarray, weights: np.ndarray, folds: np.ndarray, n_folds: int,
                   cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Metrics of the pooled scores (bootstrap, as `evaluate_scores`) plus the per-fold spread and the error note."""
    result = evaluate_scores(scores, labels, weights, cfg)
    per_fold = []
    for fold in range(n_folds):
        keep = folds == fold
        per_fold.append(evaluate_scores(scores[keep], labels[keep], weights[keep], cfg))
    return result | {"folds": fold_spread(per_fold), "error_note": ERROR_NOTE}


def read_fold_history(path: str | os.PathLike) -> dict[str, Any]:
    """A fold model's history.json (written by `run_train_fold`)."""
    path = require_file(path)
    try:
        history = json.loads(Path(path).read_text())
        history["fold"], history["n_folds"], history["held_out_digest"]  # noqa: B018 - validate structure
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CorruptInputError(f"{path} is not a fold model's history: {exc}") from exc
    return history


def check_fold_histories(histories: Sequence[Mapping[str, Any]], tested: Candidates, folds: np.ndarray,
                         n_folds: int, same_sample: bool) -> None:
    """The i-th history belongs to fold i of an n_folds split and, on its own sample, held out exactly fold i.

    Raises ValueError otherwise: a stale or misordered model would score candidates it was trained on.
    """
    if len(histories) != n_folds:
        raise ValueError(f"{len(histories)} fold models for {n_folds} folds")
    for fold, history in enumerate(histories):
        if int(history["fold"]) != fold or int(history["n_folds"]) != n_folds:
            raise ValueError(f"model {fold} was trained as fold {history['fold']} of {history['n_folds']}")
        if same_sample and history["held_out_digest"] != held_out_digest(tested.event_id[folds == fold]):
            raise ValueError(f"fold {fold}'s model did not hold out the events of fold {fold} of this sample")


def write_fold_scores(path: str | os.PathLike, scores: np.ndarray, candidates: Candidates,
                      folds: np.ndarray) -> None:
    """Pooled scores with labels, generator weights, folds and event ids (atomic); readable by ``read_scores``."""
    with atomic_output(path) as tmp:
        np.savez_compressed(
            tmp,
            scores=np.asarray(scores, dtype=np.float32),
            labels=np.asarray(candidates.label, dtype=np.int8),
            weights=np.asarray(candidates.weight, dtype=np.float64),
            folds=np.asarray(folds, dtype=np.int8),
            event_id=np.asarray(candidates.event_id, dtype=np.uint64),
        )


def run_pool(model_paths: Sequence[str], history_paths: Sequence[str], dataset: str | os.PathLike,
             cfg: Mapping[str, Any], same_sample: bool, out_metrics: str | os.PathLike,
             out_scores: str | os.PathLike, threads: int = 1) -> dict[str, Any]:
    """Rule validation_pool: score every candidate of ``dataset`` with its fold's model, write the pooled metrics
    and scores; return the metrics.

    ``cfg`` holds ``seed`` (fold assignment and bootstrap), ``evaluation`` and ``validation.folds``;
    ``same_sample`` says the models were trained on this dataset, so their held-out folds are checked.
    """
    configure_tensorflow(threads)
    n_folds = int(cfg["validation"]["folds"])
    tested = read_candidates(dataset)
    folds = assign_folds(tested.event_id, tested.label, n_folds, int(cfg["seed"]))
    check_fold_histories([read_fold_history(p) for p in history_paths], tested, folds, n_folds, same_sample)
    models = [load_model(p) for p in model_paths]
    scores = out_of_fold_scores(lambda fold, x: predict_scores(models[fold], x), tested.x, folds, n_folds)
    result = pooled_metrics(scores, tested.label, tested.weight, folds, n_folds, cfg)
    if not same_sample:
        result["models_on_whole_sample"] = model_spread(lambda fold: predict_scores(models[fold], tested.x),
                                                        tested.label, tested.weight, n_folds, cfg)
    result = {"models": [str(p) for p in model_paths], "dataset": str(dataset), **result}
    write_fold_scores(out_scores, scores, tested, folds)
    write_json(out_metrics, result)
    return result
