"""Rule feature_plots: feature pages, the summed cut flow and the single-feature AUCs on the test split."""

from autopruner.dataset.plots import plot_features, single_feature_auc, write_cutflow_table
from autopruner.io_utils import write_json
from autopruner.joblog import job_log

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    pages = plot_features(sm.input.dataset, sm.output.pdf)
    cutflow = write_cutflow_table(list(sm.input.cutflows), sm.output.cutflow)
    aucs = single_feature_auc(sm.input.dataset)
    write_json(sm.output.auc, dict(sorted(aucs.items(), key=lambda item: -item[1])))
    log.info("%d feature pages; cut flow %s", pages, cutflow)
    log.info("single-feature AUC (test split): %s", aucs)
