"""Training stage: baseline, AutoPruner per budget, reduction to a plain network, retraining, feature ranking.

The training functions take arrays (`TrainingData`) and return models and JSON-ready histories; the ``run_*`` wrappers
at the end read the dataset / model files and write the artifacts of docs/design.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from autopruner.dataset.merge import load_split
from autopruner.io_utils import CorruptInputError, atomic_output, require_file, write_json
from autopruner.plotting import plt
from autopruner.roc import auc
from autopruner.schema import FEATURE_NAMES
from autopruner.training.pruning import (
    INPUT_GATE_GROUP,
    AutoPrunerTrainer,
    BudgetGroup,
    MaskResult,
    PrunerCallback,
    PrunerSettings,
    apply_hard_mask,
    decide_mask,
    gate_values,
    hidden_budget_groups,
    require_thresholds,
)
from autopruner.training.tagger import (
    INPUT_GATE,
    NORMALIZATION,
    OUTPUT,
    adapted_normalization,
    build_tagger,
    compile_tagger,
    configure_tensorflow,
    copy_normalization,
    gate_name,
    hidden_name,
    hidden_sizes_of,
    load_model,
    n_features_of,
    save_model,
    seed_everything,
)

RETRAIN_STREAM = 1
FEATURE_RANKING_STREAM = 2


@dataclass(frozen=True)
class Split:
    """Features [n, n_features] float32, labels [n] (1 signal) and per-candidate weights [n]."""

    x: np.ndarray
    y: np.ndarray
    w: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> Split:
        """Cast to float32 and rescale the weights to mean 1 (the loss scale then does not depend on them)."""
        w = np.asarray(w, dtype=np.float64)
        if w.shape[0] == 0 or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("weights must be finite, non-negative and not all zero")
        return cls(
            np.asarray(x, dtype=np.float32),
            np.asarray(y, dtype=np.float32),
            (w / w.mean()).astype(np.float32),
        )


@dataclass(frozen=True)
class TrainingData:
    """The training split (fits weights and the standardization) and the validation split (early stopping)."""

    train: Split
    validation: Split

    @property
    def n_features(self) -> int:
        return int(self.train.x.shape[1])


@dataclass(frozen=True)
class TrainSettings:
    """The `training` config section."""

    hidden_layers: tuple[int, ...] = (64, 64, 64, 64)
    epochs: int = 60
    batch_size: int = 512
    learning_rate: float = 1e-3
    patience: int = 8

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> TrainSettings:
        """Build from the config section; other keys (seeds, threads) are ignored."""
        return cls(
            hidden_layers=tuple(int(n) for n in section["hidden_layers"]),
            epochs=int(section["epochs"]),
            batch_size=int(section["batch_size"]),
            learning_rate=float(section["learning_rate"]),
            patience=int(section["patience"]),
        )


def derive_seed(master_seed: int, seed: int, stream: int = 0) -> int:
    """A 31-bit TensorFlow/Keras seed for training ``seed``, spawned from the master seed and a stream."""
    return int(np.random.SeedSequence([int(master_seed), int(seed), int(stream)]).generate_state(1)[0] >> 1)


def validation_auc(model: keras.Model, data: TrainingData, batch_size: int = 8192) -> float:
    """Weighted AUC of ``model`` on the validation split."""
    score = model.predict(data.validation.x, batch_size=batch_size, verbose=0).ravel()
    return auc(score, data.validation.y, data.validation.w)


def _fit_arguments(data: TrainingData, settings: TrainSettings) -> dict[str, Any]:
    return {
        "x": data.train.x,
        "y": data.train.y,
        "sample_weight": data.train.w,
        "validation_data": (data.validation.x, data.validation.y, data.validation.w),
        "batch_size": settings.batch_size,
        "shuffle": True,
        "verbose": 0,
    }


def _train_classifier(
    model: keras.Model, data: TrainingData, settings: TrainSettings
) -> tuple[keras.Model, dict[str, Any]]:
    """Adam + weighted BCE with early stopping on the validation loss (best weights restored)."""
    compile_tagger(model, settings.learning_rate)
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=settings.patience, restore_best_weights=True)
    start, cpu_start = time.perf_counter(), time.process_time()
    fit = model.fit(epochs=settings.epochs, callbacks=[stop], **_fit_arguments(data, settings))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    val_loss = [float(v) for v in fit.history["val_loss"]]
    history = {
        "loss": [float(v) for v in fit.history["loss"]],
        "val_loss": val_loss,
        "epochs_run": len(val_loss),
        "best_epoch": int(np.argmin(val_loss)),
        "best_val_loss": float(np.min(val_loss)),
        "hidden_sizes": hidden_sizes_of(model),
        "wall_time_s": wall,
        "cpu_time_s": cpu,
        "settings": settings.__dict__ | {"hidden_layers": list(settings.hidden_layers)},
    }
    return model, history


def train_baseline(data: TrainingData, settings: TrainSettings, seed: int) -> tuple[keras.Model, dict[str, Any]]:
    """The unpruned tagger: Normalization adapted on the training split, 4x64 ReLU, early stopping."""
    return _train_plain(data, settings.hidden_layers, settings, seed)


def _train_plain(
    data: TrainingData, hidden_sizes: Sequence[int], settings: TrainSettings, seed: int
) -> tuple[keras.Model, dict[str, Any]]:
    """A plain (ungated) tagger with these hidden sizes, from a fresh seeded initialisation."""
    seed_everything(seed)
    model = build_tagger(adapted_normalization(data.train.x), hidden_sizes)
    model, history = _train_classifier(model, data, settings)
    history["seed"] = int(seed)
    history["validation_auc"] = validation_auc(model, data)
    return model, history


def train_gated(
    data: TrainingData,
    settings: TrainSettings,
    pruner: PrunerSettings,
    seed: int,
    hidden_budget_percent: int | None = None,
    input_features_kept: int | None = None,
) -> tuple[keras.Model, MaskResult, dict[str, Any]]:
    """Train with AutoPruner gates on the hidden layers (budget in %) and/or the input (features kept).

    Returns the network with hard masks applied (rejected nodes exactly zero), the decided mask and the per-epoch log.
    Raises PruningError if the gates did not end binary with exactly k open per group.
    """
    if hidden_budget_percent is None and input_features_kept is None:
        raise ValueError("give a hidden budget, an input budget or both")
    seed_everything(seed)
    network = build_tagger(
        adapted_normalization(data.train.x),
        settings.hidden_layers,
        gated=hidden_budget_percent is not None,
        input_gate=input_features_kept is not None,
        gate_init=pruner.gate_init,
    )
    groups: list[BudgetGroup] = []
    if input_features_kept is not None:
        groups.append(BudgetGroup(INPUT_GATE_GROUP, (INPUT_GATE,), int(input_features_kept)))
    if hidden_budget_percent is not None:
        names = [gate_name(i) for i in range(1, len(settings.hidden_layers) + 1)]
        groups += hidden_budget_groups(
            names, settings.hidden_layers, hidden_budget_percent, pruner.group, pruner.budget_unit, data.n_features
        )
    steps_per_epoch = -(-data.train.x.shape[0] // settings.batch_size)
    trainer = AutoPrunerTrainer(network, groups, pruner, steps_per_epoch=steps_per_epoch)
    compile_tagger(trainer, settings.learning_rate)
    schedule = PrunerCallback(groups, pruner)
    start, cpu_start = time.perf_counter(), time.process_time()
    trainer.fit(epochs=pruner.epochs, callbacks=[schedule], **_fit_arguments(data, settings))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    mask = decide_mask(gate_values(network), groups, pruner)
    history = _gated_history(schedule, mask, wall)
    history |= {
        "seed": int(seed),
        "hidden_budget_percent": hidden_budget_percent,
        "budget_unit": pruner.budget_unit,
        "input_kept": input_features_kept,
        "cpu_time_s": cpu,
    }
    require_thresholds(mask)
    apply_hard_mask(network, mask)
    history["validation_auc"] = validation_auc(network, data)
    return network, mask, history


def _gated_history(schedule: PrunerCallback, mask: MaskResult, wall_s: float) -> dict[str, Any]:
    """The per-epoch log under JSON names (total = classifier + pruner), plus the decision and timing."""
    log = dict(schedule.log)
    log["total_loss"] = log.pop("loss", [])
    log["val_total_loss"] = log.pop("val_loss", [])
    log["open_gates"] = _transpose(log.get("open_gates", []))
    log["strictly_open_gates"] = _transpose(log.get("strictly_open_gates", []))
    log["strictly_closed_gates"] = _transpose(log.get("strictly_closed_gates", []))
    return log | {
        "epochs_run": len(log.get("epoch", [])),
        "anneal_start_epoch": schedule.anneal_start,
        "undecided_gates_at_anneal": schedule.undecided_at_anneal,
        "gates_at_anneal": {name: v.tolist() for name, v in schedule.gates_at_anneal.items()},
        "groups": mask.groups,
        "kept_per_layer": {name: len(info["kept"]) for name, info in mask.layers.items()},
        "thresholds": mask.thresholds,
        "wall_time_s": wall_s,
    }


def _transpose(records: Sequence[Mapping[str, int]]) -> dict[str, list[int]]:
    """[{layer: n}] per epoch -> {layer: [n per epoch]}."""
    return {name: [int(r[name]) for r in records] for name in (records[0] if records else {})}


def train_autopruner(
    data: TrainingData, settings: TrainSettings, pruner: PrunerSettings, budget_percent: int, seed: int
) -> tuple[keras.Model, MaskResult, dict[str, Any]]:
    """Hidden-layer pruning to k = round(B% of all hidden nodes) (or per layer); the input left unpruned."""
    return train_gated(data, settings, pruner, seed, hidden_budget_percent=budget_percent)


def _mask_layers(mask: MaskResult | Mapping[str, Any]) -> Mapping[str, Mapping[str, Any]]:
    return mask.layers if isinstance(mask, MaskResult) else mask["layers"]


def _effective_gates(model: keras.Model, name: str) -> np.ndarray | None:
    """sigma(w) * hard mask of gate layer ``name`` as float64, or None if the model has no such layer."""
    try:
        layer = model.get_layer(name)
    except ValueError:
        return None
    return layer.gate_values() * np.asarray(layer.hard_mask.numpy(), dtype=np.float64)


def reduce_model(pruned_model: keras.Model, mask: MaskResult | Mapping[str, Any]) -> keras.Model:
    """Plain Dense network of the kept nodes; each gate value is folded into the next layer's kernel rows.

    Keeps the Normalization and every input feature (a pruned input becomes zeroed kernel rows). The output equals the
    hard-masked gated model up to float rounding.
    """
    layers = _mask_layers(mask)
    n_hidden = len(hidden_sizes_of(pruned_model))
    kept = []
    for i in range(1, n_hidden + 1):
        units = pruned_model.get_layer(hidden_name(i)).units
        info = layers.get(gate_name(i))
        kept.append(np.asarray(info["kept"], dtype=np.int64) if info is not None else np.arange(units))
    if any(k.size == 0 for k in kept):
        raise ValueError(f"a hidden layer keeps no node: kept per layer {[k.size for k in kept]}")
    reduced = build_tagger(copy_normalization(pruned_model.get_layer(NORMALIZATION)), [k.size for k in kept])
    n_features = n_features_of(pruned_model.get_layer(NORMALIZATION))
    rows = np.arange(n_features)
    scale = _effective_gates(pruned_model, INPUT_GATE)
    scale = np.ones(n_features) if scale is None else scale
    for i, name in enumerate([hidden_name(j) for j in range(1, n_hidden + 1)] + [OUTPUT]):
        kernel, bias = (np.asarray(a, dtype=np.float64) for a in pruned_model.get_layer(name).get_weights())
        cols = kept[i] if i < n_hidden else np.arange(kernel.shape[1])
        new_kernel = kernel[np.ix_(rows, cols)] * scale[rows, None]
        reduced.get_layer(name).set_weights([new_kernel.astype(np.float32), bias[cols].astype(np.float32)])
        if i < n_hidden:
            gates = _effective_gates(pruned_model, gate_name(i + 1))
            scale = np.ones(kernel.shape[1]) if gates is None else gates
            rows = cols
    return reduced


def kept_hidden_sizes(mask: MaskResult | Mapping[str, Any], n_hidden: int) -> list[int]:
    """Hidden sizes of the reduced network from a mask."""
    layers = _mask_layers(mask)
    return [len(layers[gate_name(i)]["kept"]) for i in range(1, n_hidden + 1)]


def retrain(
    data: TrainingData, hidden_sizes: Sequence[int], settings: TrainSettings, seed: int
) -> tuple[keras.Model, dict[str, Any]]:
    """The reduced architecture trained from a fresh initialisation, as an independent model."""
    return _train_plain(data, hidden_sizes, settings, seed)


def feature_ranking(
    data: TrainingData,
    feature_names: Sequence[str],
    budgets: Sequence[int],
    settings: TrainSettings,
    pruner: PrunerSettings,
    seed: int,
    reference_auc: float | None = None,
) -> dict[str, Any]:
    """Input-gate pruning to each feature budget (hidden layers unpruned): kept sets, gates, validation AUC.

    Features are ranked by how many budgets keep them, then by their mean gate value at the anneal start (when the
    learned preference is still graded rather than forced to 0/1).
    """
    if len(feature_names) != data.n_features:
        raise ValueError(f"{len(feature_names)} feature names for {data.n_features} features")
    per_budget = []
    for k in sorted(int(b) for b in budgets):
        if not 0 < k < data.n_features:
            raise ValueError(f"feature budget {k} not in 1..{data.n_features - 1}")
        _, mask, history = train_gated(data, settings, pruner, seed, input_features_kept=k)
        graded = np.asarray(history["gates_at_anneal"].get(INPUT_GATE, mask.layers[INPUT_GATE]["gate_values"]))
        kept = mask.layers[INPUT_GATE]["kept"]
        per_budget.append(
            {
                "k": k,
                "kept": [feature_names[i] for i in kept],
                "gate_at_anneal": dict(zip(feature_names, graded.tolist(), strict=True)),
                "final_gate": dict(zip(feature_names, mask.layers[INPUT_GATE]["gate_values"], strict=True)),
                "validation_auc": history["validation_auc"],
                "epochs_run": history["epochs_run"],
                "wall_time_s": history["wall_time_s"],
            }
        )
    times_kept = {name: sum(name in b["kept"] for b in per_budget) for name in feature_names}
    mean_gate = {name: float(np.mean([b["gate_at_anneal"][name] for b in per_budget])) for name in feature_names}
    order = sorted(feature_names, key=lambda name: (-times_kept[name], -mean_gate[name], name))
    return {
        "features": [
            {
                "name": name,
                "rank": r,
                "budgets_kept": times_kept[name],
                "mean_gate_at_anneal": mean_gate[name],
            }
            for r, name in enumerate(order, start=1)
        ],
        "budgets": per_budget,
        "n_features": data.n_features,
        "reference_validation_auc": reference_auc,
        "seed": int(seed),
        "wall_time_s": float(sum(b["wall_time_s"] for b in per_budget)),
    }


# --- plots --------------------------------------------------------------------------------------------------


def _phase_spans(phases: Sequence[str]) -> list[tuple[str, int, int]]:
    """Contiguous (phase, first epoch, last epoch) runs."""
    spans: list[tuple[str, int, int]] = []
    for epoch, phase in enumerate(phases):
        if spans and spans[-1][0] == phase:
            spans[-1] = (phase, spans[-1][1], epoch)
        else:
            spans.append((phase, epoch, epoch))
    return spans


def plot_training(history: Mapping[str, Any], path: str | Path) -> None:
    """Loss components and open gates per layer vs epoch, phases shaded (classifier-loss bumps show here)."""
    epochs = np.asarray(history["epoch"]) + 1
    fig, (ax_loss, ax_pruner, ax_gates) = plt.subplots(3, 1, figsize=(7, 9), sharex=True)
    ax_loss.plot(epochs, history["classifier_loss"], label="classifier (train)")
    ax_loss.plot(epochs, history["val_classifier_loss"], label="classifier (validation)")
    ax_loss.set_ylabel("classifier loss")
    ax_pruner.plot(epochs, history["total_loss"], color="k", ls="--", label="total = classifier + pruner (train)")
    ax_pruner.plot(epochs, history["pruner_loss"], color="C3", label="pruner (train)")
    ax_pruner.set_yscale("symlog", linthresh=1e-4)
    ax_pruner.set_ylabel("loss")
    total = np.zeros(len(epochs))
    for name, counts in history["open_gates"].items():
        ax_gates.plot(epochs, counts, drawstyle="steps-mid", label=name)
        total += np.asarray(counts)
    if len(history["open_gates"]) > 1:
        ax_gates.plot(epochs, total, color="k", drawstyle="steps-mid", label="all")
    for group in history["groups"]:
        if group.get("unit", "nodes") == "nodes":
            ax_gates.axhline(group["k"], color="grey", ls=":", lw=1)
    ax_gates.set_ylabel(r"open gates ($\sigma > 0.5$)")
    ax_gates.set_xlabel("epoch")
    for ax in (ax_loss, ax_pruner, ax_gates):
        for phase, first, last in _phase_spans(history["phase"]):
            if phase in ("ramp", "anneal"):
                ax.axvspan(first + 0.5, last + 1.5, color="C7" if phase == "ramp" else "C1", alpha=0.12, lw=0)
        ax.legend(fontsize=8, loc="best")
    kept = ", ".join(f"{n}: {c}" for n, c in history["kept_per_layer"].items())
    ax_loss.set_title(f"AutoPruner training, kept {kept}\nshaded: pruner ramp (grey), anneal (orange)", fontsize=9)
    fig.tight_layout()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="pdf")
    plt.close(fig)


def plot_feature_ranking(ranking: Mapping[str, Any], path: str | Path) -> None:
    """Validation AUC vs number of features kept, and every feature's gate per budget in ranking order."""
    budgets = ranking["budgets"]
    order = [f["name"] for f in ranking["features"]]
    fig, (ax_auc, ax_map) = plt.subplots(
        1, 2, figsize=(11, max(5, 0.18 * len(order))), gridspec_kw={"width_ratios": [1, 1.2]}
    )
    ks = [b["k"] for b in budgets]
    ax_auc.plot(ks, [b["validation_auc"] for b in budgets], "o-", label="input-pruned")
    if ranking.get("reference_validation_auc") is not None:
        ax_auc.axhline(ranking["reference_validation_auc"], color="k", ls="--", label=f"all {ranking['n_features']}")
    ax_auc.set_xlabel("features kept")
    ax_auc.set_ylabel("validation AUC")
    ax_auc.legend()
    gates = np.array([[b["gate_at_anneal"][name] for b in budgets] for name in order])
    image = ax_map.imshow(gates, aspect="auto", cmap="viridis", vmin=0, vmax=1)
    ax_map.set_yticks(range(len(order)), order, fontsize=6)
    ax_map.set_xticks(range(len(ks)), [str(k) for k in ks])
    ax_map.set_xlabel("features kept (budget)")
    for j, b in enumerate(budgets):
        for i, name in enumerate(order):
            if name in b["kept"]:
                ax_map.plot(j, i, marker="o", ms=2.5, color="w")
    fig.colorbar(image, ax=ax_map, label=r"gate $\sigma(w)$ before the anneal (dot: kept)")
    fig.tight_layout()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="pdf")
    plt.close(fig)


