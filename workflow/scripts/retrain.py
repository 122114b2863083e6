"""Rule retrain: the reduced architecture of one budget trained from scratch."""

from contextlib import redirect_stderr, redirect_stdout

from autopruner.training import run_retrain

sm = snakemake  # noqa: F821
with open(sm.log[0], "w") as log, redirect_stdout(log), redirect_stderr(log):
    run_retrain(
        sm.input.dataset,
        sm.input.mask,
        sm.output.model,
        sm.output.history,
        sm.config,
        sm.params.seed,
        sm.threads,
    )
