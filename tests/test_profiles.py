"""The cluster profiles (profiles/slurm, profiles/htcondor) at full scale, without a cluster: a dry run with each
executor plugin groups the per-shard jobs into batch jobs of tens of shards, gives every job the resources its
plugin reads and prints no warning; an HTCondor job's sandbox, made of what the profile transfers, parses."""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from autopruner.config import REPO_ROOT, load_config

pytestmark = pytest.mark.timeout(300)

PROFILES = ("slurm", "htcondor")
FULL = load_config(REPO_ROOT / "config/full.yaml")
SHARDS = {
    "generate": sum(FULL["generation"]["shards"].values()) + 2 * FULL["generation"]["calibration_shards"],
    "reconstruct": sum(FULL["generation"]["shards"].values()),
}
MIN_SHARDS_PER_BATCH_JOB = 20
RESOURCES = yaml.safe_load((REPO_ROOT / "workflow/resources.yaml").read_text())


def profile(name: str) -> dict:
    return yaml.safe_load((REPO_ROOT / "profiles" / name / "config.yaml").read_text())


def _env() -> dict[str, str]:
    # No HTCondor configuration on a development machine: say so, or importing the plugin's bindings warns.
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src"), "CONDOR_CONFIG": os.devnull}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A copy of the workflow and the profiles, so that no data or results of the checkout change the dry run."""
    workdir = tmp_path_factory.mktemp("profiles")
    for item in ("Snakefile", "workflow", "config", "profiles"):
        src = REPO_ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, workdir / item)
    return workdir


@pytest.fixture(scope="module", params=PROFILES)
def dry_run(request, workdir) -> tuple[str, str]:
    """(profile name, stdout + stderr) of `snakemake -n --workflow-profile profiles/NAME` at full scale."""
    cmd = [sys.executable, "-m", "snakemake", "--dry-run", "--workflow-profile", f"profiles/{request.param}",
           "--configfile", "config/full.yaml"]
    result = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=_env())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    return request.param, output


def batch_jobs(output: str) -> list[Counter]:
    """Rule -> job count of each batch job of a dry run: a group job, or a single job (its own Counter)."""
    jobs: list[Counter] = []
    for line in output.splitlines():
        if re.search(r"Group job \S+ \(jobs in lexicogr\. order\):$", line):
            jobs.append(Counter())
        elif m := re.fullmatch(r"    rule (\w+):", line):
            jobs[-1][m[1]] += 1
        elif m := re.fullmatch(r"rule (\w+):", line):
            jobs.append(Counter({m[1]: 1}))
    return jobs


def job_resources(output: str) -> list[tuple[str, dict[str, str]]]:
    """(rule, resources as printed) of every job of a dry run."""
    jobs, rule = [], None
    for line in output.splitlines():
        if m := re.fullmatch(r"\s*rule (\w+):", line):
            rule = m[1]
        elif m := re.fullmatch(r"\s*resources: (.*)", line):
            jobs.append((rule, dict(item.split("=", 1) for item in m[1].split(", "))))
    return jobs


def test_shard_jobs_are_grouped_into_batch_jobs_of_tens_of_shards(dry_run):
    name, output = dry_run
    jobs = batch_jobs(output)
    total = int(re.search(r"^total\s+(\d+)$", output, re.MULTILINE)[1])
    assert sum(sum(job.values()) for job in jobs) == total, "every job of the dry run is in exactly one batch job"
    for rule, n_shards in SHARDS.items():
        groups = [job[rule] for job in jobs if rule in job]
        assert all(set(job) == {rule} for job in jobs if rule in job), f"{name}: {rule} grouped with another rule"
        assert sum(groups) == n_shards
        assert len(groups) <= n_shards / MIN_SHARDS_PER_BATCH_JOB, f"{name}: {rule} in {len(groups)} batch jobs"
        assert min(groups) >= MIN_SHARDS_PER_BATCH_JOB, f"{name}: {rule} batch jobs of {sorted(groups)} shards"
    # 458 jobs become 7 + 7 shard batch jobs and the 38 others at full scale
    assert len(jobs) == total - sum(SHARDS.values()) + sum(math.ceil(n / 30) for n in SHARDS.values())


def test_every_job_has_the_resources_its_plugin_reads(dry_run):
    """Slurm reads mem_mb and runtime (else it warns and submits without); HTCondor reads htcondor_request_mem_mb."""
    name, output = dry_run
    needed = {"slurm": ("mem_mb", "runtime"), "htcondor": ("htcondor_request_mem_mb",)}[name]
    jobs = [(rule, res) for rule, res in job_resources(output) if rule != "all"]
    assert len(jobs) == int(re.search(r"^total\s+(\d+)$", output, re.MULTILINE)[1]) - 1
    for rule, res in jobs:
        for key in needed:
            assert res.get(key, "<TBD>").isdigit(), f"{name}: {rule} has no {key}: {res}"
        if name == "htcondor":
            assert int(res["htcondor_request_mem_mb"]) == RESOURCES[rule]["mem_mb"], rule


def test_dry_run_prints_no_warning(dry_run):
    name, output = dry_run
    warnings = [line for line in output.splitlines() if "warn" in line.lower()]
    assert not warnings, f"{name}: {warnings}"


def test_htcondor_memory_follows_resources_yaml():
    """The HTCondor plugin ignores mem_mb: the profile repeats workflow/resources.yaml's, per rule and attempt."""
    requested = {rule: res["htcondor_request_mem_mb"] for rule, res in profile("htcondor")["set-resources"].items()}
    assert requested == {rule: f"{res['mem_mb']} * attempt" for rule, res in RESOURCES.items()}


def test_htcondor_job_sandbox_parses(tmp_path):
    """An execute point without a shared filesystem gets the Snakefile, the config files, the job's inputs and what
    htcondor_transfer_input_files names; with those alone (and the package, which the image installs) a job's
    Snakemake parses the workflow and finds every rule's script."""
    settings = profile("htcondor")
    transferred = settings["default-resources"]["htcondor_transfer_input_files"].strip("'").split(",")
    for item in ("Snakefile", "config/config.yaml", "config/full.yaml", *transferred):
        src, dst = REPO_ROOT / item, tmp_path / item
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
    scripts = [smk.parent / script for smk in (tmp_path / "workflow/rules").glob("*.smk")
               for script in re.findall(r'^\s+script:\s*\n\s+"([^"]+)"', smk.read_text(), re.MULTILINE)]
    # every rule with its own script (rules derived with `use rule ... with:` run their parent's)
    assert len(scripts) == len(list((REPO_ROOT / "workflow/scripts").glob("*.py"))), "one rule per script"
    assert all(script.is_file() for script in scripts), [s for s in scripts if not s.is_file()]
    # the command the plugin runs (arguments abridged), in dry-run mode
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", "Snakefile",
           "--target-jobs", "generate:process=hbb,shard=shard000", "generate:process=qcd,shard=calib004",
           "--allowed-rules", "generate", "--cores", "4", "--force", "--nolock", "--mode", "remote",
           "--shared-fs-usage", "none", "--configfiles", "config/full.yaml", "config/config.yaml", "--dry-run"]
    result = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env=_env())
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    total = re.search(r"^total\s+(\d+)$", result.stdout, re.MULTILINE)
    assert total and total[1] == "2", result.stdout[-3000:]
