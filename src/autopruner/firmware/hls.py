"""hls4ml firmware projects of the taggers, and their bit-accurate fixed-point emulation.

The firmware reads quantized, scaled features (`autopruner.firmware.inputs`): feature j as u_j = x_j·2^−p_j in its
own fixed-point format sized from its training range. The model's Normalization is folded into the first Dense
(`autopruner.training.network`) and the power-of-two scales into its rows, so the first layer's weights are of the
order of the trained ones and take the default weight type; only its bias (which absorbs −μ/σ·W) gets the integer
bits it needs (`first_layer_precision`). hls4ml has one input type for all features, so the project's input type
is the union of the per-feature formats, and the candidates are quantized to their own formats before they enter it.
The project folder holds ``input_quantization.json``, the per-feature document of those formats.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from autopruner.evaluation import metrics, roc_plots
from autopruner.firmware.fixed import FixedNetwork, build_network
from autopruner.firmware.inputs import (
    InputFormat,
    formats_from_json,
    formats_to_json,
    input_formats,
    quantize_inputs,
    scale_first_layer,
    to_firmware_units,
    union_type,
)
from autopruner.io_utils import CorruptInputError, atomic_directory, require_file, write_json
from autopruner.plotting import hep_style, plt, save_pages
from autopruner.training.network import fold_model, to_keras
from autopruner.training.tagger import load_model

#: spawn key of the generator that picks the emulated candidates
EMULATION_STREAM = 6
FOLDED_MODEL = "folded.keras"
HLS_CONFIG = "hls_config.json"
INPUT_QUANTIZATION = "input_quantization.json"
_FIXED = re.compile(r"^(?:ap_)?fixed<\s*(\d+)\s*,\s*(-?\d+)\s*(?:,.*)?>$")


def parse_fixed(precision: str) -> tuple[int, int]:
    """(total bits W, integer bits I) of an ``ap_fixed<W,I,...>`` string."""
    match = _FIXED.match(precision.strip())
    if not match:
        raise ValueError(f"not a fixed-point type: {precision!r}")
    return int(match.group(1)), int(match.group(2))


def _int_bits_for(max_abs: float) -> int:
    """Signed integer bits (sign included) that hold ±max_abs."""
    return max(1, math.floor(math.log2(max_abs)) + 2) if max_abs > 0 else 1


def first_layer_precision(
    formats: list[InputFormat], kernel: np.ndarray, bias: np.ndarray, default: str
) -> dict[str, dict[str, str]]:
    """Fixed-point types of the input and of the folded, scaled first Dense.

    * input: the union of the per-feature formats (every feature's values are exact in it), rounding and saturation;
    * weights W·2^p/σ: the default type, with more integer bits only if a weight would not fit;
    * bias b − (μ/σ)·W: integer bits for max|b'|, the default fractional bits.
    """
    width, integer = parse_fixed(default)
    frac = width - integer
    w_int = max(integer, _int_bits_for(float(np.max(np.abs(kernel)))))
    b_int = max(integer, _int_bits_for(float(np.max(np.abs(bias)))))
    return {
        "input": {"result": union_type(formats)},
        "dense_0": {
            "weight": f"ap_fixed<{w_int + frac},{w_int}>",
            "bias": f"ap_fixed<{b_int + frac},{b_int}>",
        },
    }


def _deep_update(base: dict, override: dict) -> dict:
    """Recursive dict update (per-layer overrides win)."""
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_update(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def build_hls_config(
    keras_model,
    hls_cfg: dict[str, Any],
    first_layer: dict[str, dict[str, str]] | None,
    precision: str | None = None,
) -> dict:
    """hls4ml config at name granularity: the config's precision, reuse factor, strategy, then per-layer overrides."""
    import hls4ml

    precision = precision or hls_cfg["precision"]
    config = hls4ml.utils.config_from_keras_model(
        keras_model,
        granularity="name",
        backend=hls_cfg["backend"],
        default_precision=precision,
        default_reuse_factor=int(hls_cfg["reuse_factor"]),
    )
    config["Model"]["Strategy"] = hls_cfg["strategy"]
    layers = config["LayerName"]
    input_name = keras_model.layers[0].name
    for name, precisions in (first_layer or {}).items():
        target = input_name if name == "input" else name
        if target in layers:
            layers[target].setdefault("Precision", {}).update(precisions)
    for layer in layers.values():
        if "ReuseFactor" in layer:
            layer["ReuseFactor"] = int(hls_cfg["reuse_factor"])
    _deep_update(layers, hls_cfg.get("layer_overrides") or {})
    return config


def convert(keras_model, hls_config: dict, hls_cfg: dict[str, Any], output_dir: str | os.PathLike):
    """hls4ml ModelGraph of a Dense-only Keras model, written to ``output_dir``."""
    import hls4ml

    hls_model = hls4ml.converters.convert_from_keras_model(
        keras_model,
        output_dir=str(output_dir),
        project_name="myproject",
        backend=hls_cfg["backend"],
        part=hls_cfg["part"],
        clock_period=float(hls_cfg["clock_period_ns"]),
        io_type=hls_cfg["io_type"],
        hls_config=copy.deepcopy(hls_config),
    )
    hls_model.write()
    return hls_model


def feature_range(dataset_path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) of every feature on the training split (sets the firmware input formats)."""
    from autopruner.dataset.merge import load_split
    from autopruner.schema import FEATURE_NAMES

    X, _, _ = load_split(str(require_file(dataset_path)), "train", FEATURE_NAMES)
    return np.min(X, axis=0).astype(np.float64), np.max(X, axis=0).astype(np.float64)


def feature_names(n_features: int) -> list[str]:
    """The schema's feature names when the network reads all of them, else x0, x1... (hand-built test nets)."""
    from autopruner.schema import FEATURE_NAMES

    return list(FEATURE_NAMES) if n_features == len(FEATURE_NAMES) else [f"x{j}" for j in range(n_features)]


def normalization_stats(model) -> tuple[np.ndarray, np.ndarray]:
    """(μ, σ) of the model's Normalization layer; (0, 1) if it has none."""
    import keras

    for layer in model.layers:
        if type(layer).__name__ == "Normalization":
            mean = np.asarray(layer.mean, dtype=np.float64).ravel()
            std = np.maximum(
                np.sqrt(np.asarray(layer.variance, dtype=np.float64).ravel()), keras.config.epsilon()
            )
            return mean, std
    n_in = model.inputs[0].shape[-1]
    return np.zeros(n_in), np.ones(n_in)


def make_project(
    model, x_min: np.ndarray, x_max: np.ndarray, cfg: dict[str, Any], project_dir: str | os.PathLike
) -> dict:
    """Fold, scale, configure and write the hls4ml project of an in-memory tagger; step timings in seconds."""
    hls_cfg = cfg["hls4ml"]
    timings = {}
    t0 = time.perf_counter()
    mean, std = normalization_stats(model)
    formats = input_formats(
        feature_names(len(mean)), mean, std, x_min, x_max, int(cfg["firmware"]["input_frac_bits"])
    )
    stages = scale_first_layer(
        fold_model(model, closed_threshold=float(cfg["autopruner"]["closed_threshold"])), formats
    )
    folded = to_keras(stages)
    first = first_layer_precision(formats, stages[0].kernel, stages[0].bias, hls_cfg["precision"])
    hls_config = build_hls_config(folded, hls_cfg, first)
    timings["fold_s"] = time.perf_counter() - t0
    project = Path(project_dir)
    with atomic_directory(project) as tmp:
        t0 = time.perf_counter()
        convert(folded, hls_config, hls_cfg, tmp)
        timings["convert_write_s"] = time.perf_counter() - t0
        folded.save(tmp / FOLDED_MODEL)
        (tmp / HLS_CONFIG).write_text(
            json.dumps({"hls_config": hls_config, "hls4ml": hls_cfg}, indent=2) + "\n"
        )
        (tmp / INPUT_QUANTIZATION).write_text(json.dumps(formats_to_json(formats), indent=2) + "\n")
    return timings


def make_project_from_files(model_path, dataset_path, cfg: dict[str, Any], project_dir) -> dict:
    """``results/hls/{model}/project/`` from a saved tagger and the dataset (input ranges from the train split)."""
    Path(project_dir).parent.mkdir(parents=True, exist_ok=True)
    return make_project(load_model(model_path), *feature_range(dataset_path), cfg, project_dir)


def load_project(project_dir: str | os.PathLike):
    """(folded Keras model, hls4ml config, hls4ml section of the run config) saved in a project."""
    import keras

    project = Path(project_dir)
    try:
        folded = keras.saving.load_model(require_file(project / FOLDED_MODEL), compile=False)
        saved = json.loads(require_file(project / HLS_CONFIG).read_text())
    except (ValueError, OSError, json.JSONDecodeError) as exc:
        raise CorruptInputError(f"cannot read hls4ml project {project}: {exc}") from exc
    return folded, saved["hls_config"], saved["hls4ml"]


def load_input_formats(project_dir: str | os.PathLike) -> list[InputFormat]:
    """The per-feature input formats saved in a project."""
    path = require_file(Path(project_dir) / INPUT_QUANTIZATION)
    try:
        return formats_from_json(json.loads(path.read_text()))
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CorruptInputError(f"cannot read {path}: {exc}") from exc


def _layer_precision(hls_config: dict, layer: str, key: str) -> str:
    """A layer's precision entry, 'auto' resolved to the model default (as hls4ml does for these layers)."""
    default = hls_config["Model"]["Precision"]["default"]
    value = hls_config.get("LayerName", {}).get(layer, {}).get("Precision", {}).get(key, "auto")
    return default if value == "auto" else value


def fixed_network(project_dir: str | os.PathLike) -> FixedNetwork:
    """The project's network in the fixed-point model of `autopruner.firmware.fixed` (the DA implementation's
    input): its input formats, quantized weights and biases, ReLU output types."""
    folded, hls_config, _ = load_project(project_dir)
    stages = fold_model(folded)
    n = len(stages)
    return build_network(
        stages,
        load_input_formats(project_dir),
        [_layer_precision(hls_config, f"dense_{k}", "weight") for k in range(n)],
        [_layer_precision(hls_config, f"dense_{k}", "bias") for k in range(n)],
        [_layer_precision(hls_config, f"dense_{k}_relu", "result") for k in range(n)],
    )


def compile_and_predict(
    folded, hls_config: dict, hls_cfg: dict, X: np.ndarray, workdir: Path, precision: str | None = None
) -> tuple[np.ndarray, dict]:
    """Convert (optionally at another default precision), compile with g++ and run the bit-accurate emulation."""
    config = copy.deepcopy(hls_config)
    if precision is not None:
        config["Model"]["Precision"]["default"] = precision
    timings = {}
    t0 = time.perf_counter()
    hls_model = convert(folded, config, hls_cfg, workdir)
    timings["convert_write_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    hls_model.compile()
    timings["compile_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    scores = np.asarray(hls_model.predict(np.ascontiguousarray(X, dtype=np.float64))).ravel()
    timings["predict_s"] = time.perf_counter() - t0
    return scores, timings


def emulation_subset(n: int, max_candidates: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of at most ``max_candidates`` candidates drawn without replacement."""
    if n <= max_candidates:
        return np.arange(n)
    return np.sort(rng.choice(n, size=max_candidates, replace=False))


def compare_scores(
    float_scores, fixed_scores, labels, weights, cfg: dict[str, Any], rng_seed_key: int
) -> dict:
    """AUC and rejection at ε_S = 50 % for float and fixed point (paired bootstrap σ), and the score differences."""
    from autopruner.evaluation.roc_plots import REFERENCE_EFF

    replicas = int(cfg["evaluation"]["bootstrap_replicas"])
    out = {}
    for name, scores in (("float", float_scores), ("fixed", fixed_scores)):
        rng = np.random.default_rng(np.random.SeedSequence(int(cfg["seed"]), spawn_key=(rng_seed_key,)))
        boot = metrics.bootstrap_roc(scores, labels, weights, [REFERENCE_EFF], replicas, rng)
        out[name] = {
            "auc": boot.auc,
            "auc_err": boot.auc_std,
            "rejection_50": float(boot.rejection[0]),
            "rejection_50_err": float(boot.rejection_std()[0]),
        }
    delta = np.abs(np.asarray(fixed_scores, dtype=np.float64) - np.asarray(float_scores, dtype=np.float64))
    out["auc_loss"] = out["float"]["auc"] - out["fixed"]["auc"]
    out["max_abs_delta_score"] = float(delta.max())
    out["mean_abs_delta_score"] = float(delta.mean())
    return out


def emulation_candidates(dataset_path, cfg: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, w) of the test candidates every firmware emulation runs on (at most ``emulation_max_candidates``)."""
    from autopruner.evaluation.scoring import load_test_split

    X, y, w = load_test_split(dataset_path)
    rng = np.random.default_rng(np.random.SeedSequence(int(cfg["seed"]), spawn_key=(EMULATION_STREAM,)))
    keep = emulation_subset(len(y), int(cfg["hls4ml"]["emulation_max_candidates"]), rng)
    return X[keep], y[keep], w[keep]


def emulate(project_dir, dataset_path, cfg: dict[str, Any], out_json, out_pdf) -> dict:
    """Bit-accurate emulation on the test split: ``emulation.json`` and a float-vs-firmware ROC page."""
    folded, hls_config, _ = load_project(project_dir)
    formats = load_input_formats(project_dir)
    X, y, w = emulation_candidates(dataset_path, cfg)
    result = emulate_arrays(folded, hls_config, cfg, X, y, w, Path(out_json).parent, out_pdf, formats)
    write_json(out_json, result)
    return result


def _predict_float(folded, U: np.ndarray) -> np.ndarray:
    """Scores of the float (Keras) folded network."""
    return np.asarray(folded.predict(np.asarray(U, np.float32), batch_size=8192, verbose=0)).ravel()


def input_quantization_cost(float_scores, quantized_scores, y, w, cfg, formats) -> dict:
    """What quantizing the inputs alone costs: the float network on exact vs on quantized inputs."""
    numbers = compare_scores(float_scores, quantized_scores, y, w, cfg, EMULATION_STREAM)
    return {
        "auc_float_inputs": numbers["float"]["auc"],
        "auc_quantized_inputs": numbers["fixed"]["auc"],
        "auc_cost": numbers["auc_loss"],
        "rejection_50_float_inputs": numbers["float"]["rejection_50"],
        "rejection_50_quantized_inputs": numbers["fixed"]["rejection_50"],
        "max_abs_delta_score": numbers["max_abs_delta_score"],
        "total_input_bits": int(sum(f.total_bits for f in formats)),
        "frac_bits": sorted({f.frac_bits for f in formats}),
        "formats": "project/input_quantization.json",
    }


def emulate_arrays(folded, hls_config, cfg, X, y, w, workspace: Path, out_pdf=None, formats=None) -> dict:
    """Emulation of in-memory data: comparison numbers, timings, optional precision scan and ROC page.

    With ``formats`` the raw features X are scaled and quantized to the firmware's input formats first, and the cost
    of that quantization alone is measured with the float network; without, X is taken as the firmware's input."""
    hls_cfg = cfg["hls4ml"]
    workspace.mkdir(parents=True, exist_ok=True)
    U_exact = X if formats is None else to_firmware_units(X, formats)
    U = X if formats is None else quantize_inputs(X, formats)
    float_scores = _predict_float(folded, U_exact)
    with tempfile.TemporaryDirectory(prefix=".emulation.", dir=workspace) as build:
        fixed_scores, timings = compile_and_predict(folded, hls_config, hls_cfg, U, Path(build) / "default")
        scan = []
        scan_cfg = hls_cfg.get("precision_scan") or {}
        if scan_cfg.get("enabled"):
            for bits in scan_cfg["total_bits"]:
                precision = f"ap_fixed<{int(bits)},{int(scan_cfg['integer_bits'])}>"
                scores, t = compile_and_predict(
                    folded, hls_config, hls_cfg, U, Path(build) / f"w{bits}", precision
                )
                entry = compare_scores(float_scores, scores, y, w, cfg, EMULATION_STREAM)
                scan.append(
                    {"precision": precision, "total_bits": int(bits), **entry, "compile_s": t["compile_s"]}
                )
    result = {
        "precision": hls_cfg["precision"],
        "n_candidates": int(len(y)),
        **compare_scores(float_scores, fixed_scores, y, w, cfg, EMULATION_STREAM),
        "timings_s": timings,
    }
    if formats is not None:
        quantized_scores = _predict_float(folded, U)
        result["input_quantization"] = input_quantization_cost(float_scores, quantized_scores, y, w, cfg, formats)
    if scan:
        result["precision_scan"] = scan
    if out_pdf is not None:
        write_emulation_pdf(float_scores, fixed_scores, y, w, cfg, scan, out_pdf)
    return result


def write_emulation_pdf(float_scores, fixed_scores, y, w, cfg, scan: list[dict], out_pdf) -> None:
    """Float vs firmware ROC (Fig. 3 style) and, with a precision scan, AUC and rejection against total bits."""
    with hep_style():
        curves = [roc_plots.curve_from_scores(s, y, w, cfg) for s in (float_scores, fixed_scores)]
        fig, ax, rax = roc_plots.new_rejection_page(f"firmware emulation, {cfg['hls4ml']['precision']}")
        roc_plots.draw_rejection(ax, rax, curves[0], curves[0], "black", "Keras (float)")
        roc_plots.draw_rejection(ax, rax, curves[1], curves[0], "tab:red", "hls4ml (fixed point)", "--")
        rax.set_ylabel("Fixed / float")
        roc_plots.finish_rejection_page(fig, ax, rax)
        figures = [fig]
        if scan:
            fig2, (a1, a2) = plt.subplots(2, 1, figsize=(8, 8), sharex=True)
            bits = [s["total_bits"] for s in scan]
            a1.errorbar(
                bits,
                [s["fixed"]["auc"] for s in scan],
                yerr=[s["fixed"]["auc_err"] for s in scan],
                fmt="o-",
                color="tab:red",
                label="fixed point",
            )
            a1.axhline(scan[0]["float"]["auc"], color="black", ls="--", label="float")
            a1.set_ylabel("AUC")
            a1.legend(frameon=False)
            a2.errorbar(
                bits,
                [s["fixed"]["rejection_50"] for s in scan],
                yerr=[s["fixed"]["rejection_50_err"] for s in scan],
                fmt="o-",
                color="tab:red",
            )
            a2.axhline(scan[0]["float"]["rejection_50"], color="black", ls="--")
            a2.set_ylabel(r"$1/\varepsilon_B$ at $\varepsilon_S=50\,\%$")
            a2.set_xlabel(f"total bits W of ap_fixed<W,{cfg['hls4ml']['precision_scan']['integer_bits']}>")
            figures.append(fig2)
        save_pages(figures, out_pdf)