# --- file wrappers (Snakemake scripts call these) -----------------------------------------------------------


def load_training_data(dataset_path: str | Path) -> tuple[TrainingData, list[str]]:
    """Train and validation splits of results/dataset.root (train_weight as weights) and the feature names."""
    path = require_file(dataset_path)
    names = list(FEATURE_NAMES)
    splits = {s: Split.of(*load_split(path, s, names)) for s in ("train", "validation")}
    return TrainingData(splits["train"], splits["validation"]), names


def load_mask(path: str | Path) -> dict[str, Any]:
    """A mask.json written by `run_train_autopruner`."""
    path = require_file(path)
    try:
        mask = json.loads(Path(path).read_text())
        mask["layers"]  # noqa: B018 - validate structure
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise CorruptInputError(f"cannot read mask {path}: {err}") from err
    return mask


def _setup(config: Mapping[str, Any], seed: int, threads: int, stream: int = 0) -> int:
    configure_tensorflow(threads)
    return derive_seed(config["seed"], seed, stream)


def run_train_baseline(
    dataset: str, model_out: str, history_out: str, config: Mapping[str, Any], seed: int, threads: int
) -> None:
    """Train the baseline from the dataset file and write model.keras and history.json."""
    tf_seed = _setup(config, seed, threads)
    data, _ = load_training_data(dataset)
    model, history = train_baseline(data, TrainSettings.from_config(config["training"]), tf_seed)
    save_model(model, model_out)
    write_json(history_out, history | {"training_seed": int(seed)})


