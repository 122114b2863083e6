"""Rule hls_emulate: emulation.json and emulation_roc.pdf."""

from autopruner.firmware.hls import emulate
from autopruner.joblog import job_log
from autopruner.training.tagger import configure_tensorflow

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    configure_tensorflow(sm.threads)
    result = emulate(sm.input.project, sm.input.dataset, sm.params.config, sm.output.json, sm.output.pdf)
    log.info("float AUC %s, fixed AUC %s", result.get("float", {}).get("auc"), result.get("fixed", {}).get("auc"))
