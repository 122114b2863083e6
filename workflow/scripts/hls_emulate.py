"""Rule hls_emulate: emulation.json and emulation_roc.pdf."""

from autopruner.firmware import emulate

sm = snakemake  # noqa: F821
emulate(sm.input.project, sm.input.dataset, sm.config, sm.output.json, sm.output.pdf)
