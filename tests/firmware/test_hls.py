"""Firmware stage: normalization folding, hls4ml emulation, csynth report parsing and the resource
estimate."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from autopruner.firmware import synthesis
from autopruner.firmware.inputs import quantize_inputs
from autopruner.training.network import DenseStage, apply_chain, fold_model, nonzero_products, to_keras

keras = pytest.importorskip("keras")


def _tagger(rng: np.random.Generator, n_in: int = 6, hidden=(8, 5), gate: np.ndarray | None = None):
    """Normalization (adapted on raw features of very different scales) → Dense+ReLU (+ gate) → Dense(1,
    sigmoid)."""
    scales = np.geomspace(0.05, 500.0, n_in)
    offsets = np.linspace(-3.0, 3.0, n_in) * scales
    X = (rng.normal(size=(4000, n_in)) * scales + offsets).astype(np.float32)
    norm = keras.layers.Normalization()
    norm.adapt(X)
    inputs = keras.Input((n_in,))
    x = norm(inputs)
    for i, n in enumerate(hidden):
        x = keras.layers.Dense(n, activation="relu")(x)
        if gate is not None and i == 0:
            x = _Gate(gate)(x)
    outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            k, b = layer.get_weights()
            layer.set_weights(
                [rng.normal(0, 1.0 / np.sqrt(k.shape[0]), k.shape), rng.normal(0, 0.1, b.shape)]
            )
    return model, X


class _Gate(keras.layers.Layer):
    """A fixed per-node multiplicative gate, like the AutoPruner gate at inference."""

    def __init__(self, values, **kwargs):
        super().__init__(**kwargs)
        self.values = np.asarray(values, dtype=np.float32)

    def call(self, x, training=False):
        return x * self.values


def test_normalization_folding_is_exact():
    model, X = _tagger(np.random.default_rng(0))
    stages = fold_model(model)
    assert [s.activation for s in stages] == ["relu", "relu", "sigmoid"]
    expected = model.predict(X[:500], verbose=0).ravel()
    np.testing.assert_allclose(apply_chain(stages, X[:500]).ravel(), expected, atol=1e-5)
    folded = to_keras(stages)
    assert not any(type(layer).__name__ == "Normalization" for layer in folded.layers)
    np.testing.assert_allclose(folded.predict(X[:500], verbose=0).ravel(), expected, atol=1e-5)


def test_gates_fold_and_closed_nodes_vanish():
    gate = np.array([1.0, 0.0, 1.0, 0.0, 0.7, 1.0, 0.0, 1.0])
    model, X = _tagger(np.random.default_rng(1), gate=gate)
    stages = fold_model(model)
    np.testing.assert_allclose(
        apply_chain(stages, X[:200]).ravel(), model.predict(X[:200], verbose=0).ravel(), atol=1e-5
    )
    from autopruner.training.network import model_size

    assert model_size(stages)["nodes_per_layer"][0] == 5


@pytest.mark.timeout(60)
def test_emulation_agrees_with_keras_within_the_resolution(tmp_path):
    from autopruner.firmware import hls as firmware

    rng = np.random.default_rng(2)
    model, X = _tagger(rng)
    cfg = {
        "seed": 1,
        "autopruner": {"closed_threshold": 0.0},
        "evaluation": {"bootstrap_replicas": 5},
        "hls4ml": {
            "backend": "Vitis",
            "part": "xcvu13p-flga2577-2-e",
            "clock_period_ns": 5.0,
            "io_type": "io_parallel",
            "strategy": "Latency",
            "precision": "ap_fixed<16,6>",
            "reuse_factor": 1,
            "layer_overrides": {},
        },
        "firmware": {"input_frac_bits": 8},
    }
    firmware.make_project(model, X.min(axis=0), X.max(axis=0), cfg, tmp_path / "project")
    folded, hls_config, _ = firmware.load_project(tmp_path / "project")
    assert "AP_SAT" in hls_config["LayerName"]["features"]["Precision"]["result"]
    # the scaled first layer needs no wider weights than the default type
    assert hls_config["LayerName"]["dense_0"]["Precision"]["weight"] == "ap_fixed<16,6>"
    formats = firmware.load_input_formats(tmp_path / "project")
    x_test = X[:300]
    u_test = quantize_inputs(x_test, formats)
    reference = model.predict(x_test, verbose=0).ravel()
    fixed, timings = firmware.compile_and_predict(
        folded, hls_config, cfg["hls4ml"], u_test, tmp_path / "build"
    )
    # resolution: 2^-10 per stored value, the sigmoid table (1024 entries over [-8, 8], slope ≤ 1/4) adds
    # 1/256, the inputs' 2^-8 (in units of ~σ) add a few 2^-10
    tolerance = 12 * 2.0**-10 + 0.25 * 16 / 1024
    assert np.max(np.abs(fixed - reference)) < tolerance
    coarse, _ = firmware.compile_and_predict(
        folded, hls_config, cfg["hls4ml"], u_test, tmp_path / "b6", precision="ap_fixed<6,3>"
    )
    assert np.max(np.abs(coarse - reference)) > np.max(np.abs(fixed - reference))
    assert timings["compile_s"] > 0


CSYNTH_XML = """<?xml version="1.0" encoding="UTF-8"?>
<profile>
  <UserAssignments><TargetClockPeriod>5.00</TargetClockPeriod><Part>xcvu13p-flga2577-2-e</Part></UserAssignments>
  <PerformanceEstimates>
    <SummaryOfTimingAnalysis><EstimatedClockPeriod>4.372</EstimatedClockPeriod></SummaryOfTimingAnalysis>
    <SummaryOfOverallLatency>
      <Best-caseLatency>9</Best-caseLatency><Worst-caseLatency>11</Worst-caseLatency>
      <Interval-min>1</Interval-min><Interval-max>1</Interval-max>
    </SummaryOfOverallLatency>
  </PerformanceEstimates>
  <AreaEstimates>
    <Resources><BRAM_18K>2</BRAM_18K><DSP>437</DSP><FF>5123</FF><LUT>40211</LUT><URAM>0</URAM></Resources>
    <AvailableResources><BRAM_18K>5376</BRAM_18K><DSP>12288</DSP><FF>3456000</FF><LUT>1728000</LUT>
      <URAM>1280</URAM></AvailableResources>
  </AreaEstimates>
