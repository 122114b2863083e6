"""Rule evaluate: metrics.json and scores.npz of one model on the test split."""

from autopruner.evaluation import evaluate_model

sm = snakemake  # noqa: F821
evaluate_model(sm.input.model, sm.input.dataset, sm.config, sm.output.metrics, sm.output.scores)
