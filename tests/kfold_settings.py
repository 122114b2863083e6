"""Settings of the k-fold validation tests: a one-layer tagger trained for a few epochs, a small bootstrap."""

from __future__ import annotations


def kfold_config(seed: int, n_folds: int, epochs: int, batch_size: int) -> dict:
    """The config keys the fold training and pooling read (`seed`, `training`, `dataset.split`, `evaluation`,
    `validation.folds`), sized for tests of a few seconds."""
    return {
        "seed": seed,
        "training": {"hidden_layers": [8], "epochs": epochs, "batch_size": batch_size, "learning_rate": 0.01,
                     "patience": 2, "seeds": [0], "threads": 1},
        "dataset": {"split": {"train": 0.6, "validation": 0.2, "test": 0.2}},
        "evaluation": {"bootstrap_replicas": 10, "signal_efficiencies": [0.3, 0.5]},
        "validation": {"folds": n_folds},
    }
