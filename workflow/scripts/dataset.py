"""Rule dataset: merge the candidate files into results/dataset.root (split + train_weight)."""

from autopruner.dataset.merge import merge_candidates
from autopruner.joblog import job_log

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    section = sm.params.config["dataset"]
    counts = merge_candidates(list(sm.input), section["split"], section["flatten_pt_bins_gev"], sm.output[0])
    log.info("merged %d files: candidates per split %s", len(sm.input), counts)
