"""Helpers of the workflow tests: a private copy of the workflow to run Snakemake in, and the job table of a dry run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from autopruner.config import REPO_ROOT

WORKFLOW_ITEMS = ("Snakefile", "workflow", "config", "src")


def copy_workflow(dest: Path) -> Path:
    """Copy the Snakefile, the rules, the configs and the package into ``dest`` (nothing built), with the numba
    kernels already compiled for the package (`share_numba_cache`); returns ``dest``."""
    for item in WORKFLOW_ITEMS:
        src = REPO_ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / item)
    share_numba_cache(REPO_ROOT / "src", dest / "src")
    return dest


def share_numba_cache(src: Path, copy: Path) -> None:
    """Give the package copied from ``src`` to ``copy`` the numba kernels compiled so far for the original.

    numba files a kernel's cache under a hash of its source file's absolute folder, so a copy of an unchanged package
    would compile every kernel again (the generator alone takes 1.5 min here, and the first two jobs of a workflow run
    would both compile it). The cache entries stay numba's own business: each is still checked against the sha256 of
    its source file and its bytecode, so a module the test edits in the copy compiles afresh. The root is the one the
    workflow's jobs inherit (``NUMBA_CACHE_DIR``, set by importing autopruner: keyed on the package source, which the
    copy shares). A numba that files its cache otherwise only makes the copy compile, as before.
    """
    from numba.core.caching import _CacheLocator

    root = Path(os.environ["NUMBA_CACHE_DIR"])
    for folder in sorted({path.parent for path in src.rglob("*.py")}):
        cached = root / _CacheLocator.get_suitable_cache_subpath(str(folder / "x.py"))
        if cached.is_dir():
            target = copy / folder.relative_to(src) / "x.py"
            shutil.copytree(cached, root / _CacheLocator.get_suitable_cache_subpath(str(target)), dirs_exist_ok=True)


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
