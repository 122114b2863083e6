"""FPGA resources and latency of a firmware project: vendor C synthesis where available, else an estimate.

Estimate (``"source": "estimate"``), per Dense layer of the folded network, after quantizing the weights to the layer's
weight type exactly as the firmware does (truncation: w_q = ⌊w·2^F⌋·2^−F):

* products: the non-zero quantized weights between live nodes. A product by a constant whose odd mantissa (|w_q·2^F|
  with trailing zero bits removed) has more than ``DSP_MANTISSA_BITS`` bits is bound to a DSP; shorter constants become
  shift-and-add logic in LUTs (HLS does this for cheap constants). A product wider than the DSP48E2's 27x18 multiplier
  (the raw-feature first layer) is tiled over several slices (`dsp_slices`). With reuse factor R one slice serves R
  products: DSP = Σ_layers ⌈N_slices/R⌉.
* LUT = λ_node·nodes + λ_mult·⌈N_products/R⌉, FF = φ_node·nodes + φ_mult·⌈N_products/R⌉ (nodes: non-input live nodes;
  they carry bias adders, activations, output registers; products carry the multipliers and adder trees). λ and φ solve
  the two published builds of the hls4ml tutorial model exactly (`CALIBRATION`); the DSP threshold of 7 mantissa bits
  reproduces their DSP counts within 15 % for tutorial-like weights (tests/test_hls.py).
* latency: Σ_layers [1 (multiply) + ⌈d/A⌉ + (R − 1)] + activation cycles, d = ⌈log2(n + 1)⌉ the adder-tree depth of the
  widest output column (n non-zero products plus the bias), A = 4 additions chained per 5 ns clock; ReLU 0 cycles,
  sigmoid/tanh table 1, softmax 2. Tutorial: 14 cycles dense, 12 at 75 % sparsity, as published. The interval is R (the
  Latency strategy pipelines the whole network).
* BRAM_18K: one per sigmoid/tanh lookup table (1024 × 18 bits), 8 per softmax (as in the tutorial build).
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from autopruner.firmware.hls import convert, load_project, parse_fixed
from autopruner.io_utils import CorruptInputError, require_file, write_json
from autopruner.training.network import DenseStage, fold_model, live_nodes

REPORT_KEYS = (
    "latency_cycles_min",
    "latency_cycles_max",
    "latency_ns",
    "interval",
    "DSP",
    "LUT",
    "FF",
    "BRAM_18K",
    "part",
    "clock_ns",
    "source",
    "method",
)
VENDOR_TOOLS = ("vitis_hls", "vitis-run", "vivado_hls")

# published C-synthesis of the hls4ml tutorial 16-64-32-32-5 model, ap_fixed<16,6>, RF 1, 5 ns (hls-reference.md)
CALIBRATION = {
    "dense": {"products": 4256, "nodes": 133, "DSP": 1502, "LUT": 101839, "FF": 9363, "latency_cycles": 14},
    "sparse75": {"products": 1064, "nodes": 133, "DSP": 834, "LUT": 33849, "FF": 5196, "latency_cycles": 12},
}
DSP_MANTISSA_BITS = 7
DSP48_PORTS = (27, 18)  # signed multiplier operand widths of an UltraScale+ DSP48E2 slice
ADDS_PER_CYCLE = 4
ACTIVATION_CYCLES = {"linear": 0, "relu": 0, "sigmoid": 1, "tanh": 1, "softmax": 2}
ACTIVATION_BRAM_18K = {"sigmoid": 1, "tanh": 1, "softmax": 8}


def _linear_calibration(resource: str) -> tuple[float, float]:
    """(per node, per product) coefficients solving both published builds for ``resource``."""
    a, b = CALIBRATION["dense"], CALIBRATION["sparse75"]
    per_product = (a[resource] - b[resource]) / (a["products"] - b["products"])
    per_node = (b[resource] - per_product * b["products"]) / b["nodes"]
    return per_node, per_product


def quantize_truncate(values: np.ndarray, precision: str) -> np.ndarray:
    """Integer mantissas ⌊v·2^F⌋ of ``values`` in ``ap_fixed<W,I>`` (AP_TRN, saturated to the range)."""
    width, integer = parse_fixed(precision)
    frac = width - integer
    mantissa = np.floor(np.asarray(values, dtype=np.float64) * 2.0**frac)
    return np.clip(mantissa, -(2.0 ** (width - 1)), 2.0 ** (width - 1) - 1).astype(np.int64)


def odd_mantissa_bits(mantissa: np.ndarray) -> np.ndarray:
    """Bits of |m| once its trailing zero bits are removed (0 for m = 0): the cost of a constant multiplier."""
    m = np.abs(np.asarray(mantissa, dtype=np.int64))
    lowest_set = m & -m
    odd = np.where(m > 0, m // np.where(lowest_set > 0, lowest_set, 1), 0)
    bits = np.zeros(m.shape, dtype=np.int64)
    nz = odd > 0
    bits[nz] = np.floor(np.log2(odd[nz])).astype(np.int64) + 1
    return bits


def dsp_slices(input_bits: int, constant_bits: np.ndarray) -> np.ndarray:
    """DSP48E2 slices per product of an ``input_bits`` input by constants of ``constant_bits`` (sign included).

    One slice when the operands fit the 27x18 multiplier either way round; wider products are tiled over ⌈a/27⌉·⌈b/18⌉
    slices (the cheaper orientation), as for the raw-feature first layer's ~26-bit weights.
    """
    wide, narrow = DSP48_PORTS
    b = np.asarray(constant_bits, dtype=np.int64)
    as_wide = -(-input_bits // wide) * -(-b // narrow)
    as_narrow = -(-input_bits // narrow) * -(-b // wide)
    return np.minimum(as_wide, as_narrow)


def layer_input_widths(hls_config: dict, n_layers: int) -> list[int]:
    """Bit width of every dense_i's input: the firmware input type for dense_0, the model default after that."""
    default_bits = parse_fixed(hls_config["Model"]["Precision"]["default"])[0]
    layers = hls_config.get("LayerName", {})
    inputs = [v for k, v in layers.items() if not k.startswith("dense_")]
    first = inputs[0].get("Precision", {}).get("result", "auto") if inputs else "auto"
    first_bits = default_bits if first == "auto" else parse_fixed(first)[0]
    return [first_bits] + [default_bits] * (n_layers - 1)


