"""Which features cost the toy-trained tagger its rejection on Pythia: the k-fold transfer test with features blanked.

The transfer test (`autopruner.validation.crossval`) says how much rejection a tagger trained on toy events loses on
Pythia events, not why. Here the toy fold models are trained again with some features *blanked*: set, in both
samples, to one constant (the toy sample's mean), so the network cannot use them and the architecture stays the
same. If the loss disappears with a feature group blanked, the toy's mismodelling of that group is what the
tagger paid for. The folds, the training settings and the pooling are the transfer test's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from autopruner.evaluation.scoring import evaluate_scores, predict_scores
from autopruner.schema import FEATURE_NAMES
from autopruner.validation.folds import Candidates, assign_folds, train_fold


def blank_features(candidates: Candidates, names: Sequence[str], values: np.ndarray) -> Candidates:
    """The candidates with each feature in `names` replaced by the matching constant of `values`."""
    unknown = [name for name in names if name not in FEATURE_NAMES]
    if unknown:
        raise ValueError(f"unknown feature(s) {unknown}; the features are {list(FEATURE_NAMES)}")
    x = candidates.x.copy()
    for name, value in zip(names, np.asarray(values, dtype=np.float32), strict=True):
        x[:, FEATURE_NAMES.index(name)] = value
    return Candidates(x, candidates.label, candidates.event_id, candidates.weight, candidates.train_weight)


def transfer_with_blanked_features(toy: Candidates, pythia: Candidates, config: Mapping[str, Any],
                                   blanked: Sequence[str], training_seed: int = 0) -> dict[str, Any]:
    """Toy-on-toy and toy-on-Pythia metrics of the k toy fold models trained with `blanked` features blanked.

    Each candidate is scored by the fold model that did not train on its fold (Pythia's fold i by the toy fold-i
    model), as in the transfer test; returns both samples' `evaluate_scores` metrics, the blanked features and the
    loss at ε_S = 50 % (1 - toy-on-Pythia / toy-on-toy rejection), the issue's working point, with its error.
    """
    values = toy.x[:, [FEATURE_NAMES.index(name) for name in blanked]].mean(axis=0)
    toy_b, pythia_b = blank_features(toy, blanked, values), blank_features(pythia, blanked, values)
    n_folds, seed = int(config["validation"]["folds"]), int(config["seed"])
    folds_toy = assign_folds(toy.event_id, toy.label, n_folds, seed)
    folds_pythia = assign_folds(pythia.event_id, pythia.label, n_folds, seed)
    scores_toy, scores_pythia = np.empty(len(toy)), np.empty(len(pythia))
    for fold in range(n_folds):
        model, _ = train_fold(toy_b, config, training_seed, fold)
        scores_toy[folds_toy == fold] = predict_scores(model, toy_b.x[folds_toy == fold])
        scores_pythia[folds_pythia == fold] = predict_scores(model, pythia_b.x[folds_pythia == fold])
    on_toy = evaluate_scores(scores_toy, toy.label, toy.weight, config)
    on_pythia = evaluate_scores(scores_pythia, pythia.label, pythia.weight, config)
    return {"blanked": list(blanked), "toy_on_toy": on_toy, "toy_on_pythia": on_pythia,
            "loss": rejection_loss(on_toy, on_pythia)}


def rejection_loss(on_toy: Mapping[str, Any], on_pythia: Mapping[str, Any],
                   signal_efficiency: float = 0.5) -> dict[str, Any]:
    """1 - r_pythia / r_toy at `signal_efficiency` (one of `evaluation.signal_efficiencies`) of two `evaluate_scores`
    results, with its error from the two independent bootstrap errors (first-order propagation); None for both where
    a rejection is not finite (no background candidate passed the cut)."""
    point = f"{signal_efficiency:g}"
    if point not in on_toy["rejection"]:
        raise ValueError(f"no rejection at signal efficiency {point}: evaluation.signal_efficiencies has "
                         f"{list(on_toy['rejection'])}")
    r_toy, r_pythia = on_toy["rejection"][point], on_pythia["rejection"][point]
    if None in (r_toy["value"], r_toy["err"], r_pythia["value"], r_pythia["err"]):  # no background passed the cut
        return {"signal_efficiency": float(signal_efficiency), "value": None, "err": None}
    ratio = r_pythia["value"] / r_toy["value"]
    err = ratio * float(np.hypot(r_pythia["err"] / r_pythia["value"], r_toy["err"] / r_toy["value"]))
    return {"signal_efficiency": float(signal_efficiency), "value": 1.0 - ratio, "err": err}
