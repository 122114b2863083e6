"""End to end: the whole pipeline on config/tiny.yaml in a temporary directory, then a one-budget rebuild."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from workflow_copy import copy_workflow, job_stats

from autopruner.config import REPO_ROOT, load_config

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1500)]

TINY = load_config(REPO_ROOT / "config/tiny.yaml")
BUDGETS = TINY["autopruner"]["budgets"]
SEED = TINY["training"]["seeds"][0]
FIRMWARE_BUDGETS = TINY["firmware"]["budgets"]
HLS_MODELS = ["baseline/model"] + [f"budget{b}/{kind}" for b in FIRMWARE_BUDGETS for kind in ("reduced", "retrained")]
FIRMWARE_RULES = {"hls_project", "hls_emulate", "hls_synth", "da_rtl", "da_verify", "yosys_synth"}


def _env(workdir: Path) -> dict[str, str]:
    """The package copy inside ``workdir`` comes first on the path, so editing it there is what Snakemake sees."""
    return {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(workdir / "src")}


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """Run snakemake on the tiny config in ``workdir``; fail the test with its log on error."""
    # targets before --configfile: snakemake 9 would read anything after it as further config files
    cmd = [sys.executable, "-m", "snakemake", *args, "--cores", "2", "--configfile", "config/tiny.yaml"]
    result = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=_env(workdir))
    if result.returncode != 0:
        pytest.fail(f"snakemake {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-12000:]}")
    return result


def jobs_to_run(workdir: Path) -> dict[str, int]:
    """Rule -> job count of what a dry run of every final target would run now (empty when up to date)."""
    return job_stats(snakemake(workdir, "--dry-run").stdout)


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory, tiny_config, generated_shards, generated_templates) -> Path:
    """A fresh copy of the workflow and the package with every final target built once.

    The shared generated shards, and one of them reconstructed, compile numba's kernels for the package first, so
    that the copy starts with them (`copy_workflow`) instead of its first jobs each compiling their own.
    """
    from autopruner.reconstruction.features import reconstruct_shard

    reconstruct_shard(generated_shards["hbb", "shard000"], generated_templates[1], tiny_config["reconstruction"])
    workdir = copy_workflow(tmp_path_factory.mktemp("pipeline"))
    snakemake(workdir, "all")
    return workdir


def test_event_files_are_readable(pipeline_run: Path):
    from autopruner.event_io import read_events

    for process in ("hbb", "qcd"):
        for shard in range(TINY["generation"]["shards"][process]):
            events = read_events(pipeline_run / f"data/events/{process}/shard{shard:03d}.root")
            assert len(events) == TINY["generation"]["events_per_shard"]


def test_dataset_has_the_39_features(pipeline_run: Path):
    import uproot

    from autopruner.schema import FEATURE_NAMES

    with uproot.open(pipeline_run / "results/dataset.root") as f:
        tree = f["candidates"]
        keys = set(tree.keys())
        assert set(FEATURE_NAMES) <= keys and {"label", "split", "train_weight"} <= keys
        splits = tree["split"].array(library="np")
        assert set(splits.tolist()) == {0, 1, 2}


def test_models_load_and_masks_hold_the_budget(pipeline_run: Path):
    import keras

    import autopruner.training.pruning  # noqa: F401  (registers the gate layer)

    hidden_total = sum(TINY["training"]["hidden_layers"])
    keras.models.load_model(pipeline_run / f"results/seed{SEED}/baseline/model.keras")
    for budget in BUDGETS:
        folder = pipeline_run / f"results/seed{SEED}/budget{budget}"
        for name in ("pruned", "retrained"):
            keras.models.load_model(folder / f"{name}.keras")
        # the reduced network is the firmware's input: built for firmware.budgets, elsewhere on request only
        reduced = folder / "reduced.keras"
        assert reduced.is_file() == (budget in FIRMWARE_BUDGETS)
        if reduced.is_file():
            keras.models.load_model(reduced)
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
        assert len(PdfReader(pipeline_run / f"results/seed{SEED}/budget{budget}/roc.pdf").pages) >= 1
    assert len(PdfReader(pipeline_run / "results/plots/features.pdf").pages) >= 39
    summary = (pipeline_run / "results/summary.csv").read_text().splitlines()
    assert len(summary) >= 1 + 1 + 2 * len(BUDGETS)
    metrics = json.loads((pipeline_run / f"results/seed{SEED}/baseline/model.metrics.json").read_text())
    assert 0.5 < metrics["auc"] <= 1.0


def test_hls_reports(pipeline_run: Path):
    keys = {"latency_cycles_min", "latency_cycles_max", "latency_ns", "interval", "DSP", "LUT", "FF", "BRAM_18K",
            "part", "clock_ns", "source", "method"}
    for model in HLS_MODELS:
        report = json.loads((pipeline_run / f"results/hls/{model}/synthesis_report.json").read_text())
        assert report["source"] == "estimate"  # no vendor HLS tool here: the report must say so
        assert keys <= set(report)
        emulation = json.loads((pipeline_run / f"results/hls/{model}/emulation.json").read_text())
        assert emulation["input_quantization"]["auc_cost"] < 0.01
        quantization = json.loads((pipeline_run / f"results/hls/{model}/project/input_quantization.json").read_text())
        assert len(quantization["features"]) == 39
        # every network has a DA design, checked bit for bit on every emulated candidate
        da_report = json.loads((pipeline_run / f"results/hls/{model}/da_report.json").read_text())
        assert da_report["source"].startswith("da4ml ") and da_report["source"].endswith(" estimate")
        assert da_report["LUT"] > 0 and da_report["DSP"] == 0 and da_report["latency_cycles"] >= 1
        assert (pipeline_run / f"results/hls/{model}/rtl/src/{da_report['top']}.v").is_file()
        check = json.loads((pipeline_run / f"results/hls/{model}/da_emulation.json").read_text())["bit_exact_check"]
        assert check["bit_exact"] and check["n_bit_exact"] == check["n_candidates"] == emulation["n_candidates"]
        synth = json.loads((pipeline_run / f"results/hls/{model}/yosys_report.json").read_text())
        assert synth["status"] in ("done", "skipped")
        assert (synth["source"] or "yosys ").startswith("yosys ")
    rows = (pipeline_run / "results/hls_summary.csv").read_text().splitlines()
    assert len(rows) == 1 + 3 * len(HLS_MODELS)
    left_out = [b for b in BUDGETS if b not in FIRMWARE_BUDGETS]
    assert left_out and not any((pipeline_run / f"results/hls/budget{b}").exists() for b in left_out)


def test_firmware_budgets_choose_the_budgets_that_become_firmware(pipeline_run: Path):
    listed = f"firmware:\n  budgets: [{', '.join(str(b) for b in FIRMWARE_BUDGETS)}]"
    before = jobs_to_run(pipeline_run)  # what earlier tests' edits left to do, if anything
    with _edit_then_restore(pipeline_run / "config/tiny.yaml", listed, "firmware:\n  budgets: null"):
        jobs = jobs_to_run(pipeline_run)
    n_left_out = len(BUDGETS) - len(FIRMWARE_BUDGETS)
    # per budget left out so far: its reduced network, and the firmware of it and of the retrained one
    assert added_jobs(before, jobs) == (
        dict.fromkeys(FIRMWARE_RULES, 2 * n_left_out) | {"reduce": n_left_out} | summary_job(before))


def test_method_comparison_has_one_row_per_method_budget_and_seed(pipeline_run: Path):
    import csv

    methods = TINY["methods"]
    ap_budgets = sorted(set(BUDGETS) | set(methods["budgets"]))
    expected = {("baseline", 100, s) for s in TINY["training"]["seeds"]}
    for seed in TINY["training"]["seeds"]:
        expected |= {(m, b, seed) for m in ("autopruner", "autopruner_retrained") for b in ap_budgets}
        expected |= {(m, b, seed) for m in methods["compare"] for b in methods["budgets"]}
    with (pipeline_run / "results/methods/comparison.csv").open() as f:
        rows = list(csv.DictReader(f))
    keys = [(r["method"], int(r["budget"]), int(r["seed"])) for r in rows]
    assert len(keys) == len(set(keys)) and set(keys) == expected
    hidden_total = sum(TINY["training"]["hidden_layers"])
    for row in rows:
        assert float(row["cpu_seconds"]) > 0 and 0.5 < float(row["auc"]) <= 1.0
        if row["method"] != "baseline":  # every method ends with the AutoPruner's node count
            assert int(row["hidden_nodes"]) == -(-int(row["budget"]) * hidden_total // 100)
    summary = json.loads((pipeline_run / "results/methods/comparison.json").read_text())
    assert "smallest_budget_within_1sigma" in summary
    search = json.loads((pipeline_run / f"results/methods/search/budget{methods['budgets'][0]}/seed{SEED}/"
                                        "history.json").read_text())
    assert len(search["trials"]) == methods["search"]["trials"]
    if "pquant" in methods["compare"]:  # PDP hit the uniform layout, or the history says how the count was fixed
        pquant = json.loads((pipeline_run / f"results/methods/pquant/budget{methods['budgets'][0]}/seed{SEED}/"
                                            "history.json").read_text())
        assert pquant["hidden_sizes"] == pquant["target_per_layer"]
        assert pquant["count_fixed"] or pquant["slice_max_abs_diff"] < 1e-4


def test_stability_table_covers_every_budget_and_leaves_one_seed_undefined(pipeline_run: Path):
    import csv
    import math

    with (pipeline_run / "results/methods/stability.csv").open() as f:
        rows = list(csv.DictReader(f))
    features = {int(r["budget"]): r for r in rows if r["kind"] == "input_features"}
    assert set(features) == set(TINY["feature_ranking"]["budgets"])
    n_seeds = len(TINY["training"]["seeds"])
    for row in features.values():
        assert int(row["n_seeds"]) == n_seeds
        assert math.isnan(float(row["jaccard_mean_pairwise"])) == (n_seeds < 2)
    hidden = {(r["method"], int(r["budget"])) for r in rows if r["kind"] == "hidden_nodes"}
    assert {(m, b) for m in TINY["methods"]["compare"] for b in TINY["methods"]["budgets"]} <= hidden


def test_finished_run_is_up_to_date(pipeline_run: Path):
    assert jobs_to_run(pipeline_run) == {}


@contextlib.contextmanager
def _edit_then_restore(path: Path, old: str, new: str) -> Iterator[None]:
    """Replace ``old`` by ``new`` in ``path`` for the duration of the block, then restore the original bytes."""
    original = path.read_text()
    assert old in original
    path.write_text(original.replace(old, new, 1))
    try:
        yield
    finally:
        path.write_text(original)


def added_jobs(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Rule -> how many more jobs the dry run ``after`` an edit lists than the one ``before`` it (``all`` left out)."""
    return {rule: n - before.get(rule, 0) for rule, n in after.items() if n != before.get(rule) and rule != "all"}


