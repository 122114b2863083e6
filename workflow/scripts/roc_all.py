"""Rule roc_all: results/roc_all.pdf, summary.csv, summary.md."""

from autopruner.evaluation.roc_plots import make_roc_all, records_from_models
from autopruner.joblog import job_log

sm = snakemake  # noqa: F821
records = records_from_models(sm.params.models, sm.params.primary_seed, sm.input.metrics, sm.input.scores)
with job_log(sm.log[0]) as log:
    make_roc_all(records, sm.params.config, sm.output.pdf, sm.output.csv, sm.output.md)
    log.info("%d models: %s, %s, %s", len(records), sm.output.pdf, sm.output.csv, sm.output.md)
