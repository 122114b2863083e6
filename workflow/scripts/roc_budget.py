"""Rule roc_budget: results/seed{S}/budget{B}/roc.pdf."""

from autopruner.evaluation.roc_plots import ModelRecord, make_budget_pdf
from autopruner.joblog import job_log

sm = snakemake  # noqa: F821
budget = int(sm.wildcards.budget)
records = [
    ModelRecord(kind, None if kind == "baseline" else budget, None, *files)
    for kind, files in (("baseline", sm.input.baseline), ("pruned", sm.input.pruned), ("retrained", sm.input.retrained))
]
with job_log(sm.log[0]) as log:
    make_budget_pdf(*records, sm.params.config, sm.output[0])
    log.info("budget %d %%: %s from %s", budget, sm.output[0], [r.metrics_path for r in records])
