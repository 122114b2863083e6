"""The AutoPruner: per-node sigmoid gates trained with a budget loss until exactly k nodes of a group stay on.

A gate layer multiplies each node by sigma(w_i). The pruner loss on a *budget group* of N gates (one or several layers)
is ``budget_weight * ((sum sigma - k) / N)**2 + binary_weight * mean sigma (1 - sigma)``: the first term sets how many
nodes survive, the second pushes every gate to 0 or 1.

Schedule: a warm-up without pruner, a linear ramp of the pruner strength to 1, then *geometric growth*: from the first
epoch in which every group's gate sum is within ``budget_tolerance`` gates of k (at the end of the ramp at the latest)
the whole pruner loss is multiplied by ``pruner_growth`` per epoch, up to ``pruner_scale_max``. Why the whole loss and
not the binarisation weight alone: once the budget is met the gates sit near sigma = k/N and the binarisation term pulls
them all the same way, so a larger binary weight alone only drags the gate sum off k (the count slack is
~ binary_weight * N / (2 budget_weight) gates) and freezes a wrong count. Growing both terms together keeps that slack
fixed (~0.1 gate with the default weights) while the pruner gradient on the gate logits grows until it dominates the
classifier's noisy gradient; the binarisation instability then separates the gates into k open and N-k closed, ranked by
what the classifier has learned up to then. So the loss, not the anneal, takes the 0/1 decision.

The final *anneal* is only a short clean-up: it takes the top-k gates of each group as the kept set and moves the logits
of every gate linearly (in epochs) to beyond the open/closed thresholds while the classifier keeps training, so the run
always ends with exactly k gates open. How much it had left to decide is recorded as ``undecided_gates_at_anneal``
(gates between the thresholds when it starts; in history.json and mask.json). The kept set is then checked against the
thresholds (`PruningError` otherwise).

Training uses `AutoPrunerTrainer`, a `keras.Model` wrapping the (plain, serializable) gated network: it adds the pruner
loss in ``compute_loss`` and trains the gate logits with their own Adam optimizer (a larger learning rate: the logits
must travel ~10 units within a few epochs, the network weights must not). Only the wrapped network is saved; the gate
layer is registered for ``keras.models.load_model``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from keras import ops

GATE_PACKAGE = "autopruner"
INPUT_GATE_GROUP = "input"
NODES = "nodes"
MULTIPLICATIONS = "multiplications"
#: what a hidden budget counts: open gates, or the expected multiplications of the gated dense chain
BUDGET_UNITS = (NODES, MULTIPLICATIONS)


@keras.saving.register_keras_serializable(package=GATE_PACKAGE)
class AutoPrunerGate(keras.layers.Layer):
    """x_i * sigma(w_i) * m_i: a trainable logit w_i per node, a fixed 0/1 hard mask m_i (ones in training).

    The hard mask is set once pruning is decided, so the saved pruned model is exactly the reduced network.
    """

    def __init__(self, gate_init: float = 3.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate_init = float(gate_init)

    def build(self, input_shape: Sequence[int | None]) -> None:
        """Create the logits (initialised to ``gate_init``) and the hard mask for the last axis."""
        n_nodes = int(input_shape[-1])
        self.logit = self.add_weight(
            name="logit",
            shape=(n_nodes,),
            initializer=keras.initializers.Constant(self.gate_init),
            trainable=True,
        )
        self.hard_mask = self.add_weight(name="hard_mask", shape=(n_nodes,), initializer="ones", trainable=False)

    def call(self, inputs: Any) -> Any:
        """Scale every node by its gate value."""
        return inputs * self.gate_tensor()

    def gate_tensor(self) -> Any:
        """sigma(w) * mask as a backend tensor (differentiable in w)."""
        return ops.sigmoid(self.logit) * self.hard_mask

    def gate_values(self) -> np.ndarray:
        """sigma(w) without the hard mask, as float64 numpy: the learned gate of every node."""
        return 1.0 / (1.0 + np.exp(-np.asarray(self.logit.numpy(), dtype=np.float64)))

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> Sequence[int | None]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"gate_init": self.gate_init})
        return config


def budget_term(gates: Any, k: int) -> Any:
    """((sum sigma - k) / N)^2: zero exactly when the gate values sum to the budget k."""
    n_gates = ops.shape(gates)[0]
    return ops.square((ops.sum(gates) - float(k)) / float(n_gates))


def binarisation_term(gates: Any) -> Any:
    """mean sigma (1 - sigma): zero exactly when every gate is 0 or 1."""
    return ops.mean(gates * (1.0 - gates))


def pruner_loss(gates: Any, k: int, budget_weight: float, binary_weight: float) -> Any:
    """The pruner loss of one budget group from its gate values sigma(w) (any array-like)."""
    gates = ops.convert_to_tensor(gates, dtype="float32")
    return budget_weight * budget_term(gates, k) + binary_weight * binarisation_term(gates)


def logit(p: float) -> float:
    """Inverse sigmoid."""
    return math.log(p / (1.0 - p))


@dataclass(frozen=True)
class PrunerSettings:
    """The `autopruner` config section (schedule, weights, thresholds) minus the budgets."""

    budget_weight: float = 10.0
    binary_weight: float = 1.0
    warmup_epochs: int = 3
    ramp_epochs: int = 10
    anneal_epochs: int = 4
    gate_init: float = 3.0
    gate_logit_rate: float = 1.0
    pruner_growth: float = 1.0
    pruner_scale_max: float = 1.0
    budget_tolerance: float = 1.0
    epochs: int = 80
    open_threshold: float = 0.99
    closed_threshold: float = 0.01
    group: str = "all_hidden"
    budget_unit: str = "nodes"

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> PrunerSettings:
        """Build from the config section; keys this class does not know (budgets) are ignored."""
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in section.items() if key in known})

    def __post_init__(self) -> None:
        if not 0.0 < self.closed_threshold < 0.5 < self.open_threshold < 1.0:
            raise ValueError(f"need 0 < closed_threshold < 0.5 < open_threshold < 1, got {self}")
        if self.group not in ("all_hidden", "per_layer"):
            raise ValueError(f"autopruner.group must be all_hidden or per_layer, got {self.group!r}")
        if self.budget_unit not in BUDGET_UNITS:
            raise ValueError(f"autopruner.budget_unit must be one of {BUDGET_UNITS}, got {self.budget_unit!r}")
        if self.budget_unit == MULTIPLICATIONS and self.group != "all_hidden":
            raise ValueError("autopruner.budget_unit: multiplications needs group: all_hidden (one chain budget)")
        if self.pruner_growth < 1.0 or self.pruner_scale_max < 1.0 or self.budget_tolerance < 0.0:
            raise ValueError(f"need pruner_growth >= 1, pruner_scale_max >= 1, budget_tolerance >= 0: {self}")
        if self.warmup_epochs + self.ramp_epochs + self.anneal_epochs > self.epochs:
            raise ValueError(f"warm-up + ramp + anneal epochs exceed autopruner.epochs: {self}")

    @property
    def anneal_margin(self) -> float:
        """|logit| the anneal moves every gate to: ten times beyond the stricter threshold in odds."""
        return max(logit(self.open_threshold), -logit(self.closed_threshold)) + math.log(10.0)

    def ramp_factor(self, epoch: int) -> float:
        """Pruner strength in [0, 1] at ``epoch`` (0-based): 0 in warm-up, linear ramp, then 1."""
        if epoch < self.warmup_epochs:
            return 0.0
        if self.ramp_epochs == 0:
            return 1.0
        return min(1.0, (epoch - self.warmup_epochs + 1) / self.ramp_epochs)


@dataclass(frozen=True)
class BudgetGroup:
    """Gate layers (by name) that share one budget of ``k`` open nodes, or of ``k`` multiplications.

    With ``unit == "multiplications"`` the layers must be consecutive hidden layers of one dense chain with
    ``n_inputs`` inputs, ``layer_sizes`` nodes per layer and ``n_outputs`` outputs; ``k`` is then the multiplication
    budget K and the budget term compares the expected multiplications M(sigma) with it (see `chain_multiplications`).
    """

    name: str
    layers: tuple[str, ...]
    k: int
    unit: str = NODES
    n_inputs: int = 0
    n_outputs: int = 1
    layer_sizes: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.unit not in BUDGET_UNITS:
            raise ValueError(f"budget group {self.name}: unknown unit {self.unit!r}")
        if self.unit == MULTIPLICATIONS and (len(self.layer_sizes) != len(self.layers) or self.n_inputs < 1):
            raise ValueError(f"budget group {self.name}: a multiplication budget needs n_inputs and layer_sizes")

    @property
    def size(self) -> int:
        """Number of gates in the group (needs ``layer_sizes``; node groups are sized by their layers)."""
        return int(sum(self.layer_sizes))

    @property
    def full_multiplications(self) -> int:
        """M_full: multiplications of the chain with every gate open."""
        return int(chain_multiplications(self.layer_sizes, self.n_inputs, self.n_outputs))

    @property
    def mean_node_cost(self) -> float:
        """Mean fan-in + fan-out of a hidden node of the full chain: the multiplications one gate is worth."""
        widths = (self.n_inputs, *self.layer_sizes, self.n_outputs)
        total = sum(n * (widths[i] + widths[i + 2]) for i, n in enumerate(self.layer_sizes))
        return float(total) / float(self.size)

    def deviation(self, layer_sums: Sequence[float]) -> float:
        """(budgeted quantity - k) in gates: open-gate sum minus k, or (M - K) divided by the mean node cost."""
        if self.unit == NODES:
            return float(sum(layer_sums)) - float(self.k)
        m = chain_multiplications(layer_sums, self.n_inputs, self.n_outputs)
        return (float(m) - float(self.k)) / self.mean_node_cost


def chain_multiplications(layer_sums: Sequence[Any], n_inputs: int, n_outputs: int = 1) -> Any:
    """M = n_in*S_1 + S_1*S_2 + ... + S_L*n_out, the multiplications of a dense chain with S_l nodes in layer l.

    ``layer_sums`` may be integers (live nodes), floats or backend tensors (sums of gate values sigma(w), so M is the
    expected count and differentiable); the input and output widths are fixed.
    """
    total = float(n_inputs) * layer_sums[0]
    for previous, current in zip(layer_sums[:-1], layer_sums[1:], strict=True):
        total = total + previous * current
    return total + layer_sums[-1] * float(n_outputs)


def multiplication_budget(budget_percent: int, layer_sizes: Sequence[int], n_inputs: int, n_outputs: int = 1) -> int:
    """K = ceil(B% * M_full) in integers, M_full the multiplications of the unpruned chain."""
    full = int(chain_multiplications([int(n) for n in layer_sizes], n_inputs, n_outputs))
    return -(-int(budget_percent) * full // 100)


def cost_budget_term(layer_sums: Sequence[Any], group: BudgetGroup) -> Any:
    """((M(sigma) - K) / M_full)^2: zero exactly when the expected multiplications equal the budget K."""
    m = chain_multiplications(layer_sums, group.n_inputs, group.n_outputs)
    return ops.square((m - float(group.k)) / float(group.full_multiplications))


def budget_nodes(budget_percent: int, n_nodes: int) -> int:
    """k = ceil(B% * N), in integers: 77, 128, 180 of 256 for 30/50/70 % (as in the AutoPruner talk)."""
    return -(-int(budget_percent) * int(n_nodes) // 100)


def hidden_budget_groups(
    gate_names: Sequence[str],
    nodes_per_layer: Sequence[int],
    budget_percent: int,
    group: str,
    unit: str = NODES,
    n_inputs: int = 0,
) -> list[BudgetGroup]:
    """Budget groups for the hidden gates: one over all layers (k of all hidden nodes) or one per layer.

    With ``unit == "multiplications"`` there is one group over all layers whose budget is
    K = ceil(B% of the multiplications of the full chain with ``n_inputs`` inputs and one output).
    """
    if unit == MULTIPLICATIONS:
        sizes = tuple(int(n) for n in nodes_per_layer)
        k = multiplication_budget(budget_percent, sizes, n_inputs)
        return [BudgetGroup("all_hidden", tuple(gate_names), k, MULTIPLICATIONS, int(n_inputs), 1, sizes)]
    if group == "all_hidden":
        return [BudgetGroup("all_hidden", tuple(gate_names), budget_nodes(budget_percent, sum(nodes_per_layer)))]
    return [
        BudgetGroup(name, (name,), budget_nodes(budget_percent, n))
        for name, n in zip(gate_names, nodes_per_layer, strict=True)
    ]


def _gate_layers(network: keras.Model) -> dict[str, AutoPrunerGate]:
    return {layer.name: layer for layer in network.layers if isinstance(layer, AutoPrunerGate)}


class AutoPrunerTrainer(keras.Model):
    """Trains a gated network with L_total = L_classifier + L_pruner; the network itself stays a plain model.

    The schedule variables (pruner strength = ramp factor, pruner scale = geometric growth) are set per epoch by
    `PrunerCallback`.
    """

    def __init__(
        self,
        network: keras.Model,
        groups: Sequence[BudgetGroup],
        settings: PrunerSettings,
        steps_per_epoch: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.network = network
        self.settings = settings
        self.groups = list(groups)
        gates = _gate_layers(network)
        missing = [name for g in self.groups for name in g.layers if name not in gates]
        if missing:
            raise ValueError(f"budget groups name gate layers the network lacks: {missing}")
        for g in self.groups:
            size = sum(gates[name].logit.shape[0] for name in g.layers)
            full = g.full_multiplications if g.unit == MULTIPLICATIONS else size
            if not 0 < g.k < full:
                raise ValueError(f"budget group {g.name}: need 0 < k < {full}, got k={g.k} ({g.unit})")
        self._gate_layers = [gates[name] for g in self.groups for name in g.layers]
        self.pruner_strength = keras.Variable(0.0, trainable=False, name="pruner_strength")
        self.pruner_scale = keras.Variable(1.0, trainable=False, name="pruner_scale")
        # Adam moves a parameter by at most ~lr per step: this bounds a logit's change per epoch by the rate.
        self.gate_optimizer = keras.optimizers.Adam(learning_rate=settings.gate_logit_rate / max(steps_per_epoch, 1))
        self.gate_optimizer.build([layer.logit for layer in self._gate_layers])
        self.classifier_loss_tracker = keras.metrics.Mean(name="classifier_loss")
        self.pruner_loss_tracker = keras.metrics.Mean(name="pruner_loss")

    def call(self, inputs: Any, training: bool = False) -> Any:
        return self.network(inputs, training=training)

    def group_gates(self, group: BudgetGroup) -> Any:
        """Concatenated gate values sigma(w) of one group, as a differentiable tensor."""
        layers = {layer.name: layer for layer in self._gate_layers}
        return ops.concatenate([ops.sigmoid(layers[name].logit) for name in group.layers], axis=0)

    def group_loss(self, group: BudgetGroup) -> Any:
        """The pruner loss of one group: node count or expected multiplications against its budget."""
        weights = self.settings.budget_weight, self.settings.binary_weight
        if group.unit == NODES:
            return pruner_loss(self.group_gates(group), group.k, *weights)
        layers = {layer.name: layer for layer in self._gate_layers}
        sums = [ops.sum(ops.sigmoid(layers[name].logit)) for name in group.layers]
        return weights[0] * cost_budget_term(sums, group) + weights[1] * binarisation_term(self.group_gates(group))

    def pruner_loss(self) -> Any:
        """Sum over groups of the pruner loss, scaled by the schedule's current strength."""
        total = 0.0
        for group in self.groups:
            total = total + self.group_loss(group)
        return self.pruner_strength * self.pruner_scale * total

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Classifier loss (compiled, sample-weighted) plus pruner loss; each part tracked as a metric."""
        classifier = super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)
        pruner = self.pruner_loss()
        batch = ops.shape(y_pred)[0]
        self.classifier_loss_tracker.update_state(classifier, sample_weight=batch)
        self.pruner_loss_tracker.update_state(pruner, sample_weight=batch)
        return classifier + pruner

    def train_step(self, data):
        """One step: network weights with the compiled optimizer, gate logits with the gate optimizer."""
        import tensorflow as tf

        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        gate_vars = [layer.logit for layer in self._gate_layers]
        gate_ids = {id(v) for v in gate_vars}
        net_vars = [v for v in self.trainable_variables if id(v) not in gate_ids]
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
        self._loss_tracker.update_state(loss, sample_weight=tf.shape(x)[0])
        grads = tape.gradient(loss, net_vars + gate_vars)
        self.optimizer.apply(grads[: len(net_vars)], net_vars)
        self.gate_optimizer.apply(grads[len(net_vars) :], gate_vars)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)


@dataclass
class MaskResult:
    """The decided pruning: kept node indices and gate values per gate layer, plus the threshold check."""

    layers: dict[str, dict[str, Any]]
    groups: list[dict[str, Any]]
    thresholds: dict[str, Any]

    def kept(self, layer: str) -> np.ndarray:
        return np.asarray(self.layers[layer]["kept"], dtype=np.int64)

    def to_json(self) -> dict[str, Any]:
        return {
            "layers": self.layers,
            "nodes_per_layer": {name: info["nodes"] for name, info in self.layers.items()},
            "kept_per_layer": {name: len(info["kept"]) for name, info in self.layers.items()},
            "groups": self.groups,
            "thresholds": self.thresholds,
        }


class PruningError(RuntimeError):
    """Training did not end with exactly k gates above the open and N-k below the closed threshold."""


def top_k_kept(gate_values: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the k largest gate values (ties broken by index, deterministically)."""
    order = np.argsort(-gate_values, kind="stable")
    kept = np.zeros(gate_values.shape[0], dtype=bool)
    kept[order[:k]] = True
    return kept