def run_train_autopruner(
    dataset: str,
    budget_percent: int,
    outputs: Mapping[str, str],
    config: Mapping[str, Any],
    seed: int,
    threads: int,
) -> None:
    """Train one budget; write pruned.keras, mask.json, history.json, training.pdf (keys of ``outputs``)."""
    tf_seed = _setup(config, seed, threads)
    data, _ = load_training_data(dataset)
    settings = TrainSettings.from_config(config["training"])
    pruner = PrunerSettings.from_config(config["autopruner"])
    network, mask, history = train_autopruner(data, settings, pruner, budget_percent, tf_seed)
    history |= {"training_seed": int(seed)}
    save_model(network, outputs["model"])
    anneal = {key: history[key] for key in ("anneal_start_epoch", "undecided_gates_at_anneal")}
    write_json(outputs["mask"], mask.to_json() | {"budget_percent": budget_percent} | anneal)
    write_json(outputs["history"], history)
    plot_training(history, outputs["plot"])


def run_reduce(pruned_path: str, mask_path: str, model_out: str, threads: int = 1) -> None:
    """Write the reduced plain network of one pruned model."""
    configure_tensorflow(threads)
    save_model(reduce_model(load_model(pruned_path), load_mask(mask_path)), model_out)


def run_retrain(
    dataset: str,
    mask_path: str,
    model_out: str,
    history_out: str,
    config: Mapping[str, Any],
    seed: int,
    threads: int,
) -> None:
    """Retrain the reduced architecture of a mask from scratch; write the model and its history."""
    tf_seed = _setup(config, seed, threads, RETRAIN_STREAM)
    settings = TrainSettings.from_config(config["training"])
    sizes = kept_hidden_sizes(load_mask(mask_path), len(settings.hidden_layers))
    data, _ = load_training_data(dataset)
    model, history = retrain(data, sizes, settings, tf_seed)
    save_model(model, model_out)
    write_json(history_out, history | {"training_seed": int(seed)})


def run_feature_ranking(
    dataset: str,
    reference_model: str | None,
    json_out: str,
    pdf_out: str,
    config: Mapping[str, Any],
    seed: int,
    threads: int,
) -> None:
    """Feature ranking at the configured budgets; the reference (baseline) model gives the all-feature AUC."""
    tf_seed = _setup(config, seed, threads, FEATURE_RANKING_STREAM)
    data, names = load_training_data(dataset)
    reference_auc = validation_auc(load_model(reference_model), data) if reference_model else None
    ranking = feature_ranking(
        data,
        names,
        config["feature_ranking"]["budgets"],
        TrainSettings.from_config(config["training"]),
        PrunerSettings.from_config(config["autopruner"]),
        tf_seed,
        reference_auc,
    )
    write_json(json_out, ranking | {"training_seed": int(seed)})
    plot_feature_ranking(ranking, pdf_out)
