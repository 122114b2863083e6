"""Rule reconstruct: candidates (39 features + truth) and the cut flow of one analysis shard."""

import logging
import time

from autopruner.features import reconstruct_shard, write_candidates, write_cutflow

sm = snakemake  # noqa: F821
logging.basicConfig(filename=sm.log[0], level=logging.INFO, format="%(asctime)s %(message)s")
start = time.perf_counter()
candidates, cutflow = reconstruct_shard(sm.input.events, sm.input.templates, sm.config["reconstruction"])
write_candidates(sm.output.candidates, candidates)
write_cutflow(sm.output.cutflow, cutflow)
elapsed = time.perf_counter() - start
logging.info("%s: cut flow %s", sm.input.events, cutflow)
logging.info("%d events in %.1f s (%.0f events/s)", cutflow["events"], elapsed, cutflow["events"] / elapsed)