def connected_top_k_kept(layer_values: Sequence[np.ndarray], k: int) -> tuple[np.ndarray, int]:
    """Kept mask over the concatenated gates of several layers: the k largest, except that every layer keeps at least
    its best node when k allows it; also returns how many layers had to be given a node that way.

    With one budget over all hidden layers a small k (5 % of 256 nodes = 13) can leave a whole layer closed, and a
    network with an empty layer is cut in two: its output no longer depends on its inputs and it cannot even be
    rebuilt for retraining. Such a network is no candidate for a budget, so the layer's best node is kept instead of
    the group's weakest other one.
    """
    values = np.concatenate([np.asarray(v, dtype=np.float64) for v in layer_values])
    kept = top_k_kept(values, k)
    if k < len(layer_values):
        return kept, 0
    offsets = np.cumsum([0, *(len(v) for v in layer_values)])
    rescued = 0
    for i, layer in enumerate(layer_values):
        lo, hi = offsets[i], offsets[i + 1]
        if kept[lo:hi].any():
            continue
        counts = [kept[offsets[j]:offsets[j + 1]].sum() for j in range(len(layer_values))]
        donors = np.flatnonzero(kept & np.repeat(np.array(counts) > 1, [len(v) for v in layer_values]))
        weakest = donors[np.argmin(values[donors])]  # the group's weakest node in a layer that keeps another one
        kept[weakest] = False
        kept[lo + int(np.argmax(layer))] = True
        rescued += 1
    return kept, rescued


