"""End to end: the whole pipeline on config/tiny.yaml in a temporary directory, then a one-budget rebuild."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autopruner.config import REPO_ROOT, load_config

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1500)]

TINY = load_config(REPO_ROOT / "config/tiny.yaml")
BUDGETS = TINY["autopruner"]["budgets"]
HLS_MODELS = ["baseline"] + [f"budget{b}_{kind}" for b in BUDGETS for kind in ("reduced", "retrained")]


def snakemake(workdir: Path, *targets: str) -> subprocess.CompletedProcess:
    """Run snakemake on the tiny config in ``workdir``; fail the test with its log on error."""
    # targets before --configfile: snakemake 9 would read anything after it as further config files
    cmd = [sys.executable, "-m", "snakemake", *targets, "--cores", "2", "--configfile", "config/tiny.yaml"]
    result = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    if result.returncode != 0:
        pytest.fail(f"snakemake {' '.join(targets)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-12000:]}")
    return result


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory) -> Path:
    """A fresh copy of the workflow with every final target built once."""
    workdir = tmp_path_factory.mktemp("pipeline")
    for item in ("Snakefile", "workflow", "config"):
        src = REPO_ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, workdir / item)
    snakemake(workdir, "results/roc_all.pdf", "results/hls_summary.csv", "all")
    return workdir


def test_event_files_are_readable(pipeline_run: Path):
    from autopruner.event_io import read_events

    for process in ("hbb", "qcd"):
        for shard in range(TINY["generation"]["shards"][process]):
            events = read_events(pipeline_run / f"data/events/{process}/shard{shard:03d}.root")
            assert len(events) == TINY["generation"]["events_per_shard"]


def test_dataset_has_the_39_features(pipeline_run: Path):
    import uproot

    from autopruner.features import FEATURE_NAMES

    with uproot.open(pipeline_run / "results/dataset.root") as f:
        tree = f["candidates"]
        keys = set(tree.keys())
        assert set(FEATURE_NAMES) <= keys and {"label", "split", "train_weight"} <= keys
        splits = tree["split"].array(library="np")
        assert set(splits.tolist()) == {0, 1, 2}


def test_models_load_and_masks_hold_the_budget(pipeline_run: Path):
    import keras

    import autopruner.pruning  # noqa: F401  (registers the gate layer)

    hidden_total = sum(TINY["training"]["hidden_layers"])
    keras.models.load_model(pipeline_run / "results/baseline/model.keras")
    for budget in BUDGETS:
        folder = pipeline_run / f"results/budget{budget}"
        for name in ("pruned", "reduced", "retrained"):
            keras.models.load_model(folder / f"{name}.keras")
        mask = json.loads((folder / "mask.json").read_text())
        kept = sum(len(layer["kept"]) for layer in mask["layers"].values())
        assert kept == -(-budget * hidden_total // 100)  # ceil: 77 / 128 / 180 of 256, as in the AutoPruner talk
        for layer in mask["layers"].values():
            gates = layer["gate_values"]
            assert sum(g > TINY["autopruner"]["open_threshold"] for g in gates) == len(layer["kept"])
            assert sum(g < TINY["autopruner"]["closed_threshold"] for g in gates) == layer["nodes"] - len(layer["kept"])


def test_reports_and_plots(pipeline_run: Path):
    from pypdf import PdfReader

    n_pages = len(PdfReader(pipeline_run / "results/roc_all.pdf").pages)
    assert n_pages == 2 + len(BUDGETS) + 1
    for budget in BUDGETS:
        assert len(PdfReader(pipeline_run / f"results/budget{budget}/roc.pdf").pages) >= 1
    assert len(PdfReader(pipeline_run / "results/plots/features.pdf").pages) >= 39
    summary = (pipeline_run / "results/summary.csv").read_text().splitlines()
    assert len(summary) >= 1 + 1 + 2 * len(BUDGETS)
    metrics = json.loads((pipeline_run / "results/baseline/model.metrics.json").read_text())
    assert 0.5 < metrics["auc"] <= 1.0


def test_hls_reports(pipeline_run: Path):
    keys = {"latency_cycles_min", "latency_cycles_max", "latency_ns", "interval", "DSP", "LUT", "FF", "BRAM_18K",
            "part", "clock_ns", "source", "method"}
    for model in HLS_MODELS:
        report = json.loads((pipeline_run / f"results/hls/{model}/synthesis_report.json").read_text())
        assert keys <= set(report)
        emulation = json.loads((pipeline_run / f"results/hls/{model}/emulation.json").read_text())
        assert emulation
    rows = (pipeline_run / "results/hls_summary.csv").read_text().splitlines()
    assert len(rows) == 1 + len(HLS_MODELS)


def test_one_budget_rebuilds_alone(pipeline_run: Path):
    first, other = BUDGETS[0], BUDGETS[1:]
    watched = {p: p.stat().st_mtime_ns for b in other for p in (pipeline_run / f"results/budget{b}").iterdir()}
    retrained = pipeline_run / f"results/budget{first}/retrained.keras"  # mask -> retrain -> evaluate -> roc
    before = retrained.stat().st_mtime_ns
    time.sleep(1.1)
    # snakemake >= 9.18 compares input checksums, so a bare `touch` reruns nothing: edit the mask instead (a
    # trailing newline: same JSON, new bytes), as a physicist changing it by hand would
    with (pipeline_run / f"results/budget{first}/mask.json").open("a") as mask:
        mask.write("\n")
    snakemake(pipeline_run, f"results/budget{first}/roc.pdf")
    assert retrained.stat().st_mtime_ns > before
    assert {p: p.stat().st_mtime_ns for p in watched} == watched
