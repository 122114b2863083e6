"""The evaluation's score files and bootstrap stream: what the `evaluate` rule writes and the ROC plots read.

Kept apart from `autopruner.evaluation.scoring`, which loads Keras models: the plotting and report jobs (`roc_budget`,
`roc_all`, `comparison`, `hls_summary`) read only these files, and so never import TensorFlow (~7 s of CPU a job).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from autopruner.io_utils import CorruptInputError, atomic_output, require_file

#: spawn key of the bootstrap stream; every model gets the same replicas of the same test candidates (paired)
BOOTSTRAP_STREAM = 5


def bootstrap_rng(cfg: dict[str, Any]) -> np.random.Generator:
    """The evaluation's bootstrap generator, from the master seed (identical for every model on purpose)."""
    return np.random.default_rng(np.random.SeedSequence(int(cfg["seed"]), spawn_key=(BOOTSTRAP_STREAM,)))


def write_scores(path: str | os.PathLike, scores, labels, weights) -> None:
    """Per-candidate scores with their labels and weights, for the ROC plots (atomic)."""
    with atomic_output(path) as tmp:
        np.savez_compressed(
            tmp,
            scores=np.asarray(scores, dtype=np.float32),
            labels=np.asarray(labels, dtype=np.int8),
            weights=np.asarray(weights, dtype=np.float64),
        )


def read_scores(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scores, labels, weights) from a ``.scores.npz``; a broken file raises naming it."""
    p = Path(require_file(path))
    try:
        with np.load(p) as data:
            return data["scores"], data["labels"], data["weights"]
    except Exception as exc:
        raise CorruptInputError(f"cannot read scores file {p}: {exc}") from exc
