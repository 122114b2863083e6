"""Rule validation_pool: the fold models' out-of-fold scores on one sample, pooled, and their metrics."""

from autopruner.joblog import job_log
from autopruner.validation.crossval import run_pool

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    result = run_pool(sm.input.models, sm.input.histories, sm.input.dataset, sm.params.config,
                      sm.wildcards.trained == sm.wildcards.tested, sm.output.metrics, sm.output.scores, sm.threads)
    r50, folds = result["rejection"]["0.5"], result["folds"]["rejection"]["0.5"]
    log.info("%s on %s: AUC %.4f, r50 %s +- %s pooled; per fold %s (std %s)", sm.wildcards.trained,
             sm.wildcards.tested, result["auc"], r50["value"], r50["err"], folds["values"], folds["std"])
