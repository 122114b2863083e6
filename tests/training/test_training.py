"""Training stage on small synthetic data: input pruning, exact hidden budgets, reduction, determinism."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from autopruner.roc import auc
from autopruner.training.pruning import PrunerSettings
from autopruner.training.steps import (
    Split,
    TrainingData,
    TrainSettings,
    kept_hidden_sizes,
    load_mask,
    load_model,
    plot_feature_ranking,
    plot_training,
    reduce_model,
    retrain,
    save_model,
    train_autopruner,
    train_baseline,
    train_gated,
)
from autopruner.training.tagger import INPUT_GATE, build_tagger, configure_tensorflow, gate_name, hidden_name

SMALL = TrainSettings(hidden_layers=(16, 16), epochs=6, batch_size=128, learning_rate=3e-3, patience=3)
# a 3-epoch warm-up lets the classifier learn which inputs matter before the pruner starts
FAST_PRUNER = PrunerSettings(warmup_epochs=3, ramp_epochs=4, anneal_epochs=3, epochs=16)


@pytest.fixture(scope="module", autouse=True)
def _tensorflow():
    configure_tensorflow(2)


def toy_split(rng: np.random.Generator, n: int, informative: list[int], n_features: int) -> Split:
    """Label from a non-linear function of the ``informative`` columns only; columns on different scales."""
    z = rng.normal(size=(n, n_features))
    zi = z[:, informative]
    logit = 2.0 * zi.sum(axis=1) + 1.5 * zi[:, 0] * zi[:, -1]
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    scale = np.geomspace(0.1, 50.0, n_features)
    return Split.of(z * scale + scale, y, rng.uniform(0.5, 2.0, n))


def toy_data(seed: int, n_train: int = 3000, informative=(1, 4, 6), n_features: int = 8) -> TrainingData:
    rng = np.random.default_rng(seed)
    informative = list(informative)
    return TrainingData(
        toy_split(rng, n_train, informative, n_features),
        toy_split(rng, n_train // 2, informative, n_features),
    )


def fast_schedule(epochs: int, **overrides) -> PrunerSettings:
    """A short pruner schedule (2 warm-up, 3 ramp and 2 anneal epochs) with a steep pruner loss capped at 1000, so a
    test training decides its gates within `epochs` epochs; `overrides` set further PrunerSettings fields."""
    return PrunerSettings(budget_weight=1000.0, pruner_growth=2.0, pruner_scale_max=1000.0, warmup_epochs=2,
                          ramp_epochs=3, anneal_epochs=2, epochs=epochs, **overrides)


def test_roc_auc_matches_pair_counting():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    score = np.round(rng.normal(size=300) + y, 1)  # rounded: ties
    w = rng.uniform(0.1, 2.0, 300)
    sig, bkg = y == 1, y == 0
    diff = score[sig][:, None] - score[bkg][None, :]
    pair_w = w[sig][:, None] * w[bkg][None, :]
    expected = (pair_w * ((diff > 0) + 0.5 * (diff == 0))).sum() / pair_w.sum()
    assert auc(score, y, w) == pytest.approx(expected, rel=1e-12)


def test_split_rescales_weights_and_rejects_bad_ones():
    s = Split.of(np.zeros((4, 2)), np.array([0, 1, 0, 1]), np.array([1.0, 3.0, 1.0, 3.0]))
    assert s.x.dtype == np.float32 and s.w.mean() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="weights"):
        Split.of(np.zeros((2, 2)), np.array([0, 1]), np.array([1.0, np.nan]))


def test_input_pruning_keeps_exactly_the_informative_features():
    informative = [1, 4, 6]
    data = toy_data(11, informative=informative)
    network, mask, history = train_gated(data, SMALL, FAST_PRUNER, seed=5, input_features_kept=len(informative))
    assert mask.layers[INPUT_GATE]["kept"] == informative
    assert mask.thresholds["passed"]
    gates = network.get_layer(INPUT_GATE).gate_values()
    assert np.all(gates[informative] > 0.99) and np.all(np.delete(gates, informative) < 0.01)
    assert history["validation_auc"] > 0.8


def test_hidden_group_ends_with_exactly_k_open_and_reduce_matches(tmp_path):
    data = toy_data(12)
    network, mask, history = train_autopruner(data, SMALL, FAST_PRUNER, budget_percent=30, seed=3)
    k = 10  # ceil(30% of 32)
    values = np.concatenate([network.get_layer(gate_name(i)).gate_values() for i in (1, 2)])
    assert np.sum(values > 0.99) == k and np.sum(values < 0.01) == 32 - k
    assert sum(history["kept_per_layer"].values()) == k
    for key in ("classifier_loss", "pruner_loss", "total_loss", "val_classifier_loss", "phase"):
        assert len(history[key]) == history["epochs_run"]
    assert history["phase"][0] == "warmup" and history["phase"][-1] == "anneal"
    np.testing.assert_allclose(
        np.asarray(history["classifier_loss"]) + np.asarray(history["pruner_loss"]),
        history["total_loss"],
        rtol=1e-4,
    )
    assert set(history["open_gates"]) == {gate_name(1), gate_name(2)}

    reduced = reduce_model(network, mask)
    assert [reduced.get_layer(hidden_name(i)).units for i in (1, 2)] == kept_hidden_sizes(mask, 2)
    assert not any("gate" in layer.name for layer in reduced.layers)
    x = data.validation.x
    np.testing.assert_allclose(reduced.predict(x, verbose=0), network.predict(x, verbose=0), atol=1e-5)

    # the saved pruned model and mask.json reproduce the same reduced network
    save_model(network, tmp_path / "pruned.keras")
    (tmp_path / "mask.json").write_text(json.dumps(mask.to_json()))
    again = reduce_model(load_model(tmp_path / "pruned.keras"), load_mask(tmp_path / "mask.json"))
    np.testing.assert_allclose(again.predict(x, verbose=0), reduced.predict(x, verbose=0), atol=1e-6)
    plot_training(history, tmp_path / "training.pdf")
    assert (tmp_path / "training.pdf").read_bytes().startswith(b"%PDF")


def test_pruner_loss_binarises_the_gates_before_the_anneal():
    """With geometric growth of the pruner loss, at most 5 % of the gates are left for the anneal to decide."""
    data = toy_data(16, n_train=6000)
    settings = TrainSettings(hidden_layers=(32, 32), epochs=6, batch_size=64, learning_rate=3e-3, patience=3)
    network, mask, history = train_autopruner(data, settings, fast_schedule(18), budget_percent=50, seed=4)
    assert history["undecided_gates_at_anneal"] <= 0.05 * 64
    assert history["pruner_scale"][0] == 1.0 and max(history["pruner_scale"]) > 100.0
    assert sum(history["kept_per_layer"].values()) == 32 and mask.thresholds["passed"]


def test_reduce_folds_gates_of_a_random_gated_network_to_1e5():
    """Soft gates, a hard mask and an input gate: the plain network reproduces the gated one exactly."""
    rng = np.random.default_rng(4)
    data = toy_data(13, n_train=600)
    norm = keras.layers.Normalization(name="normalization")
    norm.adapt(data.train.x)
    network = build_tagger(norm, (12, 7, 9), gated=True, input_gate=True)
    layers = {
        INPUT_GATE: data.n_features,
        gate_name(1): 12,
        gate_name(2): 7,
        gate_name(3): 9,
    }
    mask = {"layers": {}}
    for name, n in layers.items():
        logits = rng.normal(0.0, 3.0, n).astype(np.float32)
        kept = np.sort(rng.choice(n, size=max(1, n // 2), replace=False))
        hard = np.zeros(n, dtype=np.float32)
        hard[kept] = 1.0
        network.get_layer(name).logit.assign(logits)
        network.get_layer(name).hard_mask.assign(hard)
        mask["layers"][name] = {"nodes": n, "kept": kept.tolist()}
    reduced = reduce_model(network, mask)
    assert [reduced.get_layer(hidden_name(i)).units for i in (1, 2, 3)] == [6, 3, 4]
    np.testing.assert_allclose(
        reduced.predict(data.validation.x, verbose=0),
        network.predict(data.validation.x, verbose=0),
        atol=1e-5,
    )


def test_fixed_seed_gives_identical_weights_on_rerun():
    data = toy_data(14, n_train=1500)
    settings = TrainSettings(hidden_layers=(8, 8), epochs=3, batch_size=128, learning_rate=3e-3, patience=3)
    first, _ = train_baseline(data, settings, seed=21)
    second, _ = train_baseline(data, settings, seed=21)
    other, _ = train_baseline(data, settings, seed=22)
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(first.get_weights(), other.get_weights(), strict=True))


def test_retrain_builds_reduced_architecture_from_scratch():
    data = toy_data(15, n_train=1500)
    model, history = retrain(data, [5, 3], SMALL, seed=1)
    assert [model.get_layer(hidden_name(i)).units for i in (1, 2)] == [5, 3]
    assert history["epochs_run"] >= 1 and history["wall_time_s"] > 0
    assert 0.5 < history["validation_auc"] <= 1.0


def test_plot_feature_ranking_writes_pdf(tmp_path):
    names = ["a", "b", "c"]
    ranking = {
        "features": [{"name": n} for n in names],
        "budgets": [
            {"k": 1, "kept": ["a"], "gate_at_anneal": {"a": 0.9, "b": 0.2, "c": 0.1}, "validation_auc": 0.7},
            {
                "k": 2,
                "kept": ["a", "b"],
                "gate_at_anneal": {"a": 0.9, "b": 0.8, "c": 0.1},
                "validation_auc": 0.8,
            },
        ],
        "n_features": 3,
        "reference_validation_auc": 0.82,
    }
    plot_feature_ranking(ranking, tmp_path / "ranking.pdf")
    assert (tmp_path / "ranking.pdf").read_bytes().startswith(b"%PDF")
