"""Rule feature_ranking: input-layer pruning at each feature budget, ranking JSON and PDF."""

from autopruner.joblog import job_log
from autopruner.training.steps import run_feature_ranking

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    run_feature_ranking(sm.input.dataset, sm.input.reference, sm.output.json, sm.output.pdf, sm.params.config,
                        int(sm.wildcards.seed), sm.threads)
