"""Rule evaluate: metrics.json and scores.npz of one model on the test split."""

from autopruner.evaluation.scoring import evaluate_model
from autopruner.joblog import job_log
from autopruner.training.tagger import configure_tensorflow

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    configure_tensorflow(sm.threads)
    result = evaluate_model(sm.input.model, sm.input.dataset, sm.params.config, sm.output.metrics, sm.output.scores)
    log.info("AUC %.5f, size %s", result["auc"], result["size"])
