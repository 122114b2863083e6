"""Rule hls_summary: results/hls_summary.csv and results/hls_summary.pdf."""

from autopruner.firmware.summary import entries_from_models, make_hls_summary
from autopruner.joblog import job_log

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    rows = make_hls_summary(entries_from_models(sm.params.models, sm.input.reports, sm.input.emulations),
                            sm.output.csv, sm.output.pdf)
    for row in rows:
        log.info("%s: DSP %s, LUT %s, FF %s, %s ns (%s)", row["model"], row["DSP"], row["LUT"], row["FF"],
                 row["latency_ns"], row["source"])
