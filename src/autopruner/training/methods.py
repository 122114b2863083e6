"""Node-budget methods the AutoPruner is compared with, on the same data, split, weights, settings and seeds.

Every method ends with a plain tagger (Normalization -> Dense ReLU x L -> sigmoid) of exactly k = ceil(B% of the N
hidden nodes) hidden nodes, the AutoPruner's count, and a JSON history with its CPU time (``time.process_time``: every
thread of the process, so it is the CPU cost of finding the network):

* ``magnitude``: iterative structured magnitude pruning. It starts from the baseline architecture trained from scratch
  (the baseline model itself: same settings and seed) and removes whole hidden neurons in a geometric schedule of
  steps, fine-tuning between steps, until exactly k are left; then it fine-tunes with the full training settings. A
  neuron's score is the L2 norm of its incoming weights times the L2 norm of its outgoing weights (the first layer's
  incoming weights act on standardized features), divided by its layer's mean score; the lowest of these across all
  hidden layers go first, never a layer's last one (ranking the raw products globally emptied the deepest layers).
  Its CPU time includes the baseline's training.
* ``uniform``: k nodes split k/L per layer (the remainder to the first layers), trained from scratch with the seed of
  the AutoPruner's retrained layout, so the pair isolates what the found layout is worth.
* ``search``: random search over per-layer sizes with the same total k, uniform over the compositions of k into L
  parts each in [1, max_width] (stars and bars with rejection); each trial is trained from the same seed with the same
  epochs budget, the best by validation loss is kept and the CPU time of every trial is summed.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from autopruner.io_utils import require_file, write_json
from autopruner.training.pruning import budget_nodes
from autopruner.training.steps import (
    RETRAIN_STREAM,
    TrainingData,
    TrainSettings,
    _setup,
    _train_classifier,
    _train_plain,
    derive_seed,
    load_training_data,
    reduce_model,
    validation_auc,
)
from autopruner.training.tagger import (
    OUTPUT,
    gate_name,
    hidden_name,
    hidden_sizes_of,
    load_model,
    save_model,
    seed_everything,
)

MAGNITUDE_STREAM = 3
SEARCH_STREAM = 4
METHODS = ("magnitude", "uniform", "search")


@dataclass(frozen=True)
class MagnitudeSettings:
    """The ``methods.magnitude`` config section: pruning steps and fine-tuning epochs after each step."""

    steps: int = 4
    finetune_epochs: int = 2

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> MagnitudeSettings:
        """Build from the config section."""
        return cls(steps=int(section["steps"]), finetune_epochs=int(section["finetune_epochs"]))


@dataclass(frozen=True)
class SearchSettings:
    """The ``methods.search`` config section: trials, epochs per trial and the widest layer a trial may have."""

    trials: int = 4
    epochs: int = 60
    max_width: int = 64

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> SearchSettings:
        """Build from the config section."""
        return cls(trials=int(section["trials"]), epochs=int(section["epochs"]), max_width=int(section["max_width"]))


def hidden_budget(budget_percent: int, hidden_sizes: Sequence[int]) -> int:
    """k = ceil(B% of all hidden nodes): the AutoPruner's node count, so every method ends with the same size."""
    return budget_nodes(budget_percent, sum(int(n) for n in hidden_sizes))


# --- magnitude pruning ---------------------------------------------------------------------------------------


def neuron_scores(model: keras.Model) -> list[np.ndarray]:
    """Per hidden layer, each neuron's L2 norm of incoming weights times the L2 norm of its outgoing weights."""
    n_hidden = len(hidden_sizes_of(model))
    names = [hidden_name(i) for i in range(1, n_hidden + 1)] + [OUTPUT]
    kernels = [np.asarray(model.get_layer(name).get_weights()[0], dtype=np.float64) for name in names]
    return [
        np.linalg.norm(kernels[i], axis=0) * np.linalg.norm(kernels[i + 1], axis=1) for i in range(n_hidden)
    ]