</profile>
"""


def test_csynth_xml_is_read_into_the_report_keys(tmp_path):
    (tmp_path / "project.tcl").write_text('set project_name "myproject"\nset backend "vitis"\n')
    prj = tmp_path / "myproject_prj"
    (prj / "solution1/syn/report").mkdir(parents=True)
    (prj / "hls.app").write_text(
        '<project xmlns="com.autoesl.autopilot.project" name="myproject_prj">'
        '<solutions><solution name="solution1" status="active"/></solutions></project>'
    )
    (prj / "solution1/syn/report/myproject_csynth.xml").write_text(CSYNTH_XML)
    report = synthesis.parse_project_report(tmp_path, "xcvu13p-flga2577-2-e", 5.0, "vitis_hls 2023.2")
    assert set(synthesis.REPORT_KEYS) <= set(report)
    assert (report["DSP"], report["LUT"], report["FF"], report["BRAM_18K"]) == (437, 40211, 5123, 2)
    assert (report["latency_cycles_min"], report["latency_cycles_max"], report["interval"]) == (9, 11, 1)
    assert report["latency_ns"] == pytest.approx(55.0)
    assert report["source"] == "vitis_hls 2023.2"
    json.dumps(report)


def test_estimate_puts_exactly_the_long_constants_on_dsps():
    # ap_fixed<16,6>: mantissa = w·2^10. 0.5 → 512 (1 odd bit), 0.375 → 384 (3 → 2 bits), 0 → no product,
    # 0.3 → 307 (9 bits), -0.7 → -717 (10 bits), 0.123 → 125 (7 bits, stays in LUTs). Hidden node 1 feeds
    # nothing (k2[1] = 0), so its products (0.3 and 0.375) are pruned structure and cost nothing.
    k1 = np.array([[0.5, 0.3, 0.0], [-0.7, 0.375, 0.123]])
    k2 = np.array([[0.3], [0.0], [-0.7]])
    stages = [DenseStage(k1, np.zeros(3) + 0.1, "relu", "d0"), DenseStage(k2, np.zeros(1), "sigmoid", "d1")]
    precisions = ["ap_fixed<16,6>"] * 2
    live = nonzero_products(stages)
    mantissas = [
        np.where(mask, synthesis.quantize_truncate(s.kernel, p), 0)
        for s, p, mask in zip(stages, precisions, live, strict=True)
    ]
    expected_dsp = sum(
        int((synthesis.odd_mantissa_bits(m) > synthesis.DSP_MANTISSA_BITS).sum()) for m in mantissas
    )
    report = synthesis.estimate(stages, precisions, reuse_factor=1, clock_ns=5.0, part="xcvu13p-flga2577-2-e")
    assert report["DSP"] == expected_dsp == 1 + 2
    assert [layer["products"] for layer in report["layers"]] == [3, 2]
    assert report["source"] == "estimate" and set(synthesis.REPORT_KEYS) <= set(report)
    assert synthesis.estimate(stages, precisions, 2, 5.0, "p")["DSP"] == math.ceil(1 / 2) + math.ceil(2 / 2)


def test_wide_products_take_several_dsp_slices():
    # a DSP48E2 multiplies 27 x 18 bits: a 16-bit input by a 10-bit constant fits one slice either way round
    assert synthesis.dsp_slices(16, np.array([10]))[0] == 1
    assert synthesis.dsp_slices(27, np.array([18]))[0] == 1
    # the raw-feature first layer: a 27-bit input by a 24-bit constant needs two, 40 x 30 bits four
    assert synthesis.dsp_slices(27, np.array([24]))[0] == 2
    assert synthesis.dsp_slices(40, np.array([30]))[0] == 4
    # in the estimate: the same layer costs twice the DSPs when its input is 28 bits wide
    kernel = np.full((4, 2), 0.3)  # ap_fixed<26,4>: a 21-bit odd mantissa, on a DSP
    stages = [DenseStage(kernel, np.zeros(2), "sigmoid", "d0")]
    narrow = synthesis.estimate(stages, ["ap_fixed<26,4>"], 1, 5.0, "p", input_widths=[16])
    wide = synthesis.estimate(stages, ["ap_fixed<26,4>"], 1, 5.0, "p", input_widths=[28])
    assert narrow["layers"][0]["products_dsp"] == wide["layers"][0]["products_dsp"] == 8
    assert wide["DSP"] == 2 * narrow["DSP"]


def _tutorial_like(rng: np.random.Generator, keep_fraction: float) -> list[DenseStage]:
    """16-64-32-32-5 with trained-like weights N(0, (1.5/√fan_in)²), optionally magnitude-pruned per layer."""
    dims = [16, 64, 32, 32, 5]
    stages = []
    for i, (n_in, n_out) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        kernel = rng.normal(0.0, 1.5 / np.sqrt(n_in), (n_in, n_out))
        if keep_fraction < 1.0:
            kernel = np.where(np.abs(kernel) >= np.quantile(np.abs(kernel), 1.0 - keep_fraction), kernel, 0.0)
        stages.append(DenseStage(kernel, rng.normal(0, 0.1, n_out), "softmax" if i == 3 else "relu", f"d{i}"))
    return stages


@pytest.mark.parametrize("build,keep", [("dense", 1.0), ("sparse75", 0.25)])
def test_estimate_reproduces_the_published_tutorial_builds(build, keep):
    published = synthesis.CALIBRATION[build]
    stages = _tutorial_like(np.random.default_rng(3), keep)
    report = synthesis.estimate(stages, ["ap_fixed<16,6>"] * 4, 1, 5.0, "xcu250-figd2104-2L-e")
    assert report["DSP"] == pytest.approx(published["DSP"], rel=0.15)
    assert report["LUT"] == pytest.approx(published["LUT"], rel=0.10)
    assert report["FF"] == pytest.approx(published["FF"], rel=0.10)
    assert abs(report["latency_cycles_max"] - published["latency_cycles"]) <= 1
    assert report["BRAM_18K"] == 8


def test_the_autopruner_gate_folds_before_and_after_dense_layers():
    pruning = pytest.importorskip("autopruner.training.pruning")
    model, X = _tagger(np.random.default_rng(4))
    inputs = keras.Input((X.shape[1],))
    x = model.layers[1](inputs)  # the adapted Normalization
    x = pruning.AutoPrunerGate()(x)
    x = model.layers[2](x)
    gate = pruning.AutoPrunerGate()
    x = gate(x)
    for layer in model.layers[3:]:
        x = layer(x)
    gated = keras.Model(inputs, x)
    gate.hard_mask.assign(np.array([1, 0, 1, 1, 0, 1, 1, 0], dtype=np.float32))
    stages = fold_model(gated)
    np.testing.assert_allclose(
        apply_chain(stages, X[:200]).ravel(), gated.predict(X[:200], verbose=0).ravel(), atol=1e-5
    )
    from autopruner.training.network import model_size

    assert model_size(stages)["nodes_per_layer"][0] == 5


def test_vendor_tool_comes_from_the_config_not_the_path(tmp_path, monkeypatch):
    import os

    fake = tmp_path / "vitis_hls"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert synthesis.vendor_tool({"vendor_tool": "none"}) is None  # on PATH, but not asked for
    assert synthesis.vendor_tool({"vendor_tool": "vitis_hls"}) == "vitis_hls"
    with pytest.raises(FileNotFoundError, match="vivado_hls"):
        synthesis.vendor_tool({"vendor_tool": "vivado_hls"})
