"""Rule feature_plots: feature pages, the summed cut flow and the single-feature AUCs on the test split."""

import logging

from autopruner.feature_plots import plot_features, single_feature_auc, write_cutflow
from autopruner.io_utils import write_json

sm = snakemake  # noqa: F821
logging.basicConfig(filename=sm.log[0], level=logging.INFO, format="%(asctime)s %(message)s")
pages = plot_features(sm.input.dataset, sm.output.pdf)
cutflow = write_cutflow(list(sm.input.cutflows), sm.output.cutflow)
aucs = single_feature_auc(sm.input.dataset)
write_json(sm.output.auc, dict(sorted(aucs.items(), key=lambda item: -item[1])))
logging.info("%d feature pages; cut flow %s", pages, cutflow)
logging.info("single-feature AUC (test split): %s", aucs)
