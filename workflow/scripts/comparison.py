"""Rule comparison: results/methods/comparison.csv, .pdf and .json."""

from autopruner.evaluation.comparison import write_comparison
from autopruner.joblog import job_log

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    summary = write_comparison(sm.params.entries, sm.input.metrics, sm.input.histories, sm.output.csv, sm.output.pdf,
                               sm.output.json, sm.input.rankings, sm.output.stability)
    log.info("%d rows; smallest budget within 1 sigma of the baseline (%s): %s", len(sm.params.entries),
             summary["headline_method"], summary["smallest_budget_within_1sigma"])
