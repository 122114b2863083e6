"""AutoPruner gate layer, pruner loss, budgets and the kept-set decision."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from autopruner.training.pruning import (
    AutoPrunerGate,
    BudgetGroup,
    PrunerSettings,
    PruningError,
    apply_hard_mask,
    binarisation_term,
    budget_term,
    connected_top_k_kept,
    decide_mask,
    hidden_budget_groups,
    pruner_loss,
    require_thresholds,
    top_k_kept,
)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def gated_model(n: int, gate_init: float = 3.0) -> keras.Model:
    inputs = keras.Input(shape=(n,))
    return keras.Model(inputs, AutoPrunerGate(gate_init=gate_init, name="gate")(inputs))


def test_gate_multiplies_each_node_by_sigmoid_of_its_logit():
    rng = np.random.default_rng(1)
    model = gated_model(5)
    logits = np.array([-3.0, -0.5, 0.0, 1.0, 4.0], dtype=np.float32)
    model.get_layer("gate").logit.assign(logits)
    x = rng.normal(size=(7, 5)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), x * sigmoid(logits), rtol=1e-6)
    np.testing.assert_allclose(model.get_layer("gate").gate_values(), sigmoid(logits.astype(np.float64)), rtol=1e-6)


def test_gate_starts_at_gate_init_and_hard_mask_zeroes_nodes():
    model = gated_model(4, gate_init=2.0)
    gate = model.get_layer("gate")
    np.testing.assert_allclose(gate.gate_values(), sigmoid(np.full(4, 2.0)), rtol=1e-6)
    gate.hard_mask.assign(np.array([1, 0, 1, 0], dtype=np.float32))
    out = model.predict(np.ones((2, 4), dtype=np.float32), verbose=0)
    np.testing.assert_array_equal(out[:, [1, 3]], 0.0)
    assert [v.name for v in gate.trainable_weights] == ["logit"]


def test_gate_round_trips_through_model_save(tmp_path):
    rng = np.random.default_rng(2)
    inputs = keras.Input(shape=(6,))
    x = keras.layers.Dense(4, activation="relu", name="dense")(inputs)
    x = AutoPrunerGate(gate_init=1.5, name="gate")(x)
    model = keras.Model(inputs, keras.layers.Dense(1, name="out")(x))
    model.get_layer("gate").logit.assign(rng.normal(size=4).astype(np.float32))
    model.get_layer("gate").hard_mask.assign(np.array([1, 1, 0, 1], dtype=np.float32))
    path = tmp_path / "gated.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    gate = loaded.get_layer("gate")
    assert isinstance(gate, AutoPrunerGate)
    assert gate.get_config()["gate_init"] == 1.5
    np.testing.assert_array_equal(gate.logit.numpy(), model.get_layer("gate").logit.numpy())
    np.testing.assert_array_equal(gate.hard_mask.numpy(), [1, 1, 0, 1])
    x = rng.normal(size=(9, 6)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("n_gates,k", [(10, 3), (256, 128), (39, 5)])
def test_pruner_loss_is_zero_exactly_at_a_binary_mask_with_k_ones(n_gates, k):
    rng = np.random.default_rng(n_gates)
    mask = np.zeros(n_gates, dtype=np.float32)
    mask[rng.choice(n_gates, size=k, replace=False)] = 1.0
    assert float(pruner_loss(mask, k, budget_weight=10.0, binary_weight=1.0)) == 0.0


@pytest.mark.parametrize("n_gates,k", [(10, 3), (256, 128)])
def test_pruner_loss_is_positive_away_from_a_k_hot_mask(n_gates, k):
    rng = np.random.default_rng(7)
    wrong_count = np.zeros(n_gates, dtype=np.float32)
    wrong_count[: k + 1] = 1.0
    right_sum_not_binary = np.full(n_gates, k / n_gates, dtype=np.float32)
    one_half_gate = np.zeros(n_gates, dtype=np.float32)
    one_half_gate[: k - 1] = 1.0
    one_half_gate[k - 1 : k + 1] = 0.5  # sums to k but two gates undecided
    for gates in (wrong_count, right_sum_not_binary, one_half_gate, rng.uniform(size=n_gates)):
        assert float(pruner_loss(gates, k, budget_weight=10.0, binary_weight=1.0)) > 0.0
    assert float(budget_term(right_sum_not_binary, k)) == pytest.approx(0.0, abs=1e-10)
    assert float(binarisation_term(wrong_count)) == 0.0
    expected_budget = ((k + 1 - k) / n_gates) ** 2
    assert float(budget_term(wrong_count, k)) == pytest.approx(expected_budget, rel=1e-5)


def test_budget_groups_give_the_talk_node_counts():
    names = [f"gate_{i}" for i in range(1, 5)]
    ks = {b: hidden_budget_groups(names, [64] * 4, b, "all_hidden")[0].k for b in (30, 50, 70)}
    assert ks == {30: 77, 50: 128, 70: 180}
    per_layer = hidden_budget_groups(names, [64] * 4, 50, "per_layer")
    assert [(g.layers, g.k) for g in per_layer] == [((n,), 32) for n in names]


def test_settings_schedule_and_validation():
    s = PrunerSettings(warmup_epochs=2, ramp_epochs=4, anneal_epochs=3, epochs=20)
    assert [s.ramp_factor(e) for e in range(7)] == [0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    assert sigmoid(s.anneal_margin) > s.open_threshold and sigmoid(-s.anneal_margin) < s.closed_threshold
    with pytest.raises(ValueError, match="group"):
        PrunerSettings(group="everything")
    with pytest.raises(ValueError, match="exceed"):
        PrunerSettings(warmup_epochs=5, ramp_epochs=5, anneal_epochs=5, epochs=10)
    assert PrunerSettings.from_config({"budgets": [30], "epochs": 30, "budget_weight": 2.0}).budget_weight == 2.0


def test_top_k_breaks_ties_by_index():
    assert top_k_kept(np.array([0.5, 0.9, 0.5, 0.5]), 2).tolist() == [True, True, False, False]


def test_decide_mask_spans_layers_and_checks_thresholds():
    settings = PrunerSettings()
    group = BudgetGroup("all", ("a", "b"), 3)
    binary = {"a": np.array([0.999, 0.001, 0.995]), "b": np.array([0.002, 0.9999])}
    mask = decide_mask(binary, [group], settings)
    assert mask.layers["a"]["kept"] == [0, 2] and mask.layers["b"]["kept"] == [1]
    assert mask.thresholds["passed"] and mask.to_json()["kept_per_layer"] == {"a": 2, "b": 1}
    require_thresholds(mask)
    soft = {"a": np.array([0.999, 0.2, 0.995]), "b": np.array([0.002, 0.9999])}
    with pytest.raises(PruningError, match="max rejected gate=0.2"):
        require_thresholds(decide_mask(soft, [group], settings))
    weak_kept = {"a": np.array([0.98, 0.001, 0.995]), "b": np.array([0.002, 0.9999])}
    assert not decide_mask(weak_kept, [group], settings).thresholds["passed"]


def test_apply_hard_mask_sets_kept_nodes_only():
    model = gated_model(5)
    gates = {"gate": np.array([0.999, 0.001, 0.999, 0.001, 0.001])}
    apply_hard_mask(model, decide_mask(gates, [BudgetGroup("g", ("gate",), 2)], PrunerSettings()))
    np.testing.assert_array_equal(model.get_layer("gate").hard_mask.numpy(), [1, 0, 1, 0, 0])


def test_settings_reject_a_shrinking_pruner_scale():
    with pytest.raises(ValueError, match="pruner_growth"):
        PrunerSettings(pruner_growth=0.5)
    assert PrunerSettings.from_config({"pruner_growth": 2.0, "pruner_scale_max": 1e3}).pruner_growth == 2.0


def test_small_budget_over_all_hidden_layers_never_empties_a_layer():
    layers = [np.array([0.9, 0.8, 0.7, 0.6]), np.array([0.001, 0.002, 0.003]), np.array([0.95, 0.5]), np.array([0.4])]
    kept, rescued = connected_top_k_kept(layers, 4)
    per_layer = np.split(kept, np.cumsum([len(v) for v in layers])[:-1])
    assert kept.sum() == 4 and rescued == 2  # the top 4 (0.95, 0.9, 0.8, 0.7) sit in two layers
    assert [int(m.sum()) for m in per_layer] == [1, 1, 1, 1]
    assert per_layer[1][2] and per_layer[0][0] and per_layer[2][0]  # each layer keeps its best node
    # the weakest kept nodes of layers that keep others make room
    kept, rescued = connected_top_k_kept(layers, 6)
    per_layer = np.split(kept, np.cumsum([len(v) for v in layers])[:-1])
    assert rescued == 2 and [int(m.sum()) for m in per_layer] == [3, 1, 1, 1]  # the weakest kept nodes gave way
    full, none = connected_top_k_kept([np.array([0.9, 0.1]), np.array([0.8, 0.7])], 2)
    assert none == 0 and full.tolist() == [True, False, True, False]
    # fewer nodes than layers: no way to keep them all connected, plain top-k
    kept, rescued = connected_top_k_kept(layers, 3)
    assert rescued == 0 and kept.sum() == 3
