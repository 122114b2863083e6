"""PQuant's PDP with structured pruning as a node-budget method, ending with a plain tagger of exactly k hidden nodes.

PQuant (PyPI ``pquant-ml`` 0.1.0, CERN Next Generation Triggers, arXiv:2603.26595) wraps every Dense layer of a Keras 3
model in a ``PQDense`` whose PDP pruning layer masks whole output neurons by the L2 norm of their incoming weights.
The run here, on the same data, split, weights, batch size, learning rate and initialisation seed as the baseline:

1. the full 4x64 tagger is built and wrapped (quantization off: the comparison is in floating point, like every
   other method; the output layer is never pruned). PQuant's Keras wrapper keeps only relu and tanh activations and
   silently drops the output's sigmoid, which would train the cross-entropy on unbounded scores: it is put back;
2. per-layer budgets: the k hidden nodes are split k // L per layer, the remainder to the first layers (the
   ``uniform`` method's layout). PDP's own ``sparsity`` is one keep ratio for every layer, which for 4x64 keeps
   int((1-s) * 64) per layer and cannot add up to every k (77 = 20+19+19+19 at 30 %); each layer's private
   ``pruning_layer._init_r`` (its ``init_r`` setting is never read by the Keras PDP) is set to
   1 - (k_layer + 1/2) / N_layer, so that PDP's ``int((1 - r) N)`` lands on k_layer however the float rounds;
3. PDP's schedule: ``pretraining_epochs`` dense, ``pruning_epochs`` with the sparsity rising linearly to its target
   at the last of them (epsilon = 1 / pruning_epochs; PQuant's default 0.015 would need 67 epochs), then
   ``finetune_epochs`` with the mask frozen; no early stopping (PDP's phases are counted in epochs);
4. slicing to a plain tagger: PDP zeroes a pruned neuron's incoming weights but keeps its bias, so the neuron still
   outputs the constant relu(b); that constant times its outgoing weights is folded into the next layer's bias,
   and the plain network reproduces the PDP network's output to float rounding (checked on the validation split);
5. exact count: if a layer's live neurons (non-zero incoming weights) differ from its target, the target's worth of
   neurons with the largest incoming-weight norm are kept (live ones first), the sliced network is fine-tuned
   with early stopping for ``finetune_epochs``, and the history records it.

PQuant's own ``.keras`` files do not reload, so only the plain sliced tagger is saved. hls4ml's ``optimization`` API
(DSP-aware pruning) needs Keras 2 (keras-tuner, qkeras, TensorFlow <= 2.14) and cannot run in this environment.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import keras
import numpy as np

from autopruner.io_utils import write_json
from autopruner.training.methods import _identity, hidden_budget, uniform_layout
from autopruner.training.steps import (
    TrainingData,
    TrainSettings,
    _fit_arguments,
    _setup,
    _train_classifier,
    load_training_data,
    validation_auc,
)
from autopruner.training.tagger import (
    NORMALIZATION,
    OUTPUT,
    adapted_normalization,
    build_tagger,
    compile_tagger,
    copy_normalization,
    hidden_name,
    save_model,
    seed_everything,
)

#: the seed stream of the baseline and the AutoPruner: PDP starts from the same initialisation seed
PQUANT_STREAM = 0
#: the largest |PDP output - sliced output| accepted on the validation split (float32 rounding is ~1e-6)
SLICE_TOLERANCE = 1e-4
OUTPUT_SIGMOID = "output_sigmoid"


@dataclass(frozen=True)
class PQuantSettings:
    """The ``methods.pquant`` config section: epochs of PDP's dense, pruning and frozen-mask fine-tuning phases."""

    pretraining_epochs: int = 5
    pruning_epochs: int = 15
    finetune_epochs: int = 10

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> PQuantSettings:
        """Build from the config section."""
        return cls(int(section["pretraining_epochs"]), int(section["pruning_epochs"]), int(section["finetune_epochs"]))

    @property
    def total_epochs(self) -> int:
        """Epochs of the whole PDP run."""
        return self.pretraining_epochs + self.pruning_epochs + self.finetune_epochs


