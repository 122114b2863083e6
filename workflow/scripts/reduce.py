"""Rule reduce: the plain reduced network of one pruned model."""

from autopruner.joblog import job_log
from autopruner.training.steps import run_reduce

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    run_reduce(sm.input.model, sm.input.mask, sm.output.model, sm.threads)
