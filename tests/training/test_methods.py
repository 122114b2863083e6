"""The comparison methods: magnitude pruning of whole neurons, the uniform layout, the layout search."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest
from test_training import toy_data

from autopruner.training.methods import (
    MagnitudeSettings,
    SearchSettings,
    _count_layouts,
    grid_layouts,
    lowest_scoring_kept,
    magnitude_prune,
    magnitude_schedule,
    neuron_scores,
    random_layout,
    random_search,
    search_layouts,
    slice_network,
    uniform_layout,
)
from autopruner.training.steps import TrainSettings
from autopruner.training.tagger import build_tagger, configure_tensorflow, hidden_name, hidden_sizes_of

TINY = TrainSettings(hidden_layers=(6, 5), epochs=2, batch_size=256, learning_rate=3e-3, patience=2)


@pytest.fixture(scope="module", autouse=True)
def _tensorflow():
    configure_tensorflow(2)


def hand_built_net() -> keras.Model:
    """3 inputs -> 4 -> 3 -> 1 with weights chosen so the neuron scores are known: layer 1 scores 1, 4, 9, 16 x ...,
    see the test."""
    norm = keras.layers.Normalization(name="normalization")
    norm.adapt(np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32))
    model = build_tagger(norm, (4, 3))
    w1 = np.zeros((3, 4), dtype=np.float32)
    w1[0] = [1.0, 2.0, 3.0, 0.5]  # incoming norms 1, 2, 3, 0.5
    w2 = np.zeros((4, 3), dtype=np.float32)
    w2[:, 0] = [1.0, 1.0, 1.0, 1.0]  # outgoing norms of layer 1: 1 each; incoming norm of layer 2 node 0: 2
    w2[0, 1] = 0.1  # incoming norm 0.1
    w2[1, 2] = 4.0  # incoming norm 4 (outgoing norm of layer-1 node 1 becomes sqrt(17))
    w3 = np.array([[1.0], [1.0], [0.5]], dtype=np.float32)
    model.get_layer(hidden_name(1)).set_weights([w1, np.zeros(4, np.float32)])
    model.get_layer(hidden_name(2)).set_weights([w2, np.zeros(3, np.float32)])
    model.get_layer("output").set_weights([w3, np.zeros(1, np.float32)])
    return model


def test_neuron_scores_are_products_of_in_and_out_norms():
    scores = neuron_scores(hand_built_net())
    np.testing.assert_allclose(scores[0], [1.0 * np.sqrt(1.01), 2.0 * np.sqrt(17.0), 3.0, 0.5], rtol=1e-6)
    np.testing.assert_allclose(scores[1], [2.0, 0.1, 4.0 * 0.5], rtol=1e-6)


def test_the_lowest_scoring_neurons_go_first_across_layers():
    model = hand_built_net()
    kept = lowest_scoring_kept(neuron_scores(model), 2)  # 0.1 (layer 2 node 1) and 0.5 (layer 1 node 3)
    assert [k.tolist() for k in kept] == [[0, 1, 2], [0, 2]]
    sliced = slice_network(model, kept)
    assert hidden_sizes_of(sliced) == [3, 2]
    np.testing.assert_array_equal(sliced.get_layer(hidden_name(2)).get_weights()[0],
                                  model.get_layer(hidden_name(2)).get_weights()[0][np.ix_([0, 1, 2], [0, 2])])
    # a layer never loses its last neuron
    assert [k.size for k in lowest_scoring_kept([np.array([0.0, 5.0]), np.array([0.1])], 1)] == [1, 1]


def test_magnitude_schedule_is_geometric_and_ends_at_k():
    assert magnitude_schedule(256, 77, 4) == [190, 140, 104, 77]
    for n, k, steps in itertools.product((10, 256), (1, 3, 9), (1, 2, 5, 20)):
        sizes = magnitude_schedule(n, k, steps)
        assert sizes[-1] == k and all(a > b for a, b in zip([n, *sizes], sizes, strict=False))


def test_magnitude_pruning_ends_with_exactly_k_live_neurons():
    data = toy_data(21, n_train=1500)
    model, _ = _baseline(data)
    pruned, history = magnitude_prune(model, data, TINY, 4, MagnitudeSettings(steps=3, finetune_epochs=1), seed=2)
    assert sum(hidden_sizes_of(pruned)) == 4 and min(hidden_sizes_of(pruned)) >= 1
    assert history["schedule"][-1] == 4 and len(history["steps"]) == 3 and history["cpu_time_s"] > 0


def _baseline(data):
    from autopruner.training.steps import train_baseline

    return train_baseline(data, TINY, seed=1)


def test_uniform_layout_gives_the_remainder_to_the_first_layers():
    assert uniform_layout(77, 4) == [20, 19, 19, 19]
    assert uniform_layout(128, 4) == [32] * 4
    with pytest.raises(ValueError):
        uniform_layout(3, 4)


@pytest.mark.parametrize("total,n_layers,max_width", [(7, 3, 4), (10, 4, 3), (5, 1, 9), (12, 3, 12), (4, 4, 1)])
def test_grid_layouts_are_exactly_the_compositions_with_the_total(total, n_layers, max_width):
    brute = sorted(p for p in itertools.product(range(1, max_width + 1), repeat=n_layers) if sum(p) == total)
    assert grid_layouts(total, n_layers, max_width) == brute
    assert _count_layouts(total, n_layers, max_width) == len(brute)


def test_random_layout_is_uniform_over_the_compositions():
    rng = np.random.default_rng(3)
    layouts = grid_layouts(9, 3, 5)
    draws = [random_layout(9, 3, 5, rng) for _ in range(4000)]
    counts = np.array([draws.count(layout) for layout in layouts])
    assert set(draws) == set(layouts)
    expected = len(draws) / len(layouts)
    assert np.sum((counts - expected) ** 2 / expected) < 2 * len(layouts)  # chi2 far below a bias's
    assert len(set(search_layouts(9, 3, SearchSettings(trials=4, epochs=1, max_width=5), rng))) == 4


def test_random_search_keeps_the_best_trial_and_counts_all_cpu():
    data = toy_data(22, n_train=1200)
    model, history = random_search(data, TINY, 6, SearchSettings(trials=2, epochs=1, max_width=64), 5, 9)
    assert len(history["trials"]) == 2 and sum(hidden_sizes_of(model)) == 6
    best = min(history["trials"], key=lambda t: t["best_val_loss"])
    assert hidden_sizes_of(model) == best["hidden_sizes"]
    assert history["cpu_time_s"] >= sum(t["cpu_time_s"] for t in history["trials"]) * 0.99


def test_layer_normalization_keeps_small_scale_layers_alive():
    from autopruner.training.methods import layer_normalized

    scores = [np.array([10.0, 20.0, 30.0, 40.0]), np.array([0.1, 0.2, 0.3, 0.4])]
    kept = lowest_scoring_kept(layer_normalized(scores), 4)
    assert [k.size for k in kept] == [2, 2]  # raw ranking would leave the second layer one node
    assert [k.size for k in lowest_scoring_kept(scores, 4)] == [3, 1]
