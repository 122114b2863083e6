"""Distributed-arithmetic firmware with da4ml: trace, pipelined Verilog, bit-exact check.

da4ml (Sun et al., TRETS 2025) turns every constant matrix–vector product into an adder graph, so the design uses
LUTs and carry chains and no DSPs. The traced computation is the fixed-point network of `autopruner.firmware.fixed`
(the hls4ml project's types, exact sums, logit output). da4ml reports its own estimate: ``cost`` (adder bits, its
LUT estimate), the register bits of the pipeline and the number of pipeline stages at the configured delay per
stage. Its C++ interpreter (``CombLogic.predict``) executes the traced design bit-exactly; the check here compares it
with the int64 emulation. Verilator is not used: it is not installed on this project's machines.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from autopruner.firmware.fixed import FixedNetwork, emulate
from autopruner.io_utils import CorruptInputError, atomic_directory, require_file, write_json

#: name of the top Verilog module of every design
TOP = "autopruner_net"


def da4ml_version() -> str:
    """Installed da4ml version."""
    from importlib.metadata import version

    return version("da4ml")


def solver_options(da_cfg: Mapping[str, Any] | None) -> dict[str, Any]:
    """da4ml's constant-matrix solver options from the ``firmware.da`` config (da4ml's defaults where absent).

    ``search_all_decompose_dc`` makes da4ml try every delay constraint when it decomposes a matrix. Off, it takes one:
    on this project's 39-64-64-64-64-1 baseline that traces 3.3x faster (10.8 s against 35.7 s) and gives a design
    1.2 % smaller (386 047 against 390 738 adder bits) in 11 pipeline stages instead of 15; on the tiny config's
    baseline 0.08 % larger.
    """
    if not da_cfg or "search_all_decompose_dc" not in da_cfg:
        return {}
    return {"search_all_decompose_dc": bool(da_cfg["search_all_decompose_dc"])}


def trace(network: FixedNetwork, da_cfg: dict[str, Any] | None = None):
    """da4ml ``CombLogic`` of the fixed-point network (inputs quantized to each feature's format); ``da_cfg`` is the
    ``firmware.da`` config, whose solver options (`solver_options`) it applies."""
    from da4ml.trace import FixedVariableArrayInput, comb_trace

    inp = FixedVariableArrayInput(len(network.inputs), solver_options=solver_options(da_cfg))
    k = np.array([int(f.signed) for f in network.inputs])
    i = np.array([f.integer_bits for f in network.inputs])
    f = np.array([fmt.frac_bits for fmt in network.inputs])
    x = inp.quantize(k, i, f)
    for layer in network.layers:
        weight = layer.weight.astype(np.float64) * 2.0**-layer.weight_frac
        bias = layer.bias.astype(np.float64) * 2.0**-layer.bias_frac
        z = x @ weight + bias
        if layer.activation == "linear":
            x = z
            continue
        r = layer.result
        x = z.relu().quantize(int(r.signed), r.integer_bits, r.frac_bits, r.overflow, r.rounding)
    return comb_trace(inp, x)


def interpret(comb, U: np.ndarray) -> np.ndarray:
    """Outputs of da4ml's bit-exact C++ interpreter on quantized inputs u (one thread)."""
    return np.asarray(comb.predict(np.ascontiguousarray(U, dtype=np.float64), n_threads=1), dtype=np.float64)


def bit_exact_report(comb, U: np.ndarray, reference: np.ndarray, reference_label: str) -> dict:
    """da4ml's interpreter vs a reference (one row, or one value, per candidate) on the same inputs: how many
    candidates agree bit for bit, and against what."""
    t0 = time.perf_counter()
    design = interpret(comb, U).reshape(reference.shape)
    equal = design == reference
    if equal.ndim > 1:
        equal = np.all(equal, axis=tuple(range(1, equal.ndim)))
    return {
        "checked_with": f"da4ml {da4ml_version()} C++ interpreter (CombLogic.predict); Verilator not used",
        "reference": reference_label,
        "n_candidates": int(len(equal)),
        "n_bit_exact": int(equal.sum()),
        "bit_exact": bool(equal.all()),
        "max_abs_difference": float(np.max(np.abs(design - reference))) if len(equal) else 0.0,
        "check_s": time.perf_counter() - t0,
    }


def bit_exact_check(network: FixedNetwork, comb, U: np.ndarray) -> dict:
    """Interpreter vs int64 emulation on the same inputs: how many candidates agree bit for bit."""
    reference = emulate(network, U)
    return bit_exact_report(comb, U, reference, "int64 fixed-point emulation (autopruner.firmware.fixed.emulate)")


def write_rtl(comb, rtl_dir: str | os.PathLike, da_cfg: dict[str, Any], part: str, clock_ns: float) -> dict:
    """Pipelined Verilog project of the design in ``rtl_dir`` (written aside, then moved); da4ml's metadata."""
    from da4ml.codegen import VerilogModel

    target = Path(rtl_dir)
    with atomic_directory(target) as tmp:
        model = VerilogModel(
            comb, TOP, tmp, latency_cutoff=float(da_cfg["latency_cutoff"]), part_name=part, clock_period=clock_ns,
            print_latency=False,
        )
        model.write()
    return read_metadata(target)


def require_bit_exact(result: dict, mismatch: str) -> None:
    """Raise RuntimeError (`mismatch`, then the check's numbers) unless every candidate of a verification result's
    ``bit_exact_check`` agreed bit for bit: a firmware design that computes something else must not be reported."""
    check = result["bit_exact_check"]
    if not check["bit_exact"]:
        raise RuntimeError(f"{mismatch}: {check}")


def read_metadata(rtl_dir: str | os.PathLike) -> dict:
    """da4ml's ``metadata.json`` of a written project."""
    path = require_file(Path(rtl_dir) / "metadata.json")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise CorruptInputError(f"cannot parse {path}: {exc}") from exc


def load_design(rtl_dir: str | os.PathLike):
    """The traced ``CombLogic`` saved in a project (``model/comb.json``)."""
    from da4ml.types import CombLogic

    return CombLogic.load(require_file(Path(rtl_dir) / "model" / "comb.json"))


def estimate_report(metadata: dict, clock_ns: float, part: str) -> dict:
    """The DA design's resources and latency as da4ml estimates them, labelled as an estimate."""
    stages = int(metadata["latency"])
    return {
        "implementation": "da4ml",
        "source": f"da4ml {da4ml_version()} estimate",
        "method": (
            "da4ml cost (adder bits, its LUT estimate) and pipeline register bits (FF) of the traced design; "
            "distributed arithmetic uses no DSP; latency = pipeline stages x clock; not a synthesis result"
        ),
        "LUT": round(float(metadata["cost"])),
        "FF": int(metadata["reg_bits"]),
        "DSP": 0,
        "CARRY": None,
        "latency_cycles": stages,
        "latency_ns": stages * clock_ns,
        "interval": 1,
        "part": part,
        "clock_ns": clock_ns,
        "latency_cutoff": metadata.get("latency_cutoff"),
    }


def make_design(project_dir, fw_cfg: dict[str, Any], hls_cfg: dict[str, Any], rtl_dir, out_json) -> dict:
    """Trace the project's fixed-point network, write ``rtl/`` and the da4ml estimate report (``da_report.json``)."""
    from autopruner.firmware.hls import fixed_network

    network = fixed_network(project_dir)
    t0 = time.perf_counter()
    comb = trace(network, fw_cfg["da"])
    trace_s = time.perf_counter() - t0
    part, clock_ns = hls_cfg["part"], float(hls_cfg["clock_period_ns"])
    metadata = write_rtl(comb, rtl_dir, fw_cfg["da"], part, clock_ns)
    report = {
        **estimate_report(metadata, clock_ns, part),
        "input_bits": int(sum(f.total_bits for f in network.inputs)),
        "top": TOP,
        "trace_s": trace_s,
    }
    write_json(out_json, report)
    return report


def verify_design(rtl_dir, project_dir, dataset_path, cfg: dict[str, Any], out_json) -> dict:
    """Bit-exact check of the DA design against the int64 emulation on the emulated test candidates, and the
    design's AUC and rejection (its logit as the score) beside the float network's (``da_emulation.json``)."""
    from autopruner.firmware.hls import (
        EMULATION_STREAM,
        compare_scores,
        emulation_candidates,
        fixed_network,
        load_project,
    )
    from autopruner.firmware.inputs import quantize_inputs, to_firmware_units

    network = fixed_network(project_dir)
    folded, _, _ = load_project(project_dir)
    X, y, w = emulation_candidates(dataset_path, cfg)
    U = quantize_inputs(X, network.inputs)
    comb = load_design(rtl_dir)
    check = bit_exact_check(network, comb, U)
    logits = interpret(comb, U).ravel()
    float_scores = np.asarray(folded.predict(to_firmware_units(X, network.inputs).astype(np.float32),
                                             batch_size=8192, verbose=0)).ravel()
    scores = 0.5 * (1.0 + np.tanh(0.5 * logits))  # the score of the exact logit (no lookup table)
    result = {
        "implementation": "da4ml",
        "score": "sigmoid of the design's exact logit output, in float64",
        "n_candidates": int(len(y)),
        **compare_scores(float_scores, scores, y, w, cfg, EMULATION_STREAM),
        "bit_exact_check": check,
    }
    write_json(out_json, result)
    return result
