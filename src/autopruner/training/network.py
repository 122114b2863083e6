"""A tagger as a plain chain of dense layers: standardization and node gates folded into the weights.

Every tagger is Input → Normalization → (Dense, ReLU, optional per-node gate)* → Dense(1, sigmoid). For counting the
structure that survives pruning and for firmware (hls4ml has no Normalization layer), the chain is rewritten as Dense
layers only, without changing what it computes:

* Normalization, z = (x − μ)/σ, folds into the first Dense: W' = W/σ (row-wise), b' = b − (μ/σ)·W.
* A gate g ≥ 0 that multiplies node outputs folds into the columns of the Dense before it:
  g·relu(Wx + b) = relu(gWx + gb). A gate is recognised without knowing its class: it must map ones to g and twos to 2g.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_SKIPPED = {"InputLayer", "Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout"}
_POSITIVE_HOMOGENEOUS = {"linear", "relu"}  # act(g·z) = g·act(z) for g ≥ 0


@dataclass
class DenseStage:
    """One dense layer: y = activation(x @ kernel + bias)."""

    kernel: np.ndarray  # (n_in, n_out)
    bias: np.ndarray  # (n_out,)
    activation: str
    name: str


def _activation_name(fn) -> str:
    """Keras activation function → its name ('relu', 'sigmoid', 'linear'...)."""
    return getattr(fn, "__name__", str(fn))


def _normalization_affine(layer) -> tuple[np.ndarray, np.ndarray]:
    """(scale, shift) with Normalization(x) = x·scale + shift, exactly as Keras computes it."""
    import keras

    if getattr(layer, "invert", False):
        raise ValueError(f"layer {layer.name}: inverted Normalization cannot be folded")
    mean = np.asarray(layer.mean, dtype=np.float64).ravel()
    std = np.maximum(np.sqrt(np.asarray(layer.variance, dtype=np.float64).ravel()), keras.config.epsilon())
    return 1.0 / std, -mean / std


def _probe_gate(layer, n_nodes: int) -> np.ndarray:
    """Per-node factor of a multiplicative gate layer; raise if the layer is not a per-node scale."""
    ones = np.ones((1, n_nodes), dtype=np.float32)
    g1 = np.asarray(layer(ones, training=False)).ravel().astype(np.float64)
    g2 = np.asarray(layer(2.0 * ones, training=False)).ravel().astype(np.float64)
    if g1.shape != (n_nodes,) or not np.allclose(g2, 2.0 * g1, rtol=1e-5, atol=1e-7) or np.any(g1 < 0):
        raise ValueError(f"layer {layer.name} ({type(layer).__name__}) is not a non-negative per-node scale")
    return g1


def fold_model(model, closed_threshold: float = 0.0) -> list[DenseStage]:
    """The model's dense chain with Normalization and gates folded in; gates ≤ ``closed_threshold`` become 0."""
    stages: list[DenseStage] = []
    affine: tuple[np.ndarray, np.ndarray] | None = None
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in _SKIPPED:
            continue
        if kind == "Normalization":
            if stages or affine is not None:
                raise ValueError(f"layer {layer.name}: Normalization must come first to be folded")
            affine = _normalization_affine(layer)
        elif kind == "Dense":
            kernel = np.asarray(layer.kernel, dtype=np.float64)
            bias = np.asarray(layer.bias, dtype=np.float64) if layer.use_bias else np.zeros(kernel.shape[1])
            if affine is not None:
                scale, shift = affine
                bias = bias + shift @ kernel
                kernel = kernel * scale[:, None]
                affine = None
            stages.append(DenseStage(kernel, bias, _activation_name(layer.activation), layer.name))
        elif kind in ("Activation", "ReLU"):
            name = "relu" if kind == "ReLU" else _activation_name(layer.activation)
            if not stages or stages[-1].activation != "linear":
                raise ValueError(f"layer {layer.name}: activation without a preceding linear Dense")
            stages[-1].activation = name
        elif not stages:
            n_in = model.inputs[0].shape[-1]
            gate = _probe_gate(layer, n_in)
            gate = np.where(gate <= closed_threshold, 0.0, gate)
            scale, shift = affine if affine is not None else (np.ones(n_in), np.zeros(n_in))
            affine = (scale * gate, shift * gate)  # an input gate scales the standardized features
        else:
            if stages[-1].activation not in _POSITIVE_HOMOGENEOUS:
                raise ValueError(f"layer {layer.name} ({kind}) cannot be folded into the preceding layer")
            gate = _probe_gate(layer, stages[-1].kernel.shape[1])
            gate = np.where(gate <= closed_threshold, 0.0, gate)
            stages[-1].kernel = stages[-1].kernel * gate[None, :]
            stages[-1].bias = stages[-1].bias * gate
    if not stages:
        raise ValueError(f"model {model.name}: no Dense layer found")
    return stages