@dataclass(frozen=True)
class DenseWeights:
    """One Dense layer's kernel [inputs, units] and bias [units] as float64."""

    kernel: np.ndarray
    bias: np.ndarray


def layer_sparsity(n_keep: int, n_units: int) -> float:
    """PDP's target sparsity r for keeping ``n_keep`` of ``n_units`` neurons.

    PDP keeps the int((1 - r) * N) neurons of largest incoming norm; aiming half a neuron above n_keep makes the
    truncation land on n_keep whatever the float32 rounding of r.
    """
    if not 0 < n_keep <= n_units:
        raise ValueError(f"cannot keep {n_keep} of {n_units} neurons")
    return 1.0 - (n_keep + 0.5) / n_units


def pdp_config(settings: PQuantSettings, sparsity: float):
    """PQuant's PDP config: structured pruning, quantization off, the output layer unpruned, our epoch schedule."""
    import pquant

    config = pquant.pdp_config()
    config.quantization_parameters.enable_quantization = False
    pruning = config.pruning_parameters
    pruning.sparsity = float(sparsity)
    pruning.structured_pruning = True
    pruning.epsilon = 1.0 / settings.pruning_epochs
    pruning.disable_pruning_for_layers = [OUTPUT]
    training = config.training_parameters
    training.pretraining_epochs = settings.pretraining_epochs
    training.epochs = settings.pruning_epochs
    training.fine_tuning_epochs = settings.finetune_epochs
    training.rounds = 1
    return config


def compress(model: keras.Model, config, targets: Sequence[int]) -> tuple[keras.Model, list]:
    """The PQuant-wrapped model (the output's sigmoid restored) and its PQDense layers in order; each hidden layer's
    PDP aims at its target."""
    import pquant
    from pquant.core.keras.layers import PQDense

    wrapped = pquant.add_compression_layers(model, config, (None, model.input_shape[-1]))
    # PQuant's Keras wrapper keeps only relu and tanh activations: the output's sigmoid is dropped and comes back here
    wrapped = keras.Model(wrapped.inputs, keras.layers.Activation("sigmoid", name=OUTPUT_SIGMOID)(wrapped.outputs[0]))
    dense = [layer for layer in wrapped.layers if isinstance(layer, PQDense)]
    if len(dense) != len(targets) + 1:
        raise ValueError(f"{len(dense)} PQDense layers for {len(targets)} hidden targets")
    for layer, n_keep in zip(dense[:-1], targets, strict=True):
        layer.pruning_layer._init_r = layer_sparsity(int(n_keep), int(layer.units))
    return wrapped, dense


def pdp_weights(layer) -> tuple[DenseWeights, np.ndarray]:
    """A PQDense layer's effective (masked) weights, as its forward pass uses them after the mask froze, and the raw
    kernel (whose pruned columns keep their last values)."""
    raw = np.asarray(layer._kernel, dtype=np.float64)
    bias = np.asarray(layer._bias, dtype=np.float64)
    if not layer.enable_pruning:
        return DenseWeights(raw, bias), raw
    mask = np.asarray(layer.pruning_layer.get_hard_mask(), dtype=np.float64).reshape(-1)
    return DenseWeights(raw * mask[None, :], bias), raw


def live_neurons(kernel: np.ndarray) -> np.ndarray:
    """Indices of the neurons (columns) with any non-zero incoming weight."""
    return np.flatnonzero(np.any(kernel != 0.0, axis=0))


def exact_kept(live: np.ndarray, incoming_norm: np.ndarray, target: int) -> tuple[np.ndarray, str]:
    """The ``target`` neurons kept, sorted, and what was done: ``exact`` (the live ones), ``trimmed`` (the live ones
    of largest incoming norm) or ``refilled`` (every live one, then the pruned ones of largest raw norm)."""
    live = np.asarray(live, dtype=np.int64)
    norm = np.asarray(incoming_norm, dtype=np.float64)
    if not 0 < target <= norm.size:
        raise ValueError(f"cannot keep {target} of {norm.size} neurons")
    if live.size == target:
        return np.sort(live), "exact"
    if live.size > target:
        order = live[np.argsort(-norm[live], kind="stable")]
        return np.sort(order[:target]), "trimmed"
    dead = np.setdiff1d(np.arange(norm.size), live)
    extra = dead[np.argsort(-norm[dead], kind="stable")][: target - live.size]
    return np.sort(np.concatenate([live, extra])), "refilled"


