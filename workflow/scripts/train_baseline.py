"""Rule train_baseline: the unpruned tagger and its history.json."""

from autopruner.joblog import job_log
from autopruner.training.steps import run_train_baseline

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    run_train_baseline(sm.input.dataset, sm.output.model, sm.output.history, sm.params.config,
                       int(sm.wildcards.seed), sm.threads)
