"""Rule hls_summary: results/hls_summary.csv and results/hls_summary.pdf."""

from autopruner.firmware.summary import FILE_KEYS, HGQ_FILE_KEYS, entries_from_models, headline, make_hls_summary
from autopruner.joblog import job_log

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    # the HGQ2 designs' files are inputs only with firmware.quantization hgq
    files = {key: sm.input[key] for key in (*FILE_KEYS, *HGQ_FILE_KEYS) if key in sm.input.keys()}
    rows = make_hls_summary(entries_from_models(sm.params.models, files), sm.output.csv, sm.output.pdf)
    for row in rows:
        log.info("%s %s (%s): LUT %s, FF %s, DSP %s, %s ns, rejection %s", row["model"], row["implementation"],
                 row["source"] or row["reason"], row["LUT"], row["FF"], row["DSP"], row["latency_ns"],
                 row["rejection_50_firmware"])
    best = headline(rows)
    if best is not None:
        log.info("best compressed network (AutoPruner + HGQ2): %s", best)
