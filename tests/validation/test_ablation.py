"""The transfer test with features blanked: blanking replaces exactly the named columns, and blanking the one feature
a synthetic 'Pythia' sample mismodels removes the toy-trained tagger's loss on it."""

from __future__ import annotations

import numpy as np
import pytest
from kfold_settings import kfold_config

from autopruner.schema import FEATURE_NAMES
from autopruner.training.tagger import configure_tensorflow
from autopruner.validation.ablation import blank_features, rejection_loss, transfer_with_blanked_features
from autopruner.validation.folds import Candidates

CONFIG = kfold_config(seed=5, n_folds=3, epochs=4, batch_size=64)

def synthetic(seed: int, first_feature_shift: float, n: int = 6000) -> Candidates:
    """Candidates whose signal is shifted by `first_feature_shift` in the first feature and by 0.8 in the next two."""
    rng = np.random.default_rng(seed)
    label = (rng.random(n) < 0.4).astype(np.int8)
    x = rng.normal(0.0, 1.0, (n, len(FEATURE_NAMES))).astype(np.float32)
    x[:, 0] += np.float32(first_feature_shift) * label
    x[:, 1:3] += np.float32(0.8) * label[:, None]
    event_id = np.arange(n, dtype=np.uint64) + np.uint64(seed << 20)
    return Candidates(x, label, event_id, np.ones(n), np.ones(n))


def test_blank_features_replaces_only_the_named_columns():
    c = synthetic(1, 3.0, n=50)
    names = [FEATURE_NAMES[0], FEATURE_NAMES[7]]
    blanked = blank_features(c, names, np.array([0.25, -1.0]))
    assert np.all(blanked.x[:, 0] == np.float32(0.25)) and np.all(blanked.x[:, 7] == np.float32(-1.0))
    others = [j for j in range(len(FEATURE_NAMES)) if j not in (0, 7)]
    np.testing.assert_array_equal(blanked.x[:, others], c.x[:, others])
    np.testing.assert_array_equal(c.x[:, 0], synthetic(1, 3.0, n=50).x[:, 0])  # the input is left as it was
    with pytest.raises(ValueError, match="unknown feature"):
        blank_features(c, ["no_such_feature"], np.array([0.0]))


def test_rejection_loss_and_its_error():
    on_toy = {"rejection": {"0.5": {"value": 200.0, "err": 20.0}}}
    on_pythia = {"rejection": {"0.5": {"value": 150.0, "err": 15.0}}}
    loss = rejection_loss(on_toy, on_pythia)
    assert loss["value"] == pytest.approx(0.25)
    assert loss["err"] == pytest.approx(0.75 * np.hypot(0.1, 0.1))
    with pytest.raises(ValueError, match="signal efficiency 0.7"):
        rejection_loss(on_toy, on_pythia, 0.7)
    no_background = {"rejection": {"0.5": {"value": None, "err": None}}}
    assert rejection_loss(on_toy, no_background)["value"] is None


def test_blanking_the_mismodelled_feature_removes_the_transfer_loss():
    """'Pythia' has its signal shifted the other way in the first feature; a toy-trained tagger that uses it loses
    most of its rejection there, and one trained with it blanked keeps it."""
    configure_tensorflow(1)
    toy, pythia = synthetic(1, 1.5), synthetic(2, -1.5)
    with_all = transfer_with_blanked_features(toy, pythia, CONFIG, [])
    without_first = transfer_with_blanked_features(toy, pythia, CONFIG, [FEATURE_NAMES[0]])
    assert with_all["blanked"] == [] and without_first["blanked"] == [FEATURE_NAMES[0]]
    assert with_all["loss"]["value"] > 0.8
    assert abs(without_first["loss"]["value"]) < 0.5
