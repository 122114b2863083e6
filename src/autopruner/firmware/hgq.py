"""Quantization-aware fine-tuning with HGQ2 (``firmware.quantization: hgq``): AutoPruner's structure, HGQ2's bits.

HGQ2 (Sun et al., arXiv:2405.00645; PyPI ``hgq2``, Keras 3) learns a bit width for every weight and every activation
while it trains, with a resource term in the loss: β·EBOPs, the effective bit operations (≈ LUT + 55·DSP of the
design). Here it fine-tunes a network whose layout AutoPruner chose:

* the structure is the hls4ml project's folded network (`autopruner.firmware.hls`): the same Dense shapes, the
  standardization and the power-of-two input scales folded into the first layer, its float weights copied;
* the first layer's input quantizer starts at the firmware input formats (`autopruner.firmware.inputs`): sign and
  integer bits fixed per feature, the fractional bits trainable (truncation, so bits it drops cost no logic);
* hidden activations are quantized by the next layer's input quantizer (trainable fractional bits, integer bits
  tracked from the data, wrap-around), weights and biases by per-element trainable bit widths; the last layer's sum
  is the output, exact: the logit (the sigmoid is monotonic, so a cut on the logit is a cut on the score);
* fine-tuning: weighted binary cross-entropy on the training split (a seeded subsample of at most
  ``max_train_candidates``), β ramped from β/100 to ``beta`` over the first half of the epochs (log scale), Adam;
* afterwards the activations' integer bits are traced on the whole subsample (``hgq.utils.trace_minmax``), so no
  training candidate wraps around.

da4ml traces the fine-tuned HGQ2 model (``da4ml.converter.trace_model``) from inputs in the firmware formats into a
pipelined Verilog design; its C++ interpreter is checked bit for bit against the HGQ2 model's own predictions.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autopruner.firmware.inputs import InputFormat, quantize_inputs
from autopruner.io_utils import CorruptInputError, atomic_output, require_file, write_json
from autopruner.training.network import DenseStage

#: the implementation label of the HGQ2 designs (the summary's ``da4ml_hgq2``; never mixed with the post-training ones)
DA_IMPLEMENTATION = "da4ml_hgq2"
#: spawn key of the generator that subsamples the training split
FINETUNE_STREAM = 7
HISTORY_KEYS = ("loss", "val_loss", "ebops", "beta")


@dataclass(frozen=True)
class HgqSettings:
    """The ``firmware.hgq`` config section."""

    beta: float  # final weight of EBOPs in the loss (per EBOP)
    epochs: int
    batch_size: int
    learning_rate: float
    weight_bits: int  # initial bits of every weight and bias (sign excluded)
    activation_frac_bits: int  # initial fractional bits of every hidden activation
    max_train_candidates: int  # fine-tuning subsample of the training split

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> HgqSettings:
        """Build from ``firmware.hgq``."""
        return cls(
            beta=float(section["beta"]),
            epochs=int(section["epochs"]),
            batch_size=int(section["batch_size"]),
            learning_rate=float(section["learning_rate"]),
            weight_bits=int(section["weight_bits"]),
            activation_frac_bits=int(section["activation_frac_bits"]),
            max_train_candidates=int(section["max_train_candidates"]),
        )


def hgq2_version() -> str:
    """Installed HGQ2 version."""
    from importlib.metadata import version

    return version("hgq2")


def _input_quantizer_config(formats: Sequence[InputFormat]):
    """First layer's input quantizer: (k, i, f) per feature, f trainable up to the firmware's; TRN, SAT."""
    from hgq.config import QuantizerConfig
    from hgq.constraints import MinMax

    frac = max(f.frac_bits for f in formats)
    return QuantizerConfig(
        "kif", "datalane", k0=1, i0=max(f.integer_bits for f in formats), f0=frac, round_mode="TRN",
        overflow_mode="SAT", fc=MinMax(-8, frac), ic=None, homogeneous_axis=(0,),
    )


def _set_input_formats(layer, formats: Sequence[InputFormat]) -> None:
    """Sign and integer bits of each feature fixed to its firmware format, fractional bits to its own."""
    q = layer.iq.quantizer
    q._k.assign(np.array([int(f.signed) for f in formats], dtype=np.uint8).reshape(q._k.shape))
    q._i.assign(np.array([f.integer_bits for f in formats], dtype=np.float64).reshape(q._i.shape))
    q._f.assign(np.array([f.frac_bits for f in formats], dtype=np.float64).reshape(q._f.shape))
    q._i.trainable = False


def _minimal_integer_bits(values: np.ndarray, bits: int) -> np.ndarray:
    """Integer bits (sign excluded) that hold each |value| with ``bits`` bits (symmetric saturation)."""
    magnitude = np.maximum(np.abs(values), 2.0**-24)
    return np.ceil(np.log2(magnitude / (1.0 - 2.0**-bits)))


@contextlib.contextmanager
def float64_keras() -> Iterator[None]:
    """Keras layers, losses and metrics built in this block compute in float64.

    In float32 a dense sum of products with wide fractional parts is not exact, and a rounding step after it can
    then land on the other side of a boundary than the exact fixed-point design (seen here: 1 of 20 000 candidates);
    float64 holds every sum of these designs exactly, so the HGQ2 model is a bit-exact reference.
    """
    import keras

    previous = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")  # the global policy, once a layer was built, no longer follows floatx
    try:
        yield
    finally:
        keras.config.set_floatx(previous[0])
        keras.config.set_dtype_policy(previous[1])


def build_hgq_model(stages: Sequence[DenseStage], formats: Sequence[InputFormat], settings: HgqSettings):
    """HGQ2 model of the folded chain (inputs u in firmware units, logit output, float64), the float weights
    copied."""
    if stages[-1].kernel.shape[1] != 1 or any(s.activation != "relu" for s in stages[:-1]):
        raise ValueError("HGQ2 fine-tuning expects ReLU hidden layers and one output")
    with float64_keras():
        return _build(stages, formats, settings)


def _build(stages: Sequence[DenseStage], formats: Sequence[InputFormat], settings: HgqSettings):
    """The layers of `build_hgq_model`."""
    import keras
    from hgq.config import QuantizerConfig
    from hgq.layers import QDense

    inputs = keras.Input((stages[0].kernel.shape[0],), name="features")
    x = inputs
    layers = []
    for k, stage in enumerate(stages):
        last = k == len(stages) - 1
        iq = _input_quantizer_config(formats) if k == 0 else QuantizerConfig(
            "kif", "datalane", f0=settings.activation_frac_bits)
        layer = QDense(
            stage.kernel.shape[1], activation=None if last else "relu", name=f"dense_{k}", iq_conf=iq,
            kq_conf=QuantizerConfig("kbi", "weight", b0=settings.weight_bits),
            bq_conf=QuantizerConfig("kbi", "bias", b0=settings.weight_bits),
        )
        x = layer(x)
        layer.set_weights(_with_float_weights(layer, stage))
        layers.append(layer)
    _set_input_formats(layers[0], formats)
    for layer, stage in zip(layers, stages, strict=True):
        layer.kq.quantizer._i.assign(_minimal_integer_bits(stage.kernel, settings.weight_bits))
    return keras.Model(inputs, x, name="hgq")


def _with_float_weights(layer, stage: DenseStage) -> list[np.ndarray]:
    """The layer's variables with the kernel and bias replaced by the float network's."""
    values = [np.asarray(v) for v in layer.get_weights()]
    names = [v.path.rsplit("/", 1)[-1] for v in layer.weights]
    for n, name in enumerate(names):
        if name == "kernel":
            values[n] = stage.kernel.astype(values[n].dtype)
        elif name == "bias":
            values[n] = stage.bias.astype(values[n].dtype)
    return values


def beta_schedule(settings: HgqSettings):
    """β per epoch: from β/100 to β (log scale) over the first half of the epochs, then constant."""
    from hgq.utils.sugar import PieceWiseSchedule

    ramp = max(1, settings.epochs // 2)
    return PieceWiseSchedule([(0, settings.beta / 100.0, "log"), (ramp, settings.beta, "constant")])


def model_ebops(model) -> int:
    """Sum of the layers' EBOPs as last computed (training step or trace)."""
    from hgq.layers import QLayerBase
    from keras import ops

    return int(sum(int(ops.convert_to_numpy(layer._ebops)) for layer in model._flatten_layers()
                   if isinstance(layer, QLayerBase) and layer.enable_ebops))


