"""Rule method_uniform: k nodes split evenly over the hidden layers, trained from scratch."""

from autopruner.joblog import job_log
from autopruner.training.methods import run_uniform

sm = snakemake  # noqa: F821
outputs = {"model": sm.output.model, "history": sm.output.history}
with job_log(sm.log[0]):
    run_uniform(sm.input.dataset, int(sm.wildcards.budget), outputs, sm.params.config, int(sm.wildcards.seed),
                sm.threads)
