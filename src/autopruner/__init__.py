"""AutoPruner: a boosted H->bb tagger pruned during training to an exact node budget, from toy events to firmware."""

__version__ = "0.1.0"
