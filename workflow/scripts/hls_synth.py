"""Rule hls_synth: synthesis_report.json (vendor C synthesis in a scratch folder, or the estimate)."""

from autopruner.firmware.synthesis import write_synthesis_report
from autopruner.joblog import job_log
from autopruner.training.tagger import configure_tensorflow

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    configure_tensorflow(sm.threads)
    report = write_synthesis_report(sm.input.project, sm.params.config, sm.output[0])
    log.info("source %s: %s", report["source"], {k: report[k] for k in ("DSP", "LUT", "FF", "latency_ns")})