def layer_weight_precisions(hls_config: dict, n_layers: int) -> list[str]:
    """Weight type of every dense_i in an hls4ml config ('auto' falls back to the model default)."""
    default = hls_config["Model"]["Precision"]["default"]
    out = []
    for i in range(n_layers):
        prec = (
            hls_config.get("LayerName", {}).get(f"dense_{i}", {}).get("Precision", {}).get("weight", "auto")
        )
        out.append(default if prec == "auto" else prec)
    return out


def estimate(
    stages: list[DenseStage],
    weight_precisions: list[str],
    reuse_factor: int,
    clock_ns: float,
    part: str,
    input_widths: list[int] | None = None,
) -> dict:
    """Resources and latency of the folded network from its quantized weights (formula in the module docstring).
    ``input_widths``: bits of each layer's input (default: its weight width)."""
    live = live_nodes(stages)
    dsp = products_total = latency = bram = 0
    per_layer = []
    for k, (stage, precision) in enumerate(zip(stages, weight_precisions, strict=True)):
        mantissa = quantize_truncate(stage.kernel, precision)
        mantissa = np.where(live[k][:, None] & live[k + 1][None, :], mantissa, 0)
        nonzero = mantissa != 0
        n_products = int(nonzero.sum())
        constant_bits = odd_mantissa_bits(mantissa)
        on_dsp = constant_bits > DSP_MANTISSA_BITS
        n_dsp = int(on_dsp.sum())
        input_bits = input_widths[k] if input_widths is not None else parse_fixed(precision)[0]
        n_slices = int(dsp_slices(input_bits, constant_bits[on_dsp] + 1).sum())
        widest = int(nonzero.sum(axis=0).max()) if n_products else 0
        depth = math.ceil(math.log2(widest + 1)) if widest else 0
        cycles = (
            1 + math.ceil(depth / ADDS_PER_CYCLE) + (reuse_factor - 1) + ACTIVATION_CYCLES[stage.activation]
        )
        layer_dsp = math.ceil(n_slices / reuse_factor)
        dsp += layer_dsp
        products_total += math.ceil(n_products / reuse_factor)
        latency += cycles
        bram += ACTIVATION_BRAM_18K.get(stage.activation, 0)
        per_layer.append(
            {
                "layer": f"dense_{k}",
                "weight_precision": precision,
                "products": n_products,
                "products_dsp": n_dsp,
                "input_bits": input_bits,
                "DSP": layer_dsp,
                "adder_depth": depth,
                "cycles": cycles,
            }
        )
    nodes = int(sum(mask.sum() for mask in live[1:]))
    lut_node, lut_product = _linear_calibration("LUT")
    ff_node, ff_product = _linear_calibration("FF")
    return {
        "latency_cycles_min": latency,
        "latency_cycles_max": latency,
        "latency_ns": latency * clock_ns,
        "interval": reuse_factor,
        "DSP": dsp,
        "LUT": round(lut_node * nodes + lut_product * products_total),
        "FF": round(ff_node * nodes + ff_product * products_total),
        "BRAM_18K": bram,
        "part": part,
        "clock_ns": clock_ns,
        "source": "estimate",
        "method": (
            f"estimate from the quantized weights: products with >{DSP_MANTISSA_BITS}-bit constants on DSP48E2 "
            "slices (27x18, wider products tiled), "
            "LUT/FF linear in nodes and products calibrated on the hls4ml tutorial builds "
            "(Vitis HLS 2024.1, 16-64-32-32-5), adder-tree latency; not a synthesis result"
        ),
        "layers": per_layer,
    }


