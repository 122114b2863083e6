"""Rule train_autopruner: pruned.keras, mask.json, history.json and training.pdf of one budget."""

from contextlib import redirect_stderr, redirect_stdout

from autopruner.training import run_train_autopruner

sm = snakemake  # noqa: F821
outputs = {
    "model": sm.output.model,
    "mask": sm.output.mask,
    "history": sm.output.history,
    "plot": sm.output.plot,
}
with open(sm.log[0], "w") as log, redirect_stdout(log), redirect_stderr(log):
    run_train_autopruner(sm.input.dataset, int(sm.wildcards.budget), outputs, sm.config, sm.params.seed, sm.threads)