def _node_costs(kept_per_layer: Sequence[int], n_inputs: int, n_outputs: int) -> list[int]:
    """Fan-in + fan-out of one live node of each hidden layer: the multiplications it adds to the chain."""
    widths = (int(n_inputs), *(int(n) for n in kept_per_layer), int(n_outputs))
    return [widths[i] + widths[i + 2] for i in range(len(kept_per_layer))]


def _toggle_candidate(values: Sequence[np.ndarray], kept: Sequence[np.ndarray], close: bool) -> tuple[int, int] | None:
    """(layer, node) of the least-decided gate to close (lowest open, never a layer's last) or open (highest closed)."""
    best: tuple[float, int, int] | None = None
    for layer, (v, k) in enumerate(zip(values, kept, strict=True)):
        pool = np.flatnonzero(k) if close else np.flatnonzero(~k)
        if pool.size == 0 or (close and pool.size == 1):
            continue
        node = int(pool[np.argmin(v[pool])] if close else pool[np.argmax(v[pool])])
        key = float(v[node]) if close else -float(v[node])
        if best is None or key < best[0]:
            best = (key, layer, node)
    return None if best is None else (best[1], best[2])


def cost_budget_kept(values: Sequence[np.ndarray], group: BudgetGroup) -> tuple[list[np.ndarray], dict[str, Any]]:
    """Kept sets per layer meeting the multiplication budget K to within one node's cost.

    The gates are binarised at 0.5 (every layer keeps at least its highest gate). If M is then further from K than the
    cost (fan-in + fan-out) of the costliest live node, the least-decided gates are closed one at a time (lowest open
    gate first) while M > K, or opened (highest closed gate first) while M < K; the last toggle crosses K, so
    |M - K| ends below the cost of the node toggled last. Accepting any set within one node's cost makes the decision
    idempotent: the anneal's kept set, once binary, is decided again unchanged at the end of training.
    """
    values = [np.asarray(v, dtype=np.float64) for v in values]
    kept = [v > 0.5 for v in values]
    for v, k in zip(values, kept, strict=True):
        if not k.any():
            k[int(np.argmax(v))] = True

    def multiplications() -> int:
        return int(chain_multiplications([int(k.sum()) for k in kept], group.n_inputs, group.n_outputs))

    def within_one_node() -> bool:
        costs = _node_costs([int(k.sum()) for k in kept], group.n_inputs, group.n_outputs)
        return abs(multiplications() - group.k) <= max(costs)

    start = multiplications()
    close = start > group.k
    toggled = 0
    crossing = not within_one_node()
    while crossing and ((multiplications() > group.k) if close else (multiplications() < group.k)):
        candidate = _toggle_candidate(values, kept, close)
        if candidate is None:
            break
        layer, node = candidate
        kept[layer][node] = not close
        toggled += 1
    final = multiplications()
    costs = _node_costs([int(k.sum()) for k in kept], group.n_inputs, group.n_outputs)
    info = {
        "unit": MULTIPLICATIONS,
        "budget": int(group.k),
        "multiplications_full": group.full_multiplications,
        "multiplications_binarised": start,
        "multiplications": final,
        "budget_deviation": final - int(group.k),
        "max_node_cost": int(max(costs)),
        "gates_toggled_to_meet_budget": toggled,
    }
    return kept, info


