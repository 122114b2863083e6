"""firmware.quantization: hgq — HGQ2 fine-tuning, its da4ml design bit for bit, and ptq left as it was."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from snakemake.exceptions import WorkflowError

from autopruner.config import DEFAULT_CONFIG, REPO_ROOT, validate_config
from autopruner.firmware import inputs, summary
from autopruner.training.network import DenseStage

pytest.importorskip("hgq")
pytest.importorskip("da4ml")

from autopruner.firmware import hgq  # noqa: E402 - after the skips

SETTINGS = hgq.HgqSettings(beta=1e-4, epochs=2, batch_size=64, learning_rate=3e-3, weight_bits=6,
                           activation_frac_bits=4, max_train_candidates=1000)


def _tiny_problem(rng: np.random.Generator, n: int = 1000):
    """Three features, a 3-6-4-1 chain and labels it can learn: (formats, stages, quantized inputs, labels)."""
    X = np.column_stack([250.0 + rng.exponential(150.0, n), rng.normal(0.0, 1.2, n), rng.poisson(7.0, n)])
    formats = inputs.input_formats(["a", "b", "c"], X.mean(0), X.std(0), X.min(0), X.max(0), 6)
    U = inputs.quantize_inputs(X, formats)
    y = (U[:, 1] + 0.1 * rng.normal(size=n) > 0).astype(np.float64)
    sizes = [3, 6, 4, 1]
    stages = [DenseStage(rng.normal(0, 0.7, (sizes[k], sizes[k + 1])), rng.normal(0, 0.2, sizes[k + 1]),
                         "linear" if k == 2 else "relu", f"dense_{k}") for k in range(3)]
    return formats, stages, U, y


def test_tiny_hgq2_model_finetunes_traces_and_matches_bit_for_bit(tmp_path):
    from autopruner.training.tagger import seed_everything

    rng = np.random.default_rng(3)
    formats, stages, U, y = _tiny_problem(rng)
    import keras

    keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])  # a float32 model first, as the pipeline loads one
    seed_everything(11)
    model = hgq.build_hgq_model(stages, formats, SETTINGS)
    assert {layer.dtype for layer in model.layers} == {"float64"}
    w = np.ones(len(y), dtype=np.float32)  # float32 weights and labels, as the training split has them
    y = y.astype(np.float32)
    history = hgq.finetune(model, U, y, w, U[:200], y[:200], w[:200], SETTINGS)
    assert len(history["loss"]) == SETTINGS.epochs and history["ebops_traced"] > 0
    assert history["beta"][-1] == pytest.approx(SETTINGS.beta)
    # the first layer reads the firmware formats: sign and integer bits fixed per feature
    k, i, _ = (np.asarray(v).ravel() for v in model.layers[1].iq.quantizer.kif)
    assert list(k) == [int(f.signed) for f in formats] and list(i) == [f.integer_bits for f in formats]
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = hgq.load_hgq_model(path)
    comb = hgq.trace(reloaded, formats)
    reference = hgq.predict_logits(reloaded, U)
    check = hgq.bit_exact_check(comb, reference, U)
    assert check["n_candidates"] == len(U) and check["bit_exact"], check
    assert comb.cost > 0


def test_finetuning_starts_from_the_float_network():
    """Before fine-tuning, the HGQ2 model computes the float chain up to its (8-bit) quantization."""
    from autopruner.training.network import apply_chain

    rng = np.random.default_rng(4)
    formats, stages, U, _ = _tiny_problem(rng)
    settings = hgq.HgqSettings(**{**SETTINGS.__dict__, "weight_bits": 12, "activation_frac_bits": 10})
    model = hgq.build_hgq_model(stages, formats, settings)
    from hgq.utils import trace_minmax

    trace_minmax(model, U)
    np.testing.assert_allclose(hgq.predict_logits(model, U), apply_chain(stages, U).ravel(), atol=0.05)


def _report(path: Path, document: dict) -> str:
    path.write_text(json.dumps(document))
    return str(path)


def test_ptq_summary_has_no_hgq_rows_and_hgq_rows_keep_their_label(tmp_path):
    numbers = {"float": {"auc": 0.9, "rejection_50": 100.0}, "fixed": {"auc": 0.89, "rejection_50": 95.0,
                                                                       "rejection_50_err": 5.0}}
    da_report = {"source": "da4ml 0.6.0 estimate", "LUT": 1000, "FF": 10, "DSP": 0, "latency_cycles": 3,
                 "latency_ns": 15.0}
    files = {
        "reports": [_report(tmp_path / "s.json", {"source": "estimate", "LUT": 5000, "FF": 5, "DSP": 10})],
        "emulations": [_report(tmp_path / "e.json", numbers)],
        "da_reports": [_report(tmp_path / "d.json", da_report)],
        "da_emulations": [_report(tmp_path / "de.json", numbers)],
        "yosys_reports": [_report(tmp_path / "y.json", {"status": "skipped", "source": None, "reason": "too big"})],
    }
    models = [{"variant": "budget30", "kind": "reduced"}]
    ptq = summary.summary_rows(summary.entries_from_models(models, files))
    assert [r["implementation"] for r in ptq] == ["hls4ml", "da4ml", "yosys"]
    files |= {"hgq_da_reports": [_report(tmp_path / "hd.json", {**da_report, "LUT": 200})],
              "hgq_da_emulations": [_report(tmp_path / "hde.json", numbers)],
              "hgq_yosys_reports": files["yosys_reports"]}
    rows = summary.summary_rows(summary.entries_from_models(models, files))
    assert rows[:3] == ptq
    assert [r["implementation"] for r in rows[3:]] == ["da4ml_hgq2", "yosys_hgq2"]
    assert rows[3]["lut_equivalents"] == 200.0 and rows[3]["source"] == "da4ml 0.6.0 estimate"


def test_schema_rejects_an_unknown_quantization():
    config = yaml.safe_load(DEFAULT_CONFIG.read_text())
    assert config["firmware"]["quantization"] == "ptq"
    validate_config(config)
    bad = copy.deepcopy(config)
    bad["firmware"]["quantization"] = "qat"
    with pytest.raises(WorkflowError, match="quantization"):
        validate_config(bad)
    bad = copy.deepcopy(config)
    bad["firmware"]["hgq"]["beta"] = -1.0
    with pytest.raises(WorkflowError, match="beta"):
        validate_config(bad)


def _dry_run_jobs(workdir: Path, quantization: str) -> dict[str, int]:
    """Rule -> job count of a dry run of the firmware summary on config/tiny.yaml with this quantization."""
    override = workdir / f"{quantization}.yaml"
    override.write_text(yaml.safe_dump({"firmware": {"quantization": quantization}}))
    cmd = [sys.executable, "-m", "snakemake", "--dry-run", "--cores", "1", "results/hls_summary.csv",
           "--configfile", "config/tiny.yaml", str(override)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}
    result = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    table = re.search(r"^job\s+count\n-+\s+-+\n(.*?)^total", result.stdout, re.MULTILINE | re.DOTALL)
    assert table, result.stdout[-3000:]
    return {line.split()[0]: int(line.split()[1]) for line in table[1].strip().splitlines()}


def test_ptq_builds_no_hgq_job_and_hgq_builds_one_per_firmware_network(tmp_path):
    for item in ("Snakefile", "workflow", "config"):
        src = REPO_ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / item)
    ptq = _dry_run_jobs(tmp_path, "ptq")
    assert not [rule for rule in ptq if rule.startswith("hgq")]
    with_hgq = _dry_run_jobs(tmp_path, "hgq")
    n_models = ptq["da_rtl"]
    for rule in ("hgq_finetune", "hgq_rtl", "hgq_verify", "hgq_yosys_synth"):
        assert with_hgq[rule] == n_models, rule
    assert {rule: n for rule, n in with_hgq.items() if not rule.startswith("hgq")} == ptq


def _row(model: str, implementation: str, lut_eq: float, rejection: float, cycles: int = 7, dsp: int = 0,
         status: str = "done", kind: str = "reduced") -> dict:
    return {"model": model, "kind": kind, "implementation": implementation, "status": status, "source": "s",
            "lut_equivalents": lut_eq, "latency_cycles": cycles, "DSP": dsp, "rejection_50_firmware": rejection,
            "rejection_50_firmware_err": 10.0, "rejection_50_float": 500.0}


def test_headline_picks_the_smallest_hgq2_design_within_the_rejection_target():
    rows = [_row("baseline", "hls4ml", 500_000, 480, 16, 3000), _row("baseline", "da4ml_hgq2", 100_000, 450),
            _row("small", "da4ml_hgq2", 20_000, 400), _row("small", "yosys_hgq2", 21_000, 400),
            _row("mid", "da4ml_hgq2", 24_000, 460), _row("mid", "yosys_hgq2", 0, 0, status="skipped"),
            _row("ptq", "da4ml", 1_000, 500)]
    best = summary.headline(rows)
    # "small" misses the rejection target (400 < 0.85 x 500); "mid" has no Yosys numbers, so da4ml's estimate counts
    assert best["model"] == "mid" and best["implementation"] == "da4ml_hgq2"
    assert best["lut_equivalents_fraction"] == pytest.approx(24_000 / 500_000)
    assert all(best["targets_met"].values())
    assert summary.headline([r for r in rows if "hgq2" not in r["implementation"]]) is None


def test_headline_leaves_out_the_compared_methods_networks():
    rows = [_row("baseline", "hls4ml", 500_000, 480, 16, 3000, kind="baseline"),
            _row("budget30_reduced", "da4ml_hgq2", 24_000, 460)]
    method = _row("budget5_magnitude", "da4ml_hgq2", 5_000, 470, kind="magnitude")  # cheaper and as good
    assert summary.headline([*rows, method])["model"] == "budget30_reduced"
    assert summary.headline([rows[0], method]) is None  # no AutoPruner design: no headline
