"""Rule hls_project: results/hls/{variant}/{kind}/project/ (timings in the log)."""

from autopruner.firmware.hls import make_project_from_files
from autopruner.joblog import job_log
from autopruner.training.tagger import configure_tensorflow

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    configure_tensorflow(sm.threads)
    timings = make_project_from_files(sm.input.model, sm.input.dataset, sm.params.config, sm.output[0])
    log.info("timings %s", timings)
