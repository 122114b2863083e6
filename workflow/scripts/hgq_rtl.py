"""Rule hgq_rtl: results/hls/{variant}/{kind}/hgq/rtl/ and da_report.json (da4ml's estimate of the HGQ2 design)."""

from autopruner.firmware.hgq import make_design
from autopruner.joblog import job_log

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    report = make_design(sm.input.model, sm.input.project, sm.params.config["firmware"], sm.params.config["hls4ml"],
                         sm.output.rtl, sm.output.report)
    log.info("%s: cost %s, FF %s, %s stages, traced in %.1f s", report["source"], report["LUT"], report["FF"],
             report["latency_cycles"], report["trace_s"])
