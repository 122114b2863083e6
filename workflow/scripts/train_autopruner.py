"""Rule train_autopruner: pruned.keras, mask.json, history.json and training.pdf of one budget."""

from autopruner.joblog import job_log
from autopruner.training.steps import run_train_autopruner

sm = snakemake  # noqa: F821
outputs = {"model": sm.output.model, "mask": sm.output.mask, "history": sm.output.history, "plot": sm.output.plot}
with job_log(sm.log[0]):
    run_train_autopruner(sm.input.dataset, int(sm.wildcards.budget), outputs, sm.params.config,
                         int(sm.wildcards.seed), sm.threads)
