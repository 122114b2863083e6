"""Score a trained tagger on the test split and write its metrics (AUC, rejections ± bootstrap σ, size)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from autopruner.dataset.merge import load_split
from autopruner.evaluation import metrics
from autopruner.evaluation.scores import bootstrap_rng, write_scores
from autopruner.io_utils import require_file, write_json
from autopruner.schema import FEATURE_NAMES
from autopruner.training.network import fold_model, model_size
from autopruner.training.tagger import load_model


def load_test_split(dataset_path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, w) of the test split, features in FEATURE_NAMES order, w the generator weight.

    Performance is quoted on the spectra as generated, not on the p_T-flattened ones used for training.
    """
    return load_split(str(require_file(dataset_path)), "test", FEATURE_NAMES, weight_column="weight")


def predict_scores(model, X: np.ndarray, batch_size: int = 8192) -> np.ndarray:
    """Tagger scores (float32, one per candidate) in inference mode."""
    return np.asarray(
        model.predict(np.asarray(X, dtype=np.float32), batch_size=batch_size, verbose=0)
    ).ravel()


def evaluate_scores(scores, labels, weights, cfg: dict[str, Any]) -> dict:
    """AUC and rejection at the configured ε_S, each with its bootstrap σ (seeded from the config)."""
    ev = cfg["evaluation"]
    return metrics.performance_summary(
        scores, labels, weights, ev["signal_efficiencies"], int(ev["bootstrap_replicas"]), bootstrap_rng(cfg)
    )


def evaluate_keras_model(model, X, y, w, cfg: dict[str, Any]) -> tuple[dict, np.ndarray]:
    """Metrics (performance and live size) and scores of an in-memory model."""
    scores = predict_scores(model, X)
    result = evaluate_scores(scores, y, w, cfg)
    stages = fold_model(model, closed_threshold=float(cfg["autopruner"]["closed_threshold"]))
    result["size"] = model_size(stages)
    return result, scores


def evaluate_model(
    model_path: str | os.PathLike,
    dataset_path: str | os.PathLike,
    cfg: dict[str, Any],
    out_metrics_json: str | os.PathLike,
    out_scores_npz: str | os.PathLike,
) -> dict:
    """Evaluate one saved model on the test split; write ``metrics.json`` and ``scores.npz``
    (scores, labels, weights)."""
    model = load_model(model_path)
    X, y, w = load_test_split(dataset_path)
    result, scores = evaluate_keras_model(model, X, y, w, cfg)
    result = {"model": str(model_path), **result}
    write_scores(out_scores_npz, scores, y, w)
    write_json(out_metrics_json, result)
    return result
