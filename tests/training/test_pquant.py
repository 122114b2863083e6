"""PQuant's PDP as a node-budget method: bias folding when slicing, exact kept counts, a short real PDP run."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from test_training import toy_data

from autopruner.training.pquant_pdp import (
    DenseWeights,
    PQuantSettings,
    exact_kept,
    fold_and_slice,
    layer_sparsity,
    live_neurons,
    plain_tagger,
    pquant_prune,
)
from autopruner.training.steps import TrainSettings
from autopruner.training.tagger import configure_tensorflow, hidden_sizes_of

pytest.importorskip("pquant")


@pytest.fixture(scope="module", autouse=True)
def _tensorflow():
    configure_tensorflow(2)


def _normalization(n_features: int) -> keras.layers.Normalization:
    norm = keras.layers.Normalization(name="normalization")
    norm.adapt(np.random.default_rng(0).normal(size=(50, n_features)).astype(np.float32))
    return norm


def pdp_like_layers(rng: np.random.Generator) -> tuple[list[DenseWeights], list[np.ndarray]]:
    """5 inputs -> 6 -> 4 -> 1 as PDP leaves it: pruned neurons have zero incoming weights and non-zero biases
    (positive ones, so relu(b) matters, and a negative one, which relu removes)."""
    k1, k2, k3 = rng.normal(size=(5, 6)), rng.normal(size=(6, 4)), rng.normal(size=(4, 1))
    b1, b2, b3 = rng.normal(size=6), rng.normal(size=4), rng.normal(size=1)
    dead1, dead2 = [1, 4, 5], [2]
    k1[:, dead1] = 0.0
    b1[dead1] = [0.7, 1.3, -0.4]
    k2[:, dead2] = 0.0
    b2[dead2] = 0.9
    kept = [np.array([0, 2, 3]), np.array([0, 1, 3])]
    return [DenseWeights(k1, b1), DenseWeights(k2, b2), DenseWeights(k3, b3)], kept


def test_slicing_with_bias_folding_reproduces_the_pruned_network():
    layers, kept = pdp_like_layers(np.random.default_rng(1))
    norm = _normalization(5)
    full = plain_tagger(norm, layers)
    sliced_layers = fold_and_slice(layers, kept)
    sliced = plain_tagger(norm, sliced_layers)
    assert hidden_sizes_of(sliced) == [3, 3]
    x = np.random.default_rng(2).normal(size=(2000, 5)).astype(np.float32)
    np.testing.assert_allclose(sliced.predict(x, verbose=0), full.predict(x, verbose=0), atol=1e-6)
    # without the fold the dead neurons' constant relu(b) is lost and the outputs differ
    unfolded = [DenseWeights(layers[0].kernel[:, kept[0]], layers[0].bias[kept[0]]),
                DenseWeights(layers[1].kernel[np.ix_(kept[0], kept[1])], layers[1].bias[kept[1]]),
                DenseWeights(layers[2].kernel[kept[1]], layers[2].bias)]
    assert np.max(np.abs(plain_tagger(norm, unfolded).predict(x, verbose=0) - full.predict(x, verbose=0))) > 1e-3


def test_fold_adds_relu_of_dead_biases_times_outgoing_weights():
    layers, kept = pdp_like_layers(np.random.default_rng(3))
    sliced = fold_and_slice(layers, kept)
    expected = layers[1].bias + np.array([0.7, 1.3, 0.0]) @ layers[1].kernel[[1, 4, 5], :]
    np.testing.assert_allclose(sliced[1].bias, expected[kept[1]])
    np.testing.assert_allclose(sliced[2].bias, layers[2].bias + 0.9 * layers[2].kernel[2])


def test_exact_kept_hits_the_target_in_every_case():
    norm = np.array([5.0, 1.0, 4.0, 3.0, 2.0, 6.0])
    kept, action = exact_kept(np.array([0, 2, 3]), norm, 3)
    assert action == "exact" and kept.tolist() == [0, 2, 3]
    kept, action = exact_kept(np.array([0, 1, 2, 3]), norm, 2)  # too many live: the largest norms
    assert action == "trimmed" and kept.tolist() == [0, 2]
    kept, action = exact_kept(np.array([1]), norm, 3)  # too few: every live one, then the largest pruned ones
    assert action == "refilled" and kept.tolist() == [0, 1, 5]
    with pytest.raises(ValueError):
        exact_kept(np.array([0]), norm, 7)


def test_layer_sparsity_makes_pdp_keep_exactly_the_target():
    for n in (5, 37, 64, 100):
        for keep in range(1, n + 1):
            r = np.float32(layer_sparsity(keep, n))
            assert int(np.float32(1.0 - r) * np.float32(n)) == keep
    assert live_neurons(np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -2.0]])).tolist() == [1, 2]


def test_pdp_run_ends_with_exactly_k_nodes_and_a_faithful_slice():
    data = toy_data(5, n_train=2000)
    settings = TrainSettings(hidden_layers=(8, 8), epochs=2, batch_size=256, learning_rate=3e-3, patience=2)
    model, history = pquant_prune(data, settings, PQuantSettings(1, 2, 1), k=7, seed=11)
    assert hidden_sizes_of(model) == [4, 3] == history["target_per_layer"]
    assert len(history["pdp_loss"]) == 4 and history["cpu_time_s"] > 0
    assert history["count_fixed"] == any(a != "exact" for a in history["count_fix_per_layer"])
    if not history["count_fixed"]:
        assert history["slice_max_abs_diff"] < 1e-4