def _group_kept(
    gate_values: Mapping[str, np.ndarray], group: BudgetGroup
) -> tuple[np.ndarray, dict[str, Any]]:
    """Kept mask over the group's concatenated gates and the budget facts to record."""
    if group.unit == NODES:
        kept, rescued = connected_top_k_kept([gate_values[name] for name in group.layers], group.k)
        return kept, {"unit": NODES, "budget": int(group.k), "layers_given_a_node": rescued}
    kept, info = cost_budget_kept([gate_values[name] for name in group.layers], group)
    return np.concatenate(kept), info


def decide_mask(
    gate_values: Mapping[str, np.ndarray], groups: Sequence[BudgetGroup], settings: PrunerSettings
) -> MaskResult:
    """Kept set per group (top-k gates, or the multiplication budget met); check the open and closed thresholds."""
    layers: dict[str, dict[str, Any]] = {}
    group_info = []
    all_passed = True
    for group in groups:
        values = np.concatenate([gate_values[name] for name in group.layers])
        kept, budget_info = _group_kept(gate_values, group)
        min_kept = float(values[kept].min())
        max_rejected = float(values[~kept].max()) if (~kept).any() else 0.0
        passed = min_kept > settings.open_threshold and max_rejected < settings.closed_threshold
        all_passed &= passed
        group_info.append(
            {
                "name": group.name,
                "layers": list(group.layers),
                "k": int(kept.sum()),
                "size": int(values.shape[0]),
                "n_open": int(np.sum(values > settings.open_threshold)),
                "n_closed": int(np.sum(values < settings.closed_threshold)),
                "min_kept_gate": min_kept,
                "max_rejected_gate": max_rejected,
                "passed": bool(passed),
                **budget_info,
            }
        )
        start = 0
        for name in group.layers:
            n_nodes = gate_values[name].shape[0]
            layer_kept = kept[start : start + n_nodes]
            layers[name] = {
                "nodes": int(n_nodes),
                "kept": np.flatnonzero(layer_kept).tolist(),
                "gate_values": gate_values[name].tolist(),
            }
            start += n_nodes
    thresholds = {
        "open": settings.open_threshold,
        "closed": settings.closed_threshold,
        "passed": bool(all_passed),
    }
    return MaskResult(layers=layers, groups=group_info, thresholds=thresholds)


