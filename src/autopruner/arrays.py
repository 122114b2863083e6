"""Flat-array helpers for jagged data: one place for the counts -> offsets idiom and its inverse.

Reconstruction stores per-event and per-jet lists as one flat array plus offsets (CSR layout), which numba kernels and
numpy fancy indexing consume directly.
"""

from __future__ import annotations

import numpy as np

from autopruner.jit import njit_hot


def offsets_from_counts(counts: np.ndarray) -> np.ndarray:
    """Row start offsets (length n + 1, int64, first 0, last the total) of rows holding ``counts`` items each."""
    return np.concatenate([[0], np.cumsum(np.asarray(counts, dtype=np.int64))]).astype(np.int64)


def local_index(counts: np.ndarray) -> np.ndarray:
    """For each item of the flat array, its position inside its own row (0, 1, ... per row)."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.arange(counts.sum()) - np.repeat(offsets_from_counts(counts)[:-1], counts)


@njit_hot
def grown_capacity(capacity: int, need: int, events_done: int, events_expected: int) -> int:
    """The rows to grow a buffer of ``capacity`` rows to, once ``need`` rows are needed after ``events_done`` of
    ``events_expected`` events: at least ``need`` and half again the old capacity, and what ``need`` projects for all
    the events (with 10 % to spare) if that is more, so a buffer whose first events guessed well is copied at most
    once. The toy generator's particle columns and the detector's shard buffers grow by it."""
    projected = int(1.1 * need / max(events_done, 1) * events_expected)
    return max(need, projected, capacity + capacity // 2)