def summary_job(before: dict[str, int]) -> dict[str, int]:
    """The firmware summary's job that new firmware adds, unless an earlier test's edit left it to run already."""
    return {} if "hls_summary" in before else {"hls_summary": 1}


UPSTREAM = {"generate", "ip_templates", "reconstruct", "dataset", "feature_plots"}
TRAINING = {"train_baseline", "train_autopruner", "reduce", "retrain", "feature_ranking", "method_magnitude",
            "method_uniform", "method_search", "method_pquant"}


def test_evaluation_key_reruns_evaluation_only(pipeline_run: Path):
    with _edit_then_restore(pipeline_run / "config/tiny.yaml", "bootstrap_replicas: 20", "bootstrap_replicas: 21"):
        jobs = jobs_to_run(pipeline_run)
    # the firmware emulation quotes bootstrap errors too, so it reruns with its summary; nothing else does
    assert set(jobs) == {"evaluate", "roc_budget", "roc_all", "hls_emulate", "da_verify", "hls_summary",
                         "method_evaluate", "comparison", "all"}
    assert jobs["evaluate"] == 1 + 2 * len(BUDGETS)
    assert jobs["method_evaluate"] == len(TINY["methods"]["compare"]) * len(TINY["methods"]["budgets"])


def test_autopruner_key_reruns_the_pruning_branch(pipeline_run: Path):
    with _edit_then_restore(pipeline_run / "config/tiny.yaml", "  epochs: 14\n", "  epochs: 15\n"):
        jobs = jobs_to_run(pipeline_run)
    assert {"train_autopruner", "reduce", "retrain", "evaluate", "roc_all", "hls_project"} <= set(jobs)
    assert not set(jobs) & (UPSTREAM | {"train_baseline", "method_magnitude", "method_uniform", "method_search",
                                                "method_pquant"})
    assert jobs["train_autopruner"] == len(BUDGETS)
    assert jobs["evaluate"] == 2 * len(BUDGETS)  # the baseline's evaluation stays


