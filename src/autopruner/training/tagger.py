"""The H->bb tagger network: raw features -> Normalization -> Dense ReLU layers -> sigmoid, optionally gated.

Layer names are part of the interface (mask.json and `reduce_model` refer to them): ``normalization``, ``input_gate``,
``hidden_{i}`` / ``gate_{i}`` (i = 1..L) and ``output``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np

from autopruner.io_utils import CorruptInputError, atomic_output, require_file
from autopruner.training.pruning import AutoPrunerGate

NORMALIZATION = "normalization"
INPUT_GATE = "input_gate"
OUTPUT = "output"


def hidden_name(i: int) -> str:
    """Name of the i-th hidden Dense layer (1-based)."""
    return f"hidden_{i}"


def gate_name(i: int) -> str:
    """Name of the gate after the i-th hidden layer (1-based)."""
    return f"gate_{i}"


def configure_tensorflow(threads: int) -> None:
    """Use ``threads`` CPU threads and deterministic ops; must run before TensorFlow executes its first op."""
    import tensorflow as tf

    with contextlib.suppress(RuntimeError):  # already initialised in this process: keep its settings
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(min(2, int(threads)))
    tf.config.experimental.enable_op_determinism()


def seed_everything(seed: int) -> None:
    """Seed Python, numpy, TensorFlow and Keras' own generators (initialisers, shuffling) from ``seed``."""
    keras.utils.set_random_seed(int(seed))


def adapted_normalization(x_train: np.ndarray) -> keras.layers.Normalization:
    """A Normalization layer adapted (mean, variance per feature) on the training split only."""
    layer = keras.layers.Normalization(axis=-1, name=NORMALIZATION)
    layer.adapt(np.asarray(x_train, dtype=np.float32))
    return layer


def n_features_of(normalization: keras.layers.Normalization) -> int:
    """Number of input features of an adapted Normalization layer (the length of its mean)."""
    return int(np.shape(normalization.get_weights()[0])[-1])


def copy_normalization(source: keras.layers.Normalization) -> keras.layers.Normalization:
    """A new adapted Normalization layer with the statistics of ``source`` (for derived models)."""
    layer = keras.layers.Normalization(axis=-1, name=NORMALIZATION)
    layer.build((None, n_features_of(source)))
    layer.set_weights(source.get_weights())
    layer.finalize_state()
    return layer


def build_tagger(
    normalization: keras.layers.Normalization,
    hidden_sizes: Sequence[int],
    gated: bool = False,
    input_gate: bool = False,
    gate_init: float = 3.0,
) -> keras.Model:
    """IL(n_features) -> Normalization -> [input gate] -> Dense ReLU (+ gate) x L -> Dense(1, sigmoid)."""
    n_features = n_features_of(normalization)
    inputs = keras.Input(shape=(n_features,), name="features")
    x = normalization(inputs)
    if input_gate:
        x = AutoPrunerGate(gate_init=gate_init, name=INPUT_GATE)(x)
    for i, units in enumerate(hidden_sizes, start=1):
        x = keras.layers.Dense(int(units), activation="relu", name=hidden_name(i))(x)
        if gated:
            x = AutoPrunerGate(gate_init=gate_init, name=gate_name(i))(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name=OUTPUT)(x)
    return keras.Model(inputs, outputs, name="tagger")


def compile_tagger(model: keras.Model, learning_rate: float) -> keras.Model:
    """Adam + binary cross-entropy (sample weights are passed to fit); returns ``model``."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.BinaryCrossentropy(),
    )
    return model


def hidden_gate_names(model: keras.Model) -> list[str]:
    """Names of the gates after hidden layers, in layer order."""
    return [layer.name for layer in model.layers if isinstance(layer, AutoPrunerGate) and layer.name != INPUT_GATE]


def hidden_sizes_of(model: keras.Model) -> list[int]:
    """Units of every hidden Dense layer of a tagger, in order."""
    return [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense) and layer.name != OUTPUT]


def load_model(path: str | Path) -> keras.Model:
    """A saved tagger (baseline, pruned with gates, reduced or retrained); CorruptInputError names a bad file.

    This is the project's one model loader: the gate layer is passed as a custom object, so every stage can read every
    model file.
    """
    path = require_file(path)
    try:
        return keras.models.load_model(path, custom_objects={"AutoPrunerGate": AutoPrunerGate})
    except Exception as err:  # keras raises many types for a damaged archive
        raise CorruptInputError(f"cannot load model {path}: {err}") from err


def save_model(model: keras.Model, path: str | Path) -> None:
    """``model.save`` atomically."""
    with atomic_output(path) as tmp:
        model.save(tmp)