def require_thresholds(mask: MaskResult) -> None:
    """Raise PruningError listing the failing groups unless every group passed the threshold check."""
    failing = [g for g in mask.groups if not g["passed"]]
    if failing:
        details = "; ".join(
            f"{g['name']}: k={g['k']} of {g['size']}, open={g['n_open']}, closed={g['n_closed']}, "
            f"min kept gate={g['min_kept_gate']:.4g}, max rejected gate={g['max_rejected_gate']:.4g}"
            for g in failing
        )
        raise PruningError(
            f"gates not binary at the end of training (open > {mask.thresholds['open']}, "
            f"closed < {mask.thresholds['closed']}): {details}"
        )


def apply_hard_mask(network: keras.Model, mask: MaskResult) -> None:
    """Set every gate layer's hard mask to its kept set, so rejected nodes output exactly zero."""
    gates = _gate_layers(network)
    for name, info in mask.layers.items():
        hard = np.zeros(info["nodes"], dtype=np.float32)
        hard[info["kept"]] = 1.0
        gates[name].hard_mask.assign(hard)


def gate_values(network: keras.Model) -> dict[str, np.ndarray]:
    """sigma(w) of every gate layer of ``network``, by layer name."""
    return {name: layer.gate_values() for name, layer in _gate_layers(network).items()}


