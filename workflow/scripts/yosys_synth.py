"""Rule yosys_synth: yosys_report.json (Yosys cell counts, or a skipped report with its reason)."""

from autopruner.firmware.yosys import synthesize_design
from autopruner.io_utils import write_json
from autopruner.joblog import job_log

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    report = synthesize_design(sm.input.rtl, sm.params.config["firmware"],
                               float(sm.params.config["hls4ml"]["clock_period_ns"]))
    write_json(sm.output[0], report)
    if report["status"] == "skipped":
        log.warning("synthesis skipped: %s", report["reason"])
    else:
        log.info("%s: LUT %s, FF %s, CARRY %s, DSP %s in %.0f s", report["source"], report["LUT"], report["FF"],
                 report["CARRY"], report["DSP"], report["synthesis_s"])
