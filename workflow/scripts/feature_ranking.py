"""Rule feature_ranking: input-layer pruning at each feature budget, ranking JSON and PDF."""

from contextlib import redirect_stderr, redirect_stdout

from autopruner.training import run_feature_ranking

sm = snakemake  # noqa: F821
with open(sm.log[0], "w") as log, redirect_stdout(log), redirect_stderr(log):
    run_feature_ranking(
        sm.input.dataset,
        sm.input.reference,
        sm.output.json,
        sm.output.pdf,
        sm.config,
        sm.params.seed,
        sm.threads,
    )