def fold_and_slice(layers: Sequence[DenseWeights], kept: Sequence[np.ndarray]) -> list[DenseWeights]:
    """Slice the hidden neurons to ``kept`` and fold every removed constant neuron into the next layer's bias.

    ``layers`` are the hidden layers then the output layer. A removed neuron with no non-zero incoming weight
    outputs relu(b) whatever the input, so relu(b) times its outgoing weights moves into the next bias exactly; a
    removed neuron that still had incoming weights (a trimmed one) is dropped without folding.
    """
    if len(layers) != len(kept) + 1:
        raise ValueError(f"{len(layers)} layers for {len(kept)} kept lists")
    biases = [layer.bias.astype(np.float64).copy() for layer in layers]
    out: list[DenseWeights] = []
    rows = np.arange(layers[0].kernel.shape[0])
    for i, layer in enumerate(layers):
        cols = np.asarray(kept[i], dtype=np.int64) if i < len(kept) else np.arange(layer.kernel.shape[1])
        if i < len(kept):
            removed = np.setdiff1d(np.arange(layer.kernel.shape[1]), cols)
            constant = removed[~np.any(layer.kernel[:, removed] != 0.0, axis=0)]
            biases[i + 1] += np.maximum(biases[i][constant], 0.0) @ layers[i + 1].kernel[constant, :]
        out.append(DenseWeights(layer.kernel[np.ix_(rows, cols)], biases[i][cols]))
        rows = cols
    return out


def plain_tagger(normalization: keras.layers.Normalization, layers: Sequence[DenseWeights]) -> keras.Model:
    """The plain tagger (Normalization -> Dense ReLU x L -> sigmoid) with these weights."""
    model = build_tagger(copy_normalization(normalization), [layer.kernel.shape[1] for layer in layers[:-1]])
    names = [hidden_name(i) for i in range(1, len(layers))] + [OUTPUT]
    for name, layer in zip(names, layers, strict=True):
        model.get_layer(name).set_weights([layer.kernel.astype(np.float32), layer.bias.astype(np.float32)])
    return model


def _pdp_fit(model: keras.Model, config, data: TrainingData, settings: TrainSettings, total_epochs: int) -> dict:
    """PDP's training through PQuant's callback; the per-epoch losses and stages."""
    from pquant.core.keras.train import PQuantCallback

    compile_tagger(model, settings.learning_rate)
    callback = PQuantCallback(config, log_ebops=False, log_keep_ratio=False, apply_final_compression=False)
    if callback.total_epochs != total_epochs:
        raise ValueError(f"PQuant schedules {callback.total_epochs} epochs, expected {total_epochs}")
    # verbose=0: PQuant's string 'stage' log entry crashes Keras' progress bar
    fit = model.fit(epochs=callback.total_epochs, callbacks=[callback], **_fit_arguments(data, settings))
    return {
        "pdp_loss": [float(v) for v in fit.history["loss"]],
        "pdp_val_loss": [float(v) for v in fit.history["val_loss"]],
        "pdp_stage": [str(s) for s in fit.history.get("stage", [])],
    }


