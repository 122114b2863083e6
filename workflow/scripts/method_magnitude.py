"""Rule method_magnitude: the seed's baseline pruned neuron by neuron to the budget."""

from autopruner.joblog import job_log
from autopruner.training.methods import run_magnitude

sm = snakemake  # noqa: F821
outputs = {"model": sm.output.model, "history": sm.output.history}
with job_log(sm.log[0]):
    run_magnitude(sm.input.dataset, sm.input.baseline, sm.input.baseline_history, int(sm.wildcards.budget), outputs,
                  sm.params.config, int(sm.wildcards.seed), sm.threads)
