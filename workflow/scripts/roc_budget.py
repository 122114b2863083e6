"""Rule roc_budget: results/budget{B}/roc.pdf."""

from autopruner.roc_plots import ModelRecord, make_budget_pdf

sm = snakemake  # noqa: F821
budget = int(sm.wildcards.budget)
records = [
    ModelRecord(kind, None if kind == "baseline" else budget, None, files[0], files[1])
    for kind, files in (
        ("baseline", sm.input.baseline),
        ("pruned", sm.input.pruned),
        ("retrained", sm.input.retrained),
    )
]
make_budget_pdf(*records, sm.config, sm.output[0])
