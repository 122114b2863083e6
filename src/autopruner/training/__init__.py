"""Stage 3, training: the tagger, the AutoPruner gates and loss, reduction and retraining of pruned networks."""
