"""Pooled out-of-fold scoring on tiny synthetic datasets: every candidate scored exactly once, by the model that did
not train on it; pooled and per-fold metrics; stale or misordered fold models refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
import uproot
from kfold_settings import kfold_config

from autopruner.evaluation.scores import read_scores
from autopruner.schema import FEATURE_NAMES
from autopruner.training.tagger import configure_tensorflow, load_model
from autopruner.validation.crossval import (
    check_fold_histories,
    out_of_fold_scores,
    read_fold_history,
    run_pool,
)
from autopruner.validation.folds import assign_folds, read_candidates, run_train_fold

N_FOLDS = 3
CONFIG = kfold_config(seed=11, n_folds=N_FOLDS, epochs=3, batch_size=32)

@pytest.fixture(scope="module", autouse=True)
def _tensorflow():
    configure_tensorflow(2)


def write_dataset(path, seed: int, n_events: int = 600, shift: float = 1.5) -> None:
    """A dataset file: one or two candidates per event, signal shifted in the first three features."""
    rng = np.random.default_rng(seed)
    event_label = (rng.random(n_events) < 0.4).astype(np.int8)
    per_event = rng.integers(1, 3, n_events)
    label = np.repeat(event_label, per_event)
    n = label.size
    columns = {name: rng.normal(0.0, 1.0, n).astype(np.float32) for name in FEATURE_NAMES}
    for name in FEATURE_NAMES[:3]:
        columns[name] += np.float32(shift) * label
    event_id = np.repeat(np.arange(n_events, dtype=np.uint64) + np.uint64(seed << 20), per_event)
    with uproot.recreate(path) as f:
        f["candidates"] = {**columns, "label": label, "event_id": event_id, "weight": rng.uniform(0.5, 1.5, n),
                           "train_weight": np.ones(n), "split": rng.integers(0, 3, n).astype(np.int8)}


@pytest.fixture(scope="module")
def fold_models(tmp_path_factory):
    """Two synthetic samples and the fold models trained on the first: {name: dataset}, model and history paths."""
    folder = tmp_path_factory.mktemp("kfold")
    datasets = {"own": folder / "own.root", "other": folder / "other.root"}
    write_dataset(datasets["own"], seed=1)
    write_dataset(datasets["other"], seed=2, shift=1.0)
    models, histories = [], []
    for fold in range(N_FOLDS):
        models.append(str(folder / f"fold{fold}" / "model.keras"))
        histories.append(str(folder / f"fold{fold}" / "history.json"))
        run_train_fold(datasets["own"], models[-1], histories[-1], CONFIG, training_seed=0, fold=fold, threads=2)
    return datasets, models, histories


def test_every_candidate_is_scored_once_by_its_fold_model(fold_models, tmp_path):
    datasets, models, histories = fold_models
    result = run_pool(models, histories, datasets["own"], CONFIG, True, tmp_path / "m.json", tmp_path / "s.npz")
    candidates = read_candidates(datasets["own"])
    scores, labels, weights = read_scores(tmp_path / "s.npz")
    with np.load(tmp_path / "s.npz") as saved:
        folds, event_id = saved["folds"], saved["event_id"]
    assert scores.size == len(candidates) and np.all(np.isfinite(scores))
    assert np.array_equal(event_id, candidates.event_id) and np.array_equal(labels, candidates.label)
    assert np.array_equal(folds, assign_folds(candidates.event_id, candidates.label, N_FOLDS, CONFIG["seed"]))
    for fold, path in enumerate(models):
        held_out = folds == fold
        history = read_fold_history(histories[fold])
        assert history["n_held_out"] == held_out.sum()
        assert history["n_train"] + history["n_validation"] == (~held_out).sum()
        expected = load_model(path).predict(candidates.x[held_out], verbose=0).ravel()
        assert np.allclose(scores[held_out], expected, atol=1e-6)
    assert result["n_signal"] + result["n_background"] == len(candidates)
    assert weights.sum() == pytest.approx(candidates.weight.sum())
    assert 0.5 < result["auc"] <= 1.0
    per_fold = result["folds"]
    assert per_fold["n_folds"] == N_FOLDS and sum(per_fold["n_background"]) == result["n_background"]
    r50 = per_fold["rejection"]["0.5"]
    assert len(r50["values"]) == N_FOLDS and r50["mean"] == pytest.approx(np.mean(r50["values"]))
    assert "bootstrap" in result["error_note"] and "models_on_whole_sample" not in result
    assert json.loads((tmp_path / "m.json").read_text())["rejection"]["0.5"]["value"] == result["rejection"]["0.5"][
        "value"]


def test_the_other_sample_is_scored_fold_by_fold(fold_models, tmp_path):
    datasets, models, histories = fold_models
    result = run_pool(models, histories, datasets["other"], CONFIG, False, tmp_path / "m.json", tmp_path / "s.npz")
    other = read_candidates(datasets["other"])
    # no model trained on this sample: each one also scores all of it, the spread being the models' alone
    spread = result["models_on_whole_sample"]
    assert spread["n_folds"] == N_FOLDS and spread["n_background"] == [result["n_background"]] * N_FOLDS
    assert len(spread["rejection"]["0.5"]["values"]) == N_FOLDS
    with np.load(tmp_path / "s.npz") as saved:
        scores, folds = saved["scores"], saved["folds"]
    assert scores.size == len(other)
    for fold in range(N_FOLDS):
        held_out = folds == fold
        expected = load_model(models[fold]).predict(other.x[held_out], verbose=0).ravel()
        assert np.allclose(scores[held_out], expected, atol=1e-6)


def test_misordered_or_foreign_fold_models_are_refused(fold_models):
    datasets, _, histories = fold_models
    loaded = [read_fold_history(p) for p in histories]
    own, other = read_candidates(datasets["own"]), read_candidates(datasets["other"])
    own_folds = assign_folds(own.event_id, own.label, N_FOLDS, CONFIG["seed"])
    check_fold_histories(loaded, own, own_folds, N_FOLDS, same_sample=True)
    with pytest.raises(ValueError, match="trained as fold"):
        check_fold_histories(loaded[::-1], own, own_folds, N_FOLDS, same_sample=True)
    with pytest.raises(ValueError, match="fold models for"):
        check_fold_histories(loaded[:-1], own, own_folds, N_FOLDS, same_sample=True)
    other_folds = assign_folds(other.event_id, other.label, N_FOLDS, CONFIG["seed"])
    with pytest.raises(ValueError, match="did not hold out"):  # models of one sample claimed for another
        check_fold_histories(loaded, other, other_folds, N_FOLDS, same_sample=True)


def test_out_of_fold_scoring_calls_each_fold_once_on_its_own_candidates():
    folds = np.array([2, 0, 1, 0, 2, 1, 1])
    x = np.arange(folds.size, dtype=np.float32)[:, None]
    seen = []

    def score_fold(fold, x_fold):
        seen.append((fold, x_fold[:, 0].astype(int).tolist()))
        return 10.0 * fold + x_fold[:, 0]

    scores = out_of_fold_scores(score_fold, x, folds, 3)
    assert seen == [(0, [1, 3]), (1, [2, 5, 6]), (2, [0, 4])]
    assert np.array_equal(scores, 10.0 * folds + np.arange(folds.size))
    with pytest.raises(ValueError, match="scores for"):
        out_of_fold_scores(lambda fold, x_fold: np.zeros(1), x, folds, 3)
    with pytest.raises(ValueError, match="fold labels"):
        out_of_fold_scores(score_fold, x, folds, 2)
