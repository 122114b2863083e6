"""Rule reconstruct: candidates (39 features + truth) and the cut flow of one analysis shard."""

import time

from autopruner.joblog import job_log
from autopruner.reconstruction.features import reconstruct_shard, write_candidates, write_shard_cutflow

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    start = time.perf_counter()
    candidates, cutflow = reconstruct_shard(sm.input.events, sm.input.templates, sm.params.config["reconstruction"])
    write_candidates(sm.output.candidates, candidates)
    write_shard_cutflow(sm.output.cutflow, cutflow)
    elapsed = time.perf_counter() - start
    log.info("%s: cut flow %s", sm.input.events, cutflow)
    log.info("%d events in %.1f s (%.0f events/s)", cutflow["events"], elapsed, cutflow["events"] / elapsed)
