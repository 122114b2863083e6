"""Rule generate: one event shard (generator + detector) written to ROOT, with events/s in the log."""

import json
import logging

from autopruner.event_io import generate_shard

sm = snakemake  # noqa: F821
logging.basicConfig(filename=sm.log[0], level=logging.INFO, format="%(asctime)s %(message)s")
config = {"generation": sm.params.generation, "detector": sm.params.detector, "seed": sm.params.seed}
stats = generate_shard(config, sm.wildcards.process, sm.wildcards.shard, sm.output[0])
logging.info(
    "%s: %d events in %.2f s (%.0f events/s)",
    sm.output[0],
    stats["events"],
    stats["seconds_total"],
    stats["events_per_s"],
)
logging.info("stats %s", json.dumps(stats))
