"""Rule method_search: random search over layouts of k hidden nodes, the best trial kept."""

from autopruner.joblog import job_log
from autopruner.training.methods import run_search

sm = snakemake  # noqa: F821
outputs = {"model": sm.output.model, "history": sm.output.history}
with job_log(sm.log[0]):
    run_search(sm.input.dataset, int(sm.wildcards.budget), outputs, sm.params.config, int(sm.wildcards.seed),
               sm.threads)