def layer_normalized(scores: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Each layer's scores divided by their mean, so that neurons compete with their own layer's scale.

    Raw norm products differ between layers by orders of magnitude (fan-in and fan-out sizes, the first layer's
    standardized inputs); ranked globally, the deepest layers lose nearly every neuron and the network collapses to
    one node in a layer. Layer-wise normalization (as in Molchanov et al., ICLR 2017, for Taylor scores) compares a
    neuron with its neighbours instead.
    """
    return [s / s.mean() if s.size and s.mean() > 0 else s for s in scores]


def lowest_scoring_kept(scores: Sequence[np.ndarray], n_remove: int) -> list[np.ndarray]:
    """Indices kept per layer after removing the ``n_remove`` lowest scores across layers (a layer keeps >= 1)."""
    keep = [np.ones(s.shape[0], dtype=bool) for s in scores]
    order = sorted(
        ((float(score), layer, node) for layer, s in enumerate(scores) for node, score in enumerate(s)),
    )
    removed = 0
    for _, layer, node in order:
        if removed == n_remove:
            break
        if keep[layer].sum() > 1:
            keep[layer][node] = False
            removed += 1
    if removed != n_remove:
        raise ValueError(f"cannot remove {n_remove} neurons and keep one per layer")
    return [np.flatnonzero(k) for k in keep]


def slice_network(model: keras.Model, kept: Sequence[np.ndarray]) -> keras.Model:
    """The plain tagger with only the ``kept`` hidden neurons of each layer, weights copied."""
    mask = {"layers": {gate_name(i): {"kept": np.asarray(k).tolist()} for i, k in enumerate(kept, start=1)}}
    return reduce_model(model, mask)


def magnitude_schedule(n_full: int, k: int, steps: int) -> list[int]:
    """Hidden nodes left after each step: geometric from N to k, strictly decreasing, ending with exactly k."""
    if not 0 < k < n_full or steps < 1:
        raise ValueError(f"need 0 < k < N and steps >= 1, got k={k}, N={n_full}, steps={steps}")
    sizes = [round(n_full * (k / n_full) ** (t / steps)) for t in range(1, steps + 1)]
    sizes[-1] = k
    out: list[int] = []
    for n in sizes:
        n = max(min(n, (out[-1] if out else n_full) - 1), k)
        if not out or n < out[-1]:
            out.append(n)
    return out


def magnitude_prune(
    model: keras.Model, data: TrainingData, settings: TrainSettings, k: int, magnitude: MagnitudeSettings, seed: int
) -> tuple[keras.Model, dict[str, Any]]:
    """Remove the lowest-scoring neurons step by step down to exactly k, fine-tuning after each step and at the end."""
    seed_everything(seed)
    start, cpu_start = time.perf_counter(), time.process_time()
    schedule = magnitude_schedule(sum(hidden_sizes_of(model)), k, magnitude.steps)
    finetune = TrainSettings(
        settings.hidden_layers, magnitude.finetune_epochs, settings.batch_size, settings.learning_rate,
        magnitude.finetune_epochs,
    )
    steps = []
    for step, target in enumerate(schedule, start=1):
        n_remove = sum(hidden_sizes_of(model)) - target
        model = slice_network(model, lowest_scoring_kept(layer_normalized(neuron_scores(model)), n_remove))
        last = step == len(schedule)
        model, history = _train_classifier(model, data, settings if last else finetune)
        steps.append({"step": step, "hidden_nodes": target, "hidden_sizes": hidden_sizes_of(model),
                      "epochs_run": history["epochs_run"], "best_val_loss": history["best_val_loss"]})
    history |= {
        "method": "magnitude",
        "score": "L2 norm of incoming weights x L2 norm of outgoing weights, divided by the layer's mean score",
        "schedule": schedule,
        "steps": steps,
        "epochs_total": int(sum(s["epochs_run"] for s in steps)),
        "seed": int(seed),
        "validation_auc": validation_auc(model, data),
        "wall_time_s": time.perf_counter() - start,
        "cpu_time_s": time.process_time() - cpu_start,
    }
    return model, history


# --- uniform layout and random search ------------------------------------------------------------------------


def uniform_layout(k: int, n_layers: int) -> list[int]:
    """k nodes split k // L per layer, the remainder one each to the first layers."""
    if k < n_layers:
        raise ValueError(f"{k} nodes cannot fill {n_layers} layers")
    base, extra = divmod(int(k), int(n_layers))
    return [base + (1 if i < extra else 0) for i in range(n_layers)]


def grid_layouts(total: int, n_layers: int, max_width: int) -> list[tuple[int, ...]]:
    """Every layout of ``n_layers`` sizes in [1, max_width] adding up to ``total`` (compositions), in lexicographic
    order."""
    if n_layers == 1:
        return [(total,)] if 1 <= total <= max_width else []
    layouts = []
    for first in range(1, min(max_width, total - (n_layers - 1)) + 1):
        layouts += [(first, *rest) for rest in grid_layouts(total - first, n_layers - 1, max_width)]
    return layouts


def random_layout(total: int, n_layers: int, max_width: int, rng: np.random.Generator) -> tuple[int, ...]:
    """One layout drawn uniformly from `grid_layouts`: stars and bars (L-1 bars among the total-1 gaps), rejected
    while a layer is wider than ``max_width``."""
    if not n_layers <= total <= n_layers * max_width:
        raise ValueError(f"no layout of {n_layers} layers in [1, {max_width}] adds up to {total}")
    while True:
        bars = np.sort(rng.choice(total - 1, size=n_layers - 1, replace=False) + 1)
        parts = np.diff(np.concatenate([[0], bars, [total]]))
        if parts.max() <= max_width:
            return tuple(int(p) for p in parts)


def search_layouts(total: int, n_layers: int, search: SearchSettings, rng: np.random.Generator) -> list[tuple]:
    """``trials`` distinct layouts drawn uniformly (all of them when there are no more than ``trials``)."""
    n_possible = _count_layouts(total, n_layers, search.max_width)
    if n_possible <= search.trials:
        return grid_layouts(total, n_layers, search.max_width)
    layouts: list[tuple[int, ...]] = []
    while len(layouts) < search.trials:
        layout = random_layout(total, n_layers, search.max_width, rng)
        if layout not in layouts:
            layouts.append(layout)
    return layouts


def _count_layouts(total: int, n_layers: int, max_width: int) -> int:
    """Number of compositions of ``total`` into ``n_layers`` parts in [1, max_width] (inclusion-exclusion)."""
    return sum(
        (-1) ** j * math.comb(n_layers, j) * math.comb(total - j * max_width - 1, n_layers - 1)
        for j in range(n_layers + 1)
        if total - j * max_width - 1 >= n_layers - 1
    )


def random_search(
    data: TrainingData, settings: TrainSettings, k: int, search: SearchSettings, tf_seed: int, layout_seed: int
) -> tuple[keras.Model, dict[str, Any]]:
    """Train every drawn layout from ``tf_seed`` for ``search.epochs``; keep the best by validation loss."""
    layouts = search_layouts(k, len(settings.hidden_layers), search, np.random.default_rng(layout_seed))
    trial_settings = TrainSettings(
        settings.hidden_layers, search.epochs, settings.batch_size, settings.learning_rate, settings.patience
    )
    start, cpu_start = time.perf_counter(), time.process_time()
    best: tuple[keras.Model, dict[str, Any]] | None = None
    trials = []
    for layout in layouts:
        trial_cpu = time.process_time()
        model, history = _train_plain(data, layout, trial_settings, tf_seed)
        trials.append({"hidden_sizes": list(layout), "best_val_loss": history["best_val_loss"],
                       "validation_auc": history["validation_auc"], "epochs_run": history["epochs_run"],
                       "cpu_time_s": time.process_time() - trial_cpu})
        if best is None or history["best_val_loss"] < best[1]["best_val_loss"]:
            best = (model, history)
    best_model, best_history = best
    best_history |= {
        "method": "search",
        "trials": trials,
        "n_trials": len(trials),
        "epochs_total": int(sum(t["epochs_run"] for t in trials)),
        "wall_time_s": time.perf_counter() - start,
        "cpu_time_s": time.process_time() - cpu_start,
    }
    return best_model, best_history


# --- file wrappers (Snakemake scripts call these) -------------------------------------------------------------


def _history_cpu_s(history: Mapping[str, Any]) -> float:
    """CPU seconds of a training history (its wall time where an older history has no CPU time)."""
    return float(history.get("cpu_time_s", history.get("wall_time_s", 0.0)))


def _write(model: keras.Model, history: Mapping[str, Any], model_out: str, history_out: str) -> None:
    save_model(model, model_out)
    write_json(history_out, dict(history))


def run_magnitude(
    dataset: str,
    baseline_model: str,
    baseline_history: str,
    budget_percent: int,
    outputs: Mapping[str, str],
    config: Mapping[str, Any],
    seed: int,
    threads: int,
) -> None:
    """Prune the baseline of one seed to the budget; ``cpu_seconds`` adds the baseline's training CPU time."""
    tf_seed = _setup(config, seed, threads, MAGNITUDE_STREAM)
    settings = TrainSettings.from_config(config["training"])
    data, _ = load_training_data(dataset)
    k = hidden_budget(budget_percent, settings.hidden_layers)
    model, history = magnitude_prune(
        load_model(baseline_model), data, settings, k, MagnitudeSettings.from_config(config["methods"]["magnitude"]),
        tf_seed,
    )
    baseline_cpu = _history_cpu_s(json.loads(require_file(baseline_history).read_text()))
    history |= {"baseline_cpu_time_s": baseline_cpu, "cpu_seconds": baseline_cpu + history["cpu_time_s"]}
    _write(model, history | _identity(budget_percent, seed, k), outputs["model"], outputs["history"])


def run_uniform(
    dataset: str, budget_percent: int, outputs: Mapping[str, str], config: Mapping[str, Any], seed: int, threads: int
) -> None:
    """Train the uniform layout of the budget from scratch (the retrained layout's seed)."""
    tf_seed = _setup(config, seed, threads, RETRAIN_STREAM)
    settings = TrainSettings.from_config(config["training"])
    k = hidden_budget(budget_percent, settings.hidden_layers)
    data, _ = load_training_data(dataset)
    model, history = _train_plain(data, uniform_layout(k, len(settings.hidden_layers)), settings, tf_seed)
    history |= {"method": "uniform", "cpu_seconds": history["cpu_time_s"]}
    _write(model, history | _identity(budget_percent, seed, k), outputs["model"], outputs["history"])


def run_search(
    dataset: str, budget_percent: int, outputs: Mapping[str, str], config: Mapping[str, Any], seed: int, threads: int
) -> None:
    """Random search over layouts of the budget's k nodes; the best trial's model, every trial's CPU time."""
    tf_seed = _setup(config, seed, threads, RETRAIN_STREAM)
    settings = TrainSettings.from_config(config["training"])
    k = hidden_budget(budget_percent, settings.hidden_layers)
    layout_seed = derive_seed(config["seed"], seed, SEARCH_STREAM * 1000 + int(budget_percent))
    data, _ = load_training_data(dataset)
    search = SearchSettings.from_config(config["methods"]["search"])
    model, history = random_search(data, settings, k, search, tf_seed, layout_seed)
    history |= {"cpu_seconds": history["cpu_time_s"]}
    _write(model, history | _identity(budget_percent, seed, k), outputs["model"], outputs["history"])


def _identity(budget_percent: int, seed: int, k: int) -> dict[str, int]:
    return {"budget_percent": int(budget_percent), "training_seed": int(seed), "hidden_nodes": int(k)}
