"""`snakemake --lint` finds nothing but the per-rule software environment (one environment serves all rules)."""

from __future__ import annotations

import subprocess
import sys

from autopruner.config import REPO_ROOT

#: the one lint accepted: every rule runs in the project's own environment (README, "One environment")
ACCEPTED = {"Specify a conda environment or container for each rule."}


def test_snakemake_lint_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint", "--configfile", "config/tiny.yaml"],
        cwd=REPO_ROOT, capture_output=True, text=True,
    )
    output = result.stdout + result.stderr
    lints = {line.strip()[2:].rstrip(":") for line in output.splitlines() if line.startswith("    * ")}
    assert lints, f"the lint printed nothing recognisable:\n{output[-3000:]}"
    assert lints <= ACCEPTED, f"unexpected lints: {lints - ACCEPTED}\n{output[-6000:]}"