def vendor_tool(hls_cfg: dict[str, Any]) -> str | None:
    """The vendor HLS tool the config asks for (``hls4ml.vendor_tool``), or None for the estimate.

    The choice is the config's, never whatever happens to be on a node's PATH, so a batch job gives the same kind of
    report on every node. A requested tool that is not installed stops the job with a message naming it.
    """
    tool = hls_cfg.get("vendor_tool", "none")
    if tool == "none":
        return None
    if tool not in VENDOR_TOOLS:
        raise ValueError(f"hls4ml.vendor_tool must be none or one of {VENDOR_TOOLS}, got {tool!r}")
    if shutil.which(tool) is None:
        raise FileNotFoundError(f"hls4ml.vendor_tool is {tool!r}, but {tool} is not on PATH; install it or set none")
    return tool


def _number(value) -> float | None:
    """A report number ('1502', 'N/A'...) as float, or None."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def report_from_csynth(parsed: dict, part: str, clock_ns: float, source: str) -> dict:
    """Our report keys from ``hls4ml.report.parse_vivado_report``'s dict (C synthesis section)."""
    csynth = parsed.get("CSynthesisReport")
    if not csynth:
        raise CorruptInputError("the HLS report holds no C-synthesis section")
    cycles_min = _number(csynth.get("BestLatency"))
    cycles_max = _number(csynth.get("WorstLatency"))
    estimated_clock = _number(csynth.get("EstimatedClockPeriod")) or clock_ns
    dsp = _number(csynth.get("DSP", csynth.get("DSP48E")))
    return {
        "latency_cycles_min": None if cycles_min is None else int(cycles_min),
        "latency_cycles_max": None if cycles_max is None else int(cycles_max),
        "latency_ns": None
        if cycles_max is None
        else cycles_max * float(_number(csynth.get("TargetClockPeriod")) or clock_ns),
        "interval": None
        if _number(csynth.get("IntervalMax")) is None
        else int(_number(csynth["IntervalMax"])),
        "DSP": None if dsp is None else int(dsp),
        "LUT": None if _number(csynth.get("LUT")) is None else int(_number(csynth["LUT"])),
        "FF": None if _number(csynth.get("FF")) is None else int(_number(csynth["FF"])),
        "BRAM_18K": None if _number(csynth.get("BRAM_18K")) is None else int(_number(csynth["BRAM_18K"])),
        "part": part,
        "clock_ns": clock_ns,
        "estimated_clock_ns": estimated_clock,
        "source": source,
        "method": "HLS C synthesis (csynth report), resources are HLS estimates before place and route",
    }


def parse_project_report(project_dir: str | os.PathLike, part: str, clock_ns: float, source: str) -> dict:
    """Read ``<project>/myproject_prj/solution1/syn/report/*.xml`` with hls4ml's report parser."""
    from hls4ml.report import parse_vivado_report

    project = Path(project_dir)
    if not any((project / "myproject_prj").glob("solution1/syn/report/*.xml")):
        raise FileNotFoundError(f"no C-synthesis report under {project}/myproject_prj/solution1/syn/report")
    return report_from_csynth(parse_vivado_report(str(project)), part, clock_ns, source)


def _tool_version(tool: str) -> str:
    """'vitis_hls 2023.2'-style source tag."""
    import subprocess

    try:
        text = subprocess.run([tool, "-version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return tool
    for token in text.split():
        if token.startswith("v20") or token.startswith("20"):
            return f"{tool} {token.lstrip('v').split('_')[0]}"
    return tool


def synthesize(project_dir: str | os.PathLike, cfg: dict[str, Any], build_dir: str | os.PathLike) -> dict:
    """Vendor C synthesis in ``build_dir`` with the configured HLS tool, else the estimate; our report dict."""
    require_file(Path(project_dir) / "hls_config.json")
    folded, hls_config, _ = load_project(project_dir)
    hls_cfg = cfg["hls4ml"]
    part, clock_ns = hls_cfg["part"], float(hls_cfg["clock_period_ns"])
    tool = vendor_tool(hls_cfg)
    if tool is not None:
        hls_model = convert(folded, hls_config, hls_cfg, build_dir)
        hls_model.build(csim=False, synth=True)
        return parse_project_report(build_dir, part, clock_ns, _tool_version(tool))
    stages = fold_model(folded)
    n_layers = len(stages)
    return estimate(
        stages,
        layer_weight_precisions(hls_config, n_layers),
        int(hls_cfg["reuse_factor"]),
        clock_ns,
        part,
        input_widths=layer_input_widths(hls_config, n_layers),
    )


def write_synthesis_report(project_dir: str | os.PathLike, cfg: dict[str, Any], out_json: str | os.PathLike) -> dict:
    """Synthesize (or estimate) one project and write ``synthesis_report.json`` with the wall time it took.

    A vendor tool's build goes to a scratch folder beside the report that is removed afterwards, so the rule leaves
    nothing undeclared on disk.
    """
    start = time.perf_counter()
    out = Path(out_json)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".synth_build.", dir=out.parent) as build_dir:
        report = synthesize(project_dir, cfg, build_dir)
    report["wall_s"] = time.perf_counter() - start
    write_json(out, report)
    return report
