"""Rule retrain: the reduced architecture of one budget trained from scratch."""

from autopruner.joblog import job_log
from autopruner.training.steps import run_retrain

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    run_retrain(sm.input.dataset, sm.input.mask, sm.output.model, sm.output.history, sm.params.config,
                int(sm.wildcards.seed), sm.threads)
