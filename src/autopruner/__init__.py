"""AutoPruner: a boosted H->bb tagger pruned during training to an exact node budget, from toy events to firmware."""

import os

# TensorFlow's C++ start-up banners (oneDNN, CPU features) would fill every job log; warnings and errors stay.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