def test_a_new_budget_or_seed_adds_its_jobs_and_reruns_no_other_training(pipeline_run: Path):
    listed = f"  budgets: [{', '.join(str(b) for b in BUDGETS)}]\n"
    assert 50 not in BUDGETS
    with _edit_then_restore(pipeline_run / "config/tiny.yaml", listed,
                            f"  budgets: [{', '.join(str(b) for b in sorted([*BUDGETS, 50]))}]\n"):
        jobs = jobs_to_run(pipeline_run)
    assert jobs["train_autopruner"] == 1 and jobs["retrain"] == 1
    # firmware.budgets lists the budgets that become firmware, and so need their reduced network
    assert not set(jobs) & (FIRMWARE_RULES | {"reduce"})
    assert not set(jobs) & (UPSTREAM | {"train_baseline", "feature_ranking", "method_magnitude", "method_uniform",
                                        "method_search", "method_pquant"})
    with _edit_then_restore(pipeline_run / "config/tiny.yaml", "training:\n",
                            f"training:\n  seeds: [{SEED}, {SEED + 1}]\n"):
        jobs = jobs_to_run(pipeline_run)
    assert jobs["train_baseline"] == 1  # the new seed's; the first seed's models stay
    assert jobs["train_autopruner"] == len(BUDGETS)
    assert not set(jobs) & UPSTREAM
    assert jobs_to_run(pipeline_run) == {}


