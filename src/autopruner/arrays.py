"""Flat-array helpers for jagged data: one place for the counts -> offsets idiom and its inverse.

Reconstruction stores per-event and per-jet lists as one flat array plus offsets (CSR layout), which numba kernels and
numpy fancy indexing consume directly.
"""

from __future__ import annotations

import numpy as np


def offsets_from_counts(counts: np.ndarray) -> np.ndarray:
    """Row start offsets (length n + 1, int64, first 0, last the total) of rows holding ``counts`` items each."""
    return np.concatenate([[0], np.cumsum(np.asarray(counts, dtype=np.int64))]).astype(np.int64)


def local_index(counts: np.ndarray) -> np.ndarray:
    """For each item of the flat array, its position inside its own row (0, 1, ... per row)."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.arange(counts.sum()) - np.repeat(offsets_from_counts(counts)[:-1], counts)
