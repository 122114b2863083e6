"""Rule dataset: merge the candidate files into results/dataset.root (split + train_weight)."""

import logging

from autopruner.dataset import merge_candidates

sm = snakemake  # noqa: F821
logging.basicConfig(filename=sm.log[0], level=logging.INFO, format="%(asctime)s %(message)s")
counts = merge_candidates(list(sm.input), sm.params.split, sm.params.pt_bins_gev, sm.output[0])
logging.info("merged %d files: candidates per split %s", len(sm.input), counts)