_NUMPY_ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
    "tanh": np.tanh,
    "softmax": lambda z: (
        np.exp(z - z.max(axis=-1, keepdims=True))
        / np.exp(z - z.max(axis=-1, keepdims=True)).sum(axis=-1, keepdims=True)
    ),
}


def apply_chain(stages: list[DenseStage], x: np.ndarray) -> np.ndarray:
    """Evaluate the chain in float64 numpy (reference for folding tests and for size-independent checks)."""
    out = np.asarray(x, dtype=np.float64)
    for stage in stages:
        out = _NUMPY_ACTIVATIONS[stage.activation](out @ stage.kernel + stage.bias)
    return out


def to_keras(stages: list[DenseStage], input_name: str = "features"):
    """A Keras model with Dense layers only (named dense_0, dense_1...) computing the chain: what hls4ml converts."""
    import keras

    inputs = keras.Input((stages[0].kernel.shape[0],), name=input_name)
    x = inputs
    for i, stage in enumerate(stages):
        layer = keras.layers.Dense(stage.kernel.shape[1], activation=stage.activation, name=f"dense_{i}")
        x = layer(x)
        layer.set_weights([stage.kernel.astype(np.float32), stage.bias.astype(np.float32)])
    return keras.Model(inputs, x, name="folded")


def live_nodes(stages: list[DenseStage]) -> list[np.ndarray]:
    """Boolean masks of the nodes that still matter: [inputs, layer 1, ..., output].

    A node is live when it can be non-zero (a non-zero weight from a live node, or a bias that survives the activation)
    and reaches the output (a non-zero weight to a live node). Output nodes are always live.
    """
    n_layers = len(stages)
    forward = [np.ones(stages[0].kernel.shape[0], dtype=bool)]
    for stage in stages:
        fed = (stage.kernel[forward[-1]] != 0.0).any(axis=0)
        constant = _NUMPY_ACTIVATIONS[stage.activation](stage.bias) != 0.0
        forward.append(fed | constant)
    backward = [None] * (n_layers + 1)
    backward[n_layers] = np.ones(stages[-1].kernel.shape[1], dtype=bool)
    for k in range(n_layers - 1, -1, -1):
        backward[k] = (stages[k].kernel[:, backward[k + 1]] != 0.0).any(axis=1)
    live = [f & b for f, b in zip(forward, backward, strict=True)]
    live[-1] = np.ones_like(live[-1])
    return live


def nonzero_products(stages: list[DenseStage]) -> list[np.ndarray]:
    """Per layer, the boolean (n_in, n_out) map of multiplications that remain: non-zero weight between live nodes."""
    live = live_nodes(stages)
    return [(stage.kernel != 0.0) & live[k][:, None] & live[k + 1][None, :] for k, stage in enumerate(stages)]


def model_size(stages) -> dict:
    """Size of the structure that survives pruning: live nodes per layer, weights, multiplications.

    ``stages`` is a folded dense chain (`fold_model`); the standardization is folded into the first layer and costs
    nothing. Multiplications are the non-zero weights between live nodes; weights adds the biases of the live nodes. The
    ``*_full`` entries count the same network before pruning.
    """
    live = live_nodes(stages)
    products = nonzero_products(stages)
    nodes = [int(mask.sum()) for mask in live[1:]]
    multiplications = int(sum(p.sum() for p in products))
    full_nodes = [int(stage.kernel.shape[1]) for stage in stages]
    full_mults = int(sum(stage.kernel.size for stage in stages))
    return {
        "inputs": int(live[0].sum()),
        "nodes_per_layer": nodes,
        "hidden_nodes": int(sum(nodes[:-1])),
        "multiplications": multiplications,
        "weights": multiplications + int(sum(nodes)),
        "nodes_per_layer_full": full_nodes,
        "hidden_nodes_full": int(sum(full_nodes[:-1])),
        "multiplications_full": full_mults,
        "weights_full": full_mults + int(sum(full_nodes)),
    }