class PrunerCallback(keras.callbacks.Callback):
    """Runs the schedule (warm-up, ramp, growth, anneal), logs gates per epoch, stops after the anneal.

    The pruner-loss scale grows geometrically from the budget being met (see the module docstring). The anneal starts
    when only ``anneal_epochs`` remain, or earlier if after the ramp every group is already binary with k gates open. At
    its start the kept set (top-k per group) is frozen, the pruner loss and the gate optimizer are switched off, and at
    each anneal epoch the logits move a further 1/anneal_epochs of the way to +-margin (kept / rejected) while the
    classifier keeps training.
    """

    def __init__(self, groups: Sequence[BudgetGroup], settings: PrunerSettings) -> None:
        super().__init__()
        self.groups = list(groups)
        self.settings = settings
        self.log: dict[str, list[Any]] = {}
        self.anneal_start: int | None = None
        self._anneal_from: dict[str, np.ndarray] = {}
        self._anneal_to: dict[str, np.ndarray] = {}
        self.gates_at_anneal: dict[str, np.ndarray] = {}
        self.undecided_at_anneal: int | None = None
        self.growth_start: int | None = None

    def _gate_layers(self) -> dict[str, AutoPrunerGate]:
        return _gate_layers(self.model.network)

    def _phase(self, epoch: int) -> str:
        if self.anneal_start is not None and epoch >= self.anneal_start:
            return "anneal"
        if epoch < self.settings.warmup_epochs:
            return "warmup"
        if epoch < self.settings.warmup_epochs + self.settings.ramp_epochs:
            return "ramp"
        return "prune"

    def _start_anneal(self, epoch: int) -> None:
        """Freeze the kept set (top-k per group) and the logit path of the anneal."""
        self.anneal_start = epoch
        values = gate_values(self.model.network)
        self.gates_at_anneal = {name: v.copy() for name, v in values.items()}
        mask = decide_mask(values, self.groups, self.settings)
        self.undecided_at_anneal = sum(g["size"] - g["n_open"] - g["n_closed"] for g in mask.groups)
        margin = self.settings.anneal_margin
        for name, layer in self._gate_layers().items():
            if name not in mask.layers:
                continue
            start = np.asarray(layer.logit.numpy(), dtype=np.float64)
            kept = np.zeros(start.shape[0], dtype=bool)
            kept[mask.layers[name]["kept"]] = True
            self._anneal_from[name] = start
            self._anneal_to[name] = np.where(kept, np.maximum(start, margin), np.minimum(start, -margin))
        self.model.pruner_strength.assign(0.0)
        self.model.gate_optimizer.learning_rate.assign(0.0)

    @staticmethod
    def _group_values(values: Mapping[str, np.ndarray], group: BudgetGroup) -> np.ndarray:
        return np.concatenate([values[name] for name in group.layers])

    def budget_met(self, values: Mapping[str, np.ndarray]) -> bool:
        """Every group within ``budget_tolerance`` gates of its budget (multiplications: in mean node costs)."""
        return all(
            abs(g.deviation([float(values[name].sum()) for name in g.layers])) <= self.settings.budget_tolerance
            for g in self.groups
        )

    def _grow_pruner_scale(self, epoch: int, values: Mapping[str, np.ndarray]) -> None:
        """Multiply the pruner-loss scale by ``pruner_growth`` (up to the cap) from the budget being met on.

        Growth starts at the first epoch that ends with every group's gate sum within ``budget_tolerance`` of k, or at
        the end of the ramp at the latest, and then continues every epoch.
        """
        if self.growth_start is None:
            ramp_done = epoch + 1 >= self.settings.warmup_epochs + self.settings.ramp_epochs
            if not (ramp_done or self.budget_met(values)):
                return
            self.growth_start = epoch
        current = float(self.model.pruner_scale.numpy())
        self.model.pruner_scale.assign(min(current * self.settings.pruner_growth, self.settings.pruner_scale_max))

    def _pruning_decided(self, epoch: int, values: Mapping[str, np.ndarray]) -> bool:
        """After the ramp, every group already binary with exactly k gates open."""
        if epoch + 1 < self.settings.warmup_epochs + self.settings.ramp_epochs:
            return False
        return decide_mask(values, self.groups, self.settings).thresholds["passed"]

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        if self.anneal_start is None and epoch >= self.settings.epochs - self.settings.anneal_epochs:
            self._start_anneal(epoch)
        if self.anneal_start is None:
            self.model.pruner_strength.assign(self.settings.ramp_factor(epoch))
            return
        fraction = min(1.0, (epoch - self.anneal_start + 1) / max(self.settings.anneal_epochs, 1))
        layers = self._gate_layers()
        for name, start in self._anneal_from.items():
            target = self._anneal_to[name]
            layers[name].logit.assign((start + fraction * (target - start)).astype(np.float32))

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        logs = dict(logs or {})
        values = gate_values(self.model.network)
        record = {
            "epoch": epoch,
            "phase": self._phase(epoch),
            "pruner_strength": float(self.model.pruner_strength.numpy()),
            **{key: float(value) for key, value in logs.items()},
            "open_gates": {name: int(np.sum(v > 0.5)) for name, v in values.items()},
            "strictly_open_gates": {name: int(np.sum(v > self.settings.open_threshold)) for name, v in values.items()},
            "strictly_closed_gates": {
                name: int(np.sum(v < self.settings.closed_threshold)) for name, v in values.items()
            },
        }
        record["pruner_scale"] = float(self.model.pruner_scale.numpy())
        record["gate_sum"] = {g.name: float(self._group_values(values, g).sum()) for g in self.groups}
        record["expected_multiplications"] = {
            g.name: float(chain_multiplications([float(values[n].sum()) for n in g.layers], g.n_inputs, g.n_outputs))
            for g in self.groups
            if g.unit == MULTIPLICATIONS
        }
        for key, value in record.items():
            self.log.setdefault(key, []).append(value)
        if self.anneal_start is None and epoch >= self.settings.warmup_epochs:
            self._grow_pruner_scale(epoch, values)
        if self.anneal_start is None:
            if self._pruning_decided(epoch, values):
                self._start_anneal(epoch + 1)
                self.model.stop_training = self.settings.anneal_epochs == 0
        elif epoch + 1 >= self.anneal_start + self.settings.anneal_epochs:
            self.model.stop_training = True