def finetune(model, U_train, y_train, w_train, U_val, y_val, w_val, settings: HgqSettings) -> dict[str, Any]:
    """Quantization-aware fine-tuning with the EBOPs term, then the activations' integer bits traced on the training
    inputs. Returns the per-epoch history (loss, validation loss, EBOPs, β) and timings."""
    import keras
    from hgq.utils import trace_minmax
    from hgq.utils.sugar import BetaScheduler, FreeEBOPs

    U_train, y_train, w_train, U_val, y_val, w_val = (np.asarray(a, dtype=np.float64) for a in (
        U_train, y_train, w_train, U_val, y_val, w_val))  # float32 labels or weights would mix dtypes in the loss
    with float64_keras():
        trace_minmax(model, U_train, batch_size=8192)  # integer bits of the activations before the first step
        model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate),
                      loss=keras.losses.BinaryCrossentropy(from_logits=True))
        start, cpu_start = time.perf_counter(), time.process_time()
        fit = model.fit(U_train, y_train, sample_weight=w_train, validation_data=(U_val, y_val, w_val),
                        batch_size=settings.batch_size, epochs=settings.epochs, shuffle=True, verbose=0,
                        callbacks=[BetaScheduler(beta_schedule(settings)), FreeEBOPs()])
    train_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    t0 = time.perf_counter()
    with float64_keras():
        ebops = int(trace_minmax(model, U_train, batch_size=8192))
    return {
        **{key: [float(v) for v in fit.history.get(key, [])] for key in HISTORY_KEYS},
        "ebops_traced": ebops,
        "train_wall_s": train_s,
        "train_cpu_s": cpu_s,
        "trace_minmax_s": time.perf_counter() - t0,
    }


