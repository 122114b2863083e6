"""Stage 4, evaluation: test-split scores, ROC metrics with bootstrap uncertainties, ROC comparison plots."""