def pquant_prune(
    data: TrainingData, settings: TrainSettings, pq: PQuantSettings, k: int, seed: int
) -> tuple[keras.Model, dict[str, Any]]:
    """PDP structured pruning of the full tagger to the uniform layout of k nodes, sliced to a plain tagger."""
    seed_everything(seed)
    start, cpu_start = time.perf_counter(), time.process_time()
    targets = uniform_layout(k, len(settings.hidden_layers))
    full = build_tagger(adapted_normalization(data.train.x), settings.hidden_layers)
    config = pdp_config(pq, 1.0 - k / sum(settings.hidden_layers))
    wrapped, dense = compress(full, config, targets)
    history: dict[str, Any] = _pdp_fit(wrapped, config, data, settings, pq.total_epochs)
    weights, raws = zip(*(pdp_weights(layer) for layer in dense), strict=True)
    layers = list(weights)
    kept, actions, live_counts = [], [], []
    for i, target in enumerate(targets):
        live = live_neurons(layers[i].kernel)
        keep, action = exact_kept(live, np.linalg.norm(raws[i], axis=0), int(target))
        if action == "refilled":  # the refilled neurons come back with their last unmasked weights
            refill = np.setdiff1d(keep, live)
            layers[i].kernel[:, refill] = raws[i][:, refill]
        kept.append(keep)
        actions.append(action)
        live_counts.append(int(live.size))
    model = plain_tagger(wrapped.get_layer(NORMALIZATION), fold_and_slice(layers, kept))
    corrected = any(a != "exact" for a in actions)
    if corrected:
        finetune = TrainSettings(settings.hidden_layers, pq.finetune_epochs, settings.batch_size,
                                 settings.learning_rate, settings.patience)
        model, tuned = _train_classifier(model, data, finetune)
        history["count_fix_finetune"] = {key: tuned[key] for key in ("loss", "val_loss", "epochs_run")}
    else:
        history["slice_max_abs_diff"] = _slice_difference(wrapped, model, data)
    history |= {
        "method": "pquant",
        "library": f"pquant-ml {metadata.version('pquant-ml')}",
        "pdp": {"structured_pruning": True, "quantization": False, "epsilon": config.pruning_parameters.epsilon,
                "pretraining_epochs": pq.pretraining_epochs, "pruning_epochs": pq.pruning_epochs,
                "finetune_epochs": pq.finetune_epochs,
                "layer_sparsity": [layer.pruning_layer._init_r for layer in dense[:-1]]},
        "layout": "uniform: k // L per layer, the remainder to the first layers",
        "target_per_layer": [int(t) for t in targets],
        "pdp_live_per_layer": live_counts,
        "count_fix_per_layer": actions,
        "count_fixed": bool(corrected),
        "hidden_sizes": [int(k_.size) for k_ in kept],
        "epochs_total": int(pq.total_epochs + history.get("count_fix_finetune", {}).get("epochs_run", 0)),
        "seed": int(seed),
        "validation_auc": validation_auc(model, data),
        "wall_time_s": time.perf_counter() - start,
        "cpu_time_s": time.process_time() - cpu_start,
    }
    return model, history


def _slice_difference(wrapped: keras.Model, model: keras.Model, data: TrainingData) -> float:
    """Largest |PDP network - sliced network| output on the validation split; above SLICE_TOLERANCE is an error."""
    x = data.validation.x
    diff = float(np.max(np.abs(wrapped.predict(x, batch_size=8192, verbose=0)
                               - model.predict(x, batch_size=8192, verbose=0))))
    if diff > SLICE_TOLERANCE:
        raise RuntimeError(f"the sliced network differs from PDP's by {diff:.3g} (> {SLICE_TOLERANCE})")
    return diff


def run_pquant(
    dataset: str, budget_percent: int, outputs: Mapping[str, str], config: Mapping[str, Any], seed: int, threads: int
) -> None:
    """PDP-prune the full tagger of one seed to the budget; write the sliced plain model and its history."""
    tf_seed = _setup(config, seed, threads, PQUANT_STREAM)
    settings = TrainSettings.from_config(config["training"])
    k = hidden_budget(budget_percent, settings.hidden_layers)
    data, _ = load_training_data(dataset)
    model, history = pquant_prune(data, settings, PQuantSettings.from_config(config["methods"]["pquant"]), k, tf_seed)
    history |= {"cpu_seconds": history["cpu_time_s"]}
    save_model(model, outputs["model"])
    write_json(outputs["history"], history | _identity(budget_percent, seed, k))