def predict_logits(model, U: np.ndarray) -> np.ndarray:
    """The HGQ2 model's outputs (logits) on quantized inputs, float64."""
    return np.asarray(model.predict(np.asarray(U, dtype=np.float64), batch_size=8192, verbose=0),
                      dtype=np.float64).ravel()


def layer_bits(model) -> list[dict[str, Any]]:
    """Per layer: mean bits of the non-zero weights, share of weights pruned to zero bits, mean input bits."""
    from keras import ops

    out = []
    for layer in model.layers:
        if not hasattr(layer, "kq"):
            continue
        kernel_bits = np.asarray(ops.convert_to_numpy(layer.kq.quantizer.bits), dtype=np.float64)
        qkernel = np.asarray(ops.convert_to_numpy(layer.qkernel))
        k, i, f = (np.asarray(ops.convert_to_numpy(v), dtype=np.float64) for v in layer.iq.quantizer.kif)
        out.append({
            "layer": layer.name,
            "shape": list(qkernel.shape),
            "nonzero_weights": int(np.count_nonzero(qkernel)),
            "mean_weight_bits_nonzero": float(kernel_bits[qkernel != 0].mean()) if np.any(qkernel) else 0.0,
            "mean_input_bits": float(np.mean(np.maximum(k + i + f, 0))),
        })
    return out


def _subsample(n: int, limit: int, seed: int) -> np.ndarray:
    """Sorted indices of at most ``limit`` of n candidates (seeded)."""
    if n <= limit:
        return np.arange(n)
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(FINETUNE_STREAM,)))
    return np.sort(rng.choice(n, size=limit, replace=False))


def load_hgq_model(path: str | os.PathLike):
    """A saved HGQ2 model (the custom layers register themselves on import)."""
    import hgq  # noqa: F401 - registers the HGQ2 layers with Keras
    import keras

    try:
        return keras.saving.load_model(require_file(path), compile=False)
    except (ValueError, OSError) as exc:
        raise CorruptInputError(f"cannot read HGQ2 model {path}: {exc}") from exc


def run_finetune(project_dir, dataset_path, cfg: Mapping[str, Any], model_out, history_out) -> dict[str, Any]:
    """Fine-tune the project's folded network with HGQ2; write the model and ``hgq_history.json``."""
    from autopruner.firmware.hls import load_input_formats, load_project
    from autopruner.training.network import fold_model
    from autopruner.training.steps import derive_seed, load_training_data
    from autopruner.training.tagger import seed_everything

    settings = HgqSettings.from_config(cfg["firmware"]["hgq"])
    folded, _, _ = load_project(project_dir)
    formats = load_input_formats(project_dir)
    data, _ = load_training_data(dataset_path)
    keep = _subsample(len(data.train.y), settings.max_train_candidates, int(cfg["seed"]))
    U_train = quantize_inputs(data.train.x[keep], formats)
    U_val = quantize_inputs(data.validation.x, formats)
    seed_everything(derive_seed(int(cfg["seed"]), 0, FINETUNE_STREAM))
    model = build_hgq_model(fold_model(folded), formats, settings)
    history = finetune(model, U_train, data.train.y[keep], data.train.w[keep], U_val, data.validation.y,
                       data.validation.w, settings)
    record = {
        "hgq2": hgq2_version(),
        "settings": settings.__dict__,
        "n_train_candidates": int(len(keep)),
        "structure": [int(s.kernel.shape[1]) for s in fold_model(folded)],
        **history,
        "layers": layer_bits(model),
    }
    with atomic_output(model_out) as tmp:
        model.save(tmp)
    write_json(history_out, record)
    return record


