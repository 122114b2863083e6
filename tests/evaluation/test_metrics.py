"""ROC, AUC, rejection interpolation and bootstrap uncertainties."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from autopruner import roc
from autopruner.evaluation import metrics
from autopruner.training import network


def _gaussians(n: int, separation: float, rng: np.random.Generator):
    """Background N(0, 1), signal N(separation, 1), equal numbers."""
    scores = np.r_[rng.normal(separation, 1.0, n), rng.normal(0.0, 1.0, n)]
    labels = np.r_[np.ones(n), np.zeros(n)]
    return scores, labels


def test_roc_of_two_gaussians_matches_the_analytic_curve():
    d = 1.5
    scores, labels = _gaussians(200_000, d, np.random.default_rng(1))
    eff_s = np.array([0.3, 0.5, 0.7, 0.9])
    expected_eff_b = norm.sf(d + norm.isf(eff_s))  # threshold t = d + Φ⁻¹(1 − ε_S), ε_B = 1 − Φ(t)
    rejection = roc.rejection_at(scores, labels, None, eff_s)
    np.testing.assert_allclose(1.0 / rejection, expected_eff_b, rtol=0.03)
    assert roc.auc(scores, labels) == pytest.approx(norm.cdf(d / np.sqrt(2.0)), abs=3e-3)


def test_weights_act_like_repeated_candidates():
    rng = np.random.default_rng(2)
    scores, labels = _gaussians(500, 1.0, rng)
    repeats = rng.integers(1, 4, size=scores.size)
    weighted = roc.rejection_at(scores, labels, repeats.astype(float), [0.4, 0.6])
    repeated = roc.rejection_at(np.repeat(scores, repeats), np.repeat(labels, repeats), None, [0.4, 0.6])
    np.testing.assert_allclose(weighted, repeated, rtol=1e-12)
    assert roc.auc(scores, labels, repeats) == pytest.approx(
        roc.auc(np.repeat(scores, repeats), np.repeat(labels, repeats)), rel=1e-12
    )


def test_rejection_is_interpolated_linearly_between_roc_points():
    # ROC points (ε_S, ε_B): (0,0) (0.5,0) (0.5,0.5) (1,0.5) (1,1) from sig {3, 1}, bkg {2, 0}
    scores = np.array([3.0, 1.0, 2.0, 0.0])
    labels = np.array([1, 1, 0, 0])
    curve = roc.roc_curve(scores, labels)
    np.testing.assert_allclose(curve.eff_signal, [0, 0.5, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(curve.eff_background, [0, 0, 0.5, 0.5, 1.0])
    # ε_S ≤ 0.5 needs no background; just above 0.5 the cheapest point (0.5, 0.5) is used, not (0.5, 0)
    eff_b = roc.background_efficiency_at(curve.eff_signal, curve.eff_background, [0.25, 0.5, 0.75])
    np.testing.assert_allclose(eff_b, [0.0, 0.0, 0.5])
    # ties: one group holding signal and background gives the straight diagonal segment
    tied = roc.roc_curve(
        np.array([1.0, 1.0, 0.0, 0.0]), np.array([1, 0, 1, 0]), np.array([1.0, 3.0, 1.0, 1.0])
    )
    eff_b = roc.background_efficiency_at(tied.eff_signal, tied.eff_background, [0.2, 0.5])
    np.testing.assert_allclose(eff_b, [0.2 * 0.75 / 0.5, 0.75])
    assert np.isinf(roc.rejection_from_efficiency(np.array([0.0]))[0])


def test_bootstrap_sigma_shrinks_like_one_over_sqrt_n():
    sigma = {}
    for n in (1000, 4000):
        scores, labels = _gaussians(n, 1.0, np.random.default_rng(3))
        boot = metrics.bootstrap_roc(scores, labels, None, [0.5], 300, np.random.default_rng(4))
        sigma[n] = (boot.auc_std, boot.rejection_std()[0])
    auc_ratio = sigma[1000][0] / sigma[4000][0]
    rej_ratio = sigma[1000][1] / sigma[4000][1]
    assert auc_ratio == pytest.approx(2.0, rel=0.2)
    assert rej_ratio == pytest.approx(2.0, rel=0.25)


def test_bootstrap_is_reproducible_and_paired():
    scores, labels = _gaussians(300, 1.0, np.random.default_rng(5))
    a = metrics.bootstrap_roc(scores, labels, None, [0.5], 20, np.random.default_rng(6))
    b = metrics.bootstrap_roc(scores, labels, None, [0.5], 20, np.random.default_rng(6))
    np.testing.assert_array_equal(a.auc_replicas, b.auc_replicas)
    # a monotonic transform keeps the ranking, so with paired replicas every replica agrees exactly
    c = metrics.bootstrap_roc(np.tanh(scores), labels, None, [0.5], 20, np.random.default_rng(6))
    np.testing.assert_allclose(a.eff_background_replicas, c.eff_background_replicas)


def test_model_size_counts_only_live_structure():
    from autopruner.training.network import DenseStage

    rng = np.random.default_rng(7)
    w1, w2, w3 = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=(2, 1))
    w1[:, 3] = 0.0  # node 3 of layer 1 gets no input (bias 0 → constant 0)
    w2[1, :] = 0.0  # node 1 of layer 1 feeds nothing
    stages = [
        DenseStage(w1, np.zeros(4), "relu", "a"),
        DenseStage(w2, np.ones(2), "relu", "b"),
        DenseStage(w3, np.zeros(1), "sigmoid", "c"),
    ]
    size = network.model_size(stages)
    assert size["nodes_per_layer"] == [2, 2, 1]
    assert size["hidden_nodes"] == 4
    assert size["multiplications"] == 3 * 2 + 2 * 2 + 2 * 1
    assert size["weights"] == size["multiplications"] + 5
    assert size["nodes_per_layer_full"] == [4, 2, 1]
