"""The validation target's k-fold transfer test as Snakemake schedules it, without running a job: a dry run plans k
fold trainings per generator and one pooling per transfer case; on a workflow marked done (`--touch`), editing
validation.folds, the training config, the evaluation config or the pooling code reruns exactly what depends on it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from workflow_copy import copy_workflow, job_stats

pytestmark = pytest.mark.timeout(300)

TARGET = "results/validation/toy_vs_pythia.json"
GENERATORS = 2
CASES = 3  # toy on toy, toy on Pythia, Pythia on Pythia
SEEDS = 3  # validation.training_seeds of config/config.yaml
DATA_RULES = {"generate", "ip_templates", "validation_generate", "validation_reconstruct", "validation_dataset"}


def snakemake(workdir: Path, *args: str, configfiles: tuple[str, ...] = ()) -> str:
    """Run snakemake on the validation target with config/tiny.yaml (and ``configfiles``); its stdout and stderr."""
    # targets before --configfile: snakemake 9 would read anything after it as further config files
    cmd = [sys.executable, "-m", "snakemake", *args, TARGET, "--cores", "2",
           "--configfile", "config/tiny.yaml", *configfiles]
    env = {**os.environ, "PYTHONPATH": str(workdir / "src")}
    result = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    return output


def planned_jobs(workdir: Path, configfiles: tuple[str, ...] = ()) -> dict[str, int]:
    """Rule -> job count of a dry run of the validation target (empty when it is up to date)."""
    return job_stats(snakemake(workdir, "--dry-run", configfiles=configfiles))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A copy of the workflow, the configs and the package, with nothing built."""
    return copy_workflow(tmp_path_factory.mktemp("validation_workflow"))


@pytest.fixture(scope="module")
def done_workdir(workdir) -> Path:
    """The copy with every file of the validation target present (empty) and marked up to date by `--touch`, so
    that Snakemake has recorded each job's params."""
    summary = snakemake(workdir, "--summary")
    for line in summary.splitlines()[1:]:
        path = workdir / line.split("\t", 1)[0]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    snakemake(workdir, "--touch")
    assert planned_jobs(workdir) == {}
    return workdir


@contextlib.contextmanager
def edited(path: Path, old: str, new: str) -> Iterator[None]:
    """Replace ``old`` by ``new`` in ``path`` (appending ``new`` when ``old`` is empty) for the block, then restore."""
    original = path.read_text()
    assert old in original
    path.write_text(original.replace(old, new, 1) if old else original + new)
    try:
        yield
    finally:
        path.write_text(original)


@pytest.mark.parametrize("n_folds", [None, 3])
def test_dry_run_schedules_k_trainings_per_generator(workdir, tmp_path, n_folds):
    configfiles = ()
    if n_folds is not None:
        override = tmp_path / "folds.yaml"
        override.write_text(f"validation:\n  folds: {n_folds}\n")
        configfiles = (str(override),)
    k = n_folds or 5  # config/config.yaml's default
    jobs = planned_jobs(workdir, configfiles)
    assert jobs["validation_fold_train"] == GENERATORS * k * SEEDS
    assert jobs["validation_pool"] == CASES * SEEDS and jobs["validation_report"] == 1


def test_changing_the_number_of_folds_reruns_the_transfer_test_only(done_workdir):
    with edited(done_workdir / "config/tiny.yaml", "", "\nvalidation:\n  folds: 4\n"):
        jobs = planned_jobs(done_workdir)
    assert jobs == {"validation_fold_train": GENERATORS * 4 * SEEDS, "validation_pool": CASES * SEEDS,
                    "validation_report": 1}


def test_adding_a_training_seed_trains_that_seed_only(done_workdir):
    with edited(done_workdir / "config/tiny.yaml", "", "\nvalidation:\n  training_seeds: [0, 1, 2, 7]\n"):
        jobs = planned_jobs(done_workdir)
    assert jobs == {"validation_fold_train": GENERATORS * 5, "validation_pool": CASES, "validation_report": 1}
    with edited(done_workdir / "config/tiny.yaml", "", "\nvalidation:\n  training_seeds: [0, 1]\n"):
        jobs = planned_jobs(done_workdir)
    assert jobs == {"validation_report": 1}  # a seed fewer: the report averages the others, nothing retrains


def test_training_config_reruns_every_fold_training(done_workdir):
    with edited(done_workdir / "config/tiny.yaml", "  epochs: 6\n", "  epochs: 7\n"):
        jobs = planned_jobs(done_workdir)
    assert jobs == {"validation_fold_train": GENERATORS * 5 * SEEDS, "validation_pool": CASES * SEEDS,
                    "validation_report": 1}


def test_evaluation_config_and_pooling_code_rerun_the_pooling_only(done_workdir):
    with edited(done_workdir / "config/tiny.yaml", "bootstrap_replicas: 20", "bootstrap_replicas: 21"):
        jobs = planned_jobs(done_workdir)
    assert jobs == {"validation_pool": CASES * SEEDS, "validation_report": 1}
    with edited(done_workdir / "src/autopruner/validation/crossval.py", '"""', '"""An edit. '):
        jobs = planned_jobs(done_workdir)
    assert jobs == {"validation_pool": CASES * SEEDS, "validation_report": 1}
    assert not set(jobs) & DATA_RULES
    assert planned_jobs(done_workdir) == {}  # restored: up to date again
