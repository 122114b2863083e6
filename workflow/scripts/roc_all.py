"""Rule roc_all: results/roc_all.pdf, summary.csv, summary.md."""

from autopruner.roc_plots import ModelRecord, make_roc_all

sm = snakemake  # noqa: F821
make_roc_all(
    [ModelRecord(**r) for r in sm.params.records], sm.config, sm.output.pdf, sm.output.csv, sm.output.md
)
