"""k-fold assignment and fold training data: a partition of the candidates, deterministic, stratified by label,
events kept whole, the held-out fold never trained on."""

from __future__ import annotations

import numpy as np
import pytest

from autopruner.validation.folds import (
    Candidates,
    assign_folds,
    fold_training_data,
    held_out_digest,
    inner_validation_mask,
    validation_fraction,
)

SEED = 20220708


def events_and_labels(n_events: int = 1000, signal_share: float = 0.3, seed: int = 1):
    """Candidates of ``n_events`` events, one or two per event; an event is signal or background as a whole."""
    rng = np.random.default_rng(seed)
    event_label = (rng.random(n_events) < signal_share).astype(np.int8)
    per_event = rng.integers(1, 3, n_events)
    event_id = np.repeat(rng.choice(2**40, n_events, replace=False).astype(np.uint64), per_event)
    return event_id, np.repeat(event_label, per_event)


def test_folds_partition_the_candidates_with_whole_events():
    event_id, label = events_and_labels()
    folds = assign_folds(event_id, label, 5, SEED)
    assert folds.shape == label.shape and set(np.unique(folds)) == set(range(5))
    held_out = [np.flatnonzero(folds == k) for k in range(5)]
    assert sorted(np.concatenate(held_out).tolist()) == list(range(label.size))  # every candidate in one fold
    for event in np.unique(event_id):
        assert np.unique(folds[event_id == event]).size == 1  # an event is never split across folds


def test_folds_are_stratified_by_label():
    event_id, label = events_and_labels(n_events=1003)
    folds = assign_folds(event_id, label, 4, SEED)
    for value in (0, 1):
        events_per_fold = [np.unique(event_id[(label == value) & (folds == k)]).size for k in range(4)]
        assert max(events_per_fold) - min(events_per_fold) <= 1, events_per_fold


def test_folds_are_deterministic_and_follow_the_seed_not_the_file_order():
    event_id, label = events_and_labels()
    folds = assign_folds(event_id, label, 5, SEED)
    assert np.array_equal(folds, assign_folds(event_id, label, 5, SEED))
    order = np.random.default_rng(9).permutation(label.size)
    assert np.array_equal(assign_folds(event_id[order], label[order], 5, SEED), folds[order])
    assert not np.array_equal(assign_folds(event_id, label, 5, SEED + 1), folds)


@pytest.mark.parametrize("n_folds", [1, 0])
def test_fewer_than_two_folds_is_refused(n_folds):
    event_id, label = events_and_labels(n_events=20)
    with pytest.raises(ValueError, match="at least 2 folds"):
        assign_folds(event_id, label, n_folds, SEED)


def test_a_class_with_fewer_events_than_folds_is_refused():
    with pytest.raises(ValueError, match="cannot fill 5 folds"):
        assign_folds(np.arange(12, dtype=np.uint64), np.array([1] * 3 + [0] * 9), 5, SEED)


def test_early_stopping_share_follows_the_dataset_split():
    fraction = validation_fraction({"train": 0.6, "validation": 0.2, "test": 0.2})
    assert fraction == pytest.approx(0.25)
    event_id, label = events_and_labels(n_events=2000)
    is_validation = inner_validation_mask(event_id, label, fraction, SEED, fold=0)
    for value in (0, 1):
        events = np.unique(event_id[label == value])
        chosen = np.unique(event_id[(label == value) & is_validation])
        assert chosen.size == round(fraction * events.size)
    assert not np.array_equal(is_validation, inner_validation_mask(event_id, label, fraction, SEED, fold=1))
    with pytest.raises(ValueError, match="validation fraction"):
        validation_fraction({"train": 0.8, "validation": 0.0, "test": 0.2})


def test_training_data_of_a_fold_leaves_that_fold_out():
    event_id, label = events_and_labels()
    n = label.size
    x = np.column_stack([np.arange(n), label]).astype(np.float32)  # column 0: the candidate's index
    candidates = Candidates(x, label, event_id, np.ones(n), np.full(n, 2.0))
    folds = assign_folds(event_id, label, 5, SEED)
    data = fold_training_data(candidates, folds, 2, 0.25, SEED)
    used = np.concatenate([data.train.x[:, 0], data.validation.x[:, 0]]).astype(int)
    assert sorted(used.tolist()) == np.flatnonzero(folds != 2).tolist()  # all other folds, each candidate once
    assert data.validation.y.size == pytest.approx(0.25 * used.size, rel=0.1)
    assert np.array_equal(data.train.y, label[data.train.x[:, 0].astype(int)])
    assert data.train.w.mean() == pytest.approx(1.0)  # train_weight, rescaled as every training split


def test_held_out_digest_ignores_order_and_duplicates():
    ids = np.array([5, 3, 9, 3], dtype=np.uint64)
    assert held_out_digest(ids) == held_out_digest(np.array([9, 5, 3], dtype=np.uint64))
    assert held_out_digest(ids) != held_out_digest(np.array([9, 5], dtype=np.uint64))
