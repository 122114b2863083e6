"""Four-vector helpers shared by the generator tests."""

from __future__ import annotations

import numpy as np


def invariant_mass(p4: np.ndarray) -> np.ndarray:
    """Invariant masses of (..., 4) four-vectors (px, py, pz, E), rounding below zero clipped."""
    return np.sqrt(np.maximum(p4[..., 3] ** 2 - np.sum(p4[..., :3] ** 2, axis=-1), 0.0))
