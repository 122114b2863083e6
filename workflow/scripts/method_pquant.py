"""Rule method_pquant: PQuant's PDP structured pruning to the budget, sliced to a plain tagger."""

from autopruner.joblog import job_log
from autopruner.training.pquant_pdp import run_pquant

sm = snakemake  # noqa: F821
outputs = {"model": sm.output.model, "history": sm.output.history}
with job_log(sm.log[0]):
    run_pquant(sm.input.dataset, int(sm.wildcards.budget), outputs, sm.params.config, int(sm.wildcards.seed),
               sm.threads)
