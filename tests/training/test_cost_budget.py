"""The multiplication budget: the expected-cost term, the greedy decision and a trained synthetic run."""

from __future__ import annotations

import numpy as np
import pytest
from test_training import fast_schedule, toy_data

from autopruner.training.pruning import (
    MULTIPLICATIONS,
    BudgetGroup,
    PrunerSettings,
    chain_multiplications,
    cost_budget_kept,
    cost_budget_term,
    decide_mask,
    hidden_budget_groups,
    multiplication_budget,
)
from autopruner.training.steps import TrainSettings, train_autopruner
from autopruner.training.tagger import configure_tensorflow, gate_name


@pytest.fixture(scope="module", autouse=True)
def _tensorflow():
    configure_tensorflow(2)


def test_chain_multiplications_counts_every_dense_product():
    assert chain_multiplications([64, 64, 64, 64], 39) == 39 * 64 + 3 * 64 * 64 + 64  # 14 848, the README's baseline
    assert chain_multiplications([9, 21, 26, 21], 39) == 1653  # the 30 % layout of the README
    assert multiplication_budget(30, [64] * 4, 39) == -(-30 * 14848 // 100)


def test_cost_budget_term_is_zero_at_the_budget():
    group = hidden_budget_groups(["a", "b"], [4, 4], 50, "all_hidden", MULTIPLICATIONS, n_inputs=3)[0]
    assert group.full_multiplications == 3 * 4 + 4 * 4 + 4 and group.k == 16
    assert float(cost_budget_term([2.0, 2.0], group)) == pytest.approx(((6 + 4 + 2) - 16) ** 2 / 32**2)
    assert float(cost_budget_term([2.0, 10.0 / 3.0], group)) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_greedy_decision_meets_the_budget_within_one_node_cost(seed):
    rng = np.random.default_rng(seed)
    sizes = tuple(int(n) for n in rng.integers(3, 20, size=3))
    budget = int(rng.integers(5, 80))
    group = hidden_budget_groups(["g1", "g2", "g3"], sizes, budget, "all_hidden", MULTIPLICATIONS, n_inputs=7)[0]
    values = [rng.uniform(size=n) ** rng.uniform(0.2, 3.0) for n in sizes]
    kept, info = cost_budget_kept(values, group)
    assert all(k.sum() >= 1 for k in kept)
    assert info["multiplications"] == chain_multiplications([int(k.sum()) for k in kept], 7)
    assert abs(info["budget_deviation"]) <= info["max_node_cost"]
    again, _ = cost_budget_kept([np.where(k, 0.999, 0.001) for k in kept], group)
    assert all(np.array_equal(a, b) for a, b in zip(again, kept, strict=True))  # idempotent on its own decision


def test_decision_toggles_only_the_least_decided_gates():
    group = BudgetGroup("all", ("a", "b"), 30, MULTIPLICATIONS, n_inputs=2, n_outputs=1, layer_sizes=(4, 4))
    # binarised: 3 and 3 open -> 6 + 9 + 3 = 18, 12 below K = 30 and a node costs at most 5: open the highest closed
    # gates (0.4, then 0.3) until M >= 30
    values = {"a": np.array([0.99, 0.98, 0.97, 0.4]), "b": np.array([0.99, 0.98, 0.97, 0.3])}
    mask = decide_mask(values, [group], PrunerSettings())
    assert mask.layers["a"]["kept"] == [0, 1, 2, 3] and mask.layers["b"]["kept"] == [0, 1, 2, 3]
    info = mask.groups[0]
    assert info["multiplications_binarised"] == 18 and info["multiplications"] == 8 + 16 + 4
    assert info["gates_toggled_to_meet_budget"] == 2 and not info["passed"]


def test_settings_refuse_a_per_layer_multiplication_budget():
    with pytest.raises(ValueError, match="all_hidden"):
        PrunerSettings(budget_unit=MULTIPLICATIONS, group="per_layer")
    with pytest.raises(ValueError, match="budget_unit"):
        PrunerSettings(budget_unit="luts")


def test_trained_multiplication_budget_is_met_within_one_node_cost():
    """A 8-16-16-1 tagger pruned to 30 % of its 400 multiplications ends binary and on budget."""
    data = toy_data(17, n_train=4000)
    settings = TrainSettings(hidden_layers=(16, 16), epochs=6, batch_size=128, learning_rate=3e-3, patience=3)
    pruner = fast_schedule(16, budget_unit=MULTIPLICATIONS)
    network, mask, history = train_autopruner(data, settings, pruner, budget_percent=30, seed=6)
    group = mask.groups[0]
    full = chain_multiplications([16, 16], data.n_features)
    assert group["budget"] == -(-30 * full // 100) and group["multiplications_full"] == full
    kept = [len(mask.layers[gate_name(i)]["kept"]) for i in (1, 2)]
    achieved = chain_multiplications(kept, data.n_features)
    assert achieved == group["multiplications"]
    assert abs(achieved - group["budget"]) <= group["max_node_cost"]
    assert mask.thresholds["passed"] and history["budget_unit"] == MULTIPLICATIONS
    assert history["validation_auc"] > 0.7