# --- da4ml: trace, Verilog, bit-exact check ---------------------------------------------------------------------


def trace(model, formats: Sequence[InputFormat], da_cfg: Mapping[str, Any] | None = None):
    """da4ml ``CombLogic`` of the HGQ2 model, its inputs in the firmware formats (the ports a board drives), with the
    ``firmware.da`` config's solver options (`da.solver_options`)."""
    from da4ml.converter import trace_model
    from da4ml.trace import FixedVariableArrayInput, comb_trace

    from autopruner.firmware.da import solver_options

    inp = FixedVariableArrayInput(len(formats), solver_options=solver_options(da_cfg))
    k = np.array([int(f.signed) for f in formats])
    i = np.array([f.integer_bits for f in formats])
    f = np.array([fmt.frac_bits for fmt in formats])
    _, out = trace_model(model, inputs=inp.quantize(k, i, f))
    return comb_trace(inp, out)


def make_design(model_path, project_dir, fw_cfg: Mapping[str, Any], hls_cfg: Mapping[str, Any], rtl_dir,
                out_json) -> dict:
    """Trace the fine-tuned HGQ2 model, write ``hgq/rtl/`` and its da4ml estimate report."""
    from autopruner.firmware.da import TOP, estimate_report, write_rtl
    from autopruner.firmware.hls import load_input_formats

    formats = load_input_formats(project_dir)
    model = load_hgq_model(model_path)
    t0 = time.perf_counter()
    comb = trace(model, formats, fw_cfg["da"])
    trace_s = time.perf_counter() - t0
    part, clock_ns = hls_cfg["part"], float(hls_cfg["clock_period_ns"])
    metadata = write_rtl(comb, rtl_dir, fw_cfg["da"], part, clock_ns)
    report = {
        **estimate_report(metadata, clock_ns, part),
        "implementation": DA_IMPLEMENTATION,
        "quantization": f"HGQ2 {hgq2_version()} quantization-aware fine-tuning",
        "input_bits": int(sum(f.total_bits for f in formats)),
        "top": TOP,
        "trace_s": trace_s,
    }
    write_json(out_json, report)
    return report


def bit_exact_check(comb, reference: np.ndarray, U: np.ndarray) -> dict:
    """da4ml's interpreter vs the HGQ2 model's predictions on the same inputs."""
    from autopruner.firmware.da import bit_exact_report

    return bit_exact_report(comb, U, reference, f"HGQ2 {hgq2_version()} model predictions (Keras, float64)")


def verify_design(model_path, rtl_dir, project_dir, dataset_path, cfg: Mapping[str, Any], out_json) -> dict:
    """Bit-exact check of the HGQ2 design against the HGQ2 model on the emulated test candidates, and its AUC and
    rejection beside the float network's (the same candidates and float reference as the post-training rows)."""
    from autopruner.firmware.da import interpret, load_design
    from autopruner.firmware.hls import (
        EMULATION_STREAM,
        compare_scores,
        emulation_candidates,
        load_input_formats,
        load_project,
    )
    from autopruner.firmware.inputs import to_firmware_units

    formats = load_input_formats(project_dir)
    folded, _, _ = load_project(project_dir)
    X, y, w = emulation_candidates(dataset_path, cfg)
    U = quantize_inputs(X, formats)
    comb = load_design(rtl_dir)
    reference = predict_logits(load_hgq_model(model_path), U)
    check = bit_exact_check(comb, reference, U)
    logits = interpret(comb, U).ravel()  # the design's own outputs are what the firmware would compute
    float_scores = np.asarray(folded.predict(to_firmware_units(X, formats).astype(np.float32), batch_size=8192,
                                             verbose=0)).ravel()
    scores = 0.5 * (1.0 + np.tanh(0.5 * logits))
    result = {
        "implementation": DA_IMPLEMENTATION,
        "score": "sigmoid of the design's exact logit output, in float64",
        "n_candidates": int(len(y)),
        **compare_scores(float_scores, scores, y, w, cfg, EMULATION_STREAM),
        "bit_exact_check": check,
    }
    write_json(out_json, result)
    return result

