"""Rule train_baseline: the unpruned tagger and its history.json."""

from contextlib import redirect_stderr, redirect_stdout

from autopruner.training import run_train_baseline

sm = snakemake  # noqa: F821
with open(sm.log[0], "w") as log, redirect_stdout(log), redirect_stderr(log):
    run_train_baseline(sm.input.dataset, sm.output.model, sm.output.history, sm.config, sm.params.seed, sm.threads)
