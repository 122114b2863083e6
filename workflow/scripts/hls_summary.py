"""Rule hls_summary: results/hls_summary.csv and results/hls_summary.pdf."""

from autopruner.hls_summary import HlsEntry, make_hls_summary

sm = snakemake  # noqa: F821
entries = []
for name, report, emulation in zip(sm.params.models, sm.input.reports, sm.input.emulations, strict=True):
    budget, _, kind = name.partition("_")
    entries.append(
        HlsEntry(name, kind or "baseline", 100 if name == "baseline" else int(budget[6:]), report, emulation)
    )
make_hls_summary(entries, sm.output.csv, sm.output.pdf)
