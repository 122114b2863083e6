"""Rule reduce: the plain reduced network of one pruned model."""

from contextlib import redirect_stderr, redirect_stdout

from autopruner.training import run_reduce

sm = snakemake  # noqa: F821
with open(sm.log[0], "w") as log, redirect_stdout(log), redirect_stderr(log):
    run_reduce(sm.input.model, sm.input.mask, sm.output.model)