def test_module_edit_reruns_its_stage_and_what_follows(pipeline_run: Path):
    module = pipeline_run / "src/autopruner/evaluation/metrics.py"
    with _edit_then_restore(module, '"""', '"""An edit. '):
        jobs = jobs_to_run(pipeline_run)
    assert {"evaluate", "roc_budget", "roc_all"} <= set(jobs)
    assert not set(jobs) & (UPSTREAM | TRAINING)
    module = pipeline_run / "src/autopruner/reconstruction/vertexing.py"
    with _edit_then_restore(module, '"""', '"""An edit. '):
        jobs = jobs_to_run(pipeline_run)
    assert {"ip_templates", "reconstruct"} <= set(jobs)
    assert "generate" not in jobs
    assert jobs_to_run(pipeline_run) == {}  # restored source: up to date again


def test_one_budget_rebuilds_alone(pipeline_run: Path):
    first, other = BUDGETS[0], BUDGETS[1:]
    folder = pipeline_run / f"results/seed{SEED}"
    watched = {p: p.stat().st_mtime_ns for b in other for p in (folder / f"budget{b}").iterdir()}
    retrained = folder / f"budget{first}/retrained.keras"  # mask -> retrain -> evaluate -> roc
    before = retrained.stat().st_mtime_ns
    time.sleep(1.1)
    # snakemake >= 9.18 compares input checksums, so a bare `touch` reruns nothing: edit the mask instead (a
    # trailing newline: same JSON, new bytes), as a physicist changing it by hand would
    with (folder / f"budget{first}/mask.json").open("a") as mask:
        mask.write("\n")
    snakemake(pipeline_run, f"results/seed{SEED}/budget{first}/roc.pdf")
    assert retrained.stat().st_mtime_ns > before
    assert {p: p.stat().st_mtime_ns for p in watched} == watched


def test_firmware_of_a_compared_method_adds_its_jobs_only_and_builds(pipeline_run: Path):
    import csv

    method, (budget,) = "magnitude", TINY["methods"]["budgets"]
    before = jobs_to_run(pipeline_run)  # what earlier tests' edits left to do, if anything
    with _edit_then_restore(pipeline_run / "config/tiny.yaml", "firmware:\n", f"firmware:\n  methods: [{method}]\n"):
        jobs = jobs_to_run(pipeline_run)
        # the method's network is trained already (the comparison's): one job more per firmware rule, the summary
        assert added_jobs(before, jobs) == dict.fromkeys(FIRMWARE_RULES, 1) | summary_job(before)
        snakemake(pipeline_run, "results/hls_summary.csv")
        folder = pipeline_run / f"results/hls/budget{budget}/{method}"
        project = json.loads((folder / "project/input_quantization.json").read_text())
        assert len(project["features"]) == 39
        check = json.loads((folder / "da_emulation.json").read_text())["bit_exact_check"]
        assert check["bit_exact"] and check["n_bit_exact"] == check["n_candidates"] > 0
        with (pipeline_run / "results/hls_summary.csv").open() as table:
            rows = list(csv.DictReader(table))
        mine = [r for r in rows if r["model"] == f"budget{budget}_{method}"]
        assert len(rows) == 3 * (len(HLS_MODELS) + 1) and len(mine) == 3
        assert all(r["kind"] == method and r["budget"] == str(budget) for r in mine)
        assert len({r["products"] for r in mine}) == 1 and int(mine[0]["products"]) > 0  # one network, three rows
        assert not set(jobs_to_run(pipeline_run)) & {*FIRMWARE_RULES, "hls_summary"}
