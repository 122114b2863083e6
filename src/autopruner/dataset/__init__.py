"""Stage 2b, the dataset: merged candidates with a reproducible split and p_T weights, and data-quality plots."""
