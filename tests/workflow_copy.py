"""Helpers of the workflow tests: a private copy of the workflow to run Snakemake in, and the job table of a dry run."""

from __future__ import annotations

import shutil
from pathlib import Path

from autopruner.config import REPO_ROOT

WORKFLOW_ITEMS = ("Snakefile", "workflow", "config", "src")


def copy_workflow(dest: Path) -> Path:
    """Copy the Snakefile, the rules, the configs and the package into ``dest`` (nothing built); returns ``dest``."""
    for item in WORKFLOW_ITEMS:
        src = REPO_ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / item)
    return dest


def job_stats(output: str) -> dict[str, int]:
    """Rule -> job count from the "Job stats:" table of Snakemake's output (empty when nothing is planned)."""
    if "Job stats:" not in output:
        return {}
    counts = {}
    for line in output.split("Job stats:", 1)[1].splitlines()[3:]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        counts[parts[0]] = int(parts[1])
    return counts
