"""Rule generate: one event shard (generator + detector) written to ROOT, with events/s in the log."""

import json

from autopruner.detector.shards import generate_shard
from autopruner.joblog import job_log

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    stats = generate_shard(sm.params.config, sm.wildcards.process, sm.wildcards.shard, sm.output[0])
    log.info("%s: %d events in %.2f s (%.0f events/s)", sm.output[0], stats["events"], stats["seconds_total"],
             stats["events_per_s"])
    log.info("stats %s", json.dumps(stats))
