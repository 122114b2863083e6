"""Reproducible random streams: one independent numpy Generator per (process, kind, shard)."""

from __future__ import annotations

import numpy as np

PROCESS_INDEX = {"qcd": 0, "hbb": 1}
KIND_INDEX = {"analysis": 0, "calibration": 1}


def spawn_key(process: str, kind: str, shard_index: int) -> tuple[int, int, int]:
    """The SeedSequence spawn key of a shard, stored in the event file so any stream can be rebuilt."""
    if process not in PROCESS_INDEX:
        raise ValueError(f"unknown process {process!r}; expected one of {sorted(PROCESS_INDEX)}")
    if kind not in KIND_INDEX:
        raise ValueError(f"unknown shard kind {kind!r}; expected one of {sorted(KIND_INDEX)}")
    if shard_index < 0:
        raise ValueError(f"shard index must be >= 0, got {shard_index}")
    return (PROCESS_INDEX[process], KIND_INDEX[kind], int(shard_index))


def stream(master_seed: int, process: str, kind: str, shard_index: int) -> np.random.Generator:
    """Independent PCG64 Generator for one shard, spawned from the master seed (no state shared between shards)."""
    seq = np.random.SeedSequence(int(master_seed), spawn_key=spawn_key(process, kind, shard_index))
    return np.random.Generator(np.random.PCG64(seq))


def parse_shard(shard: str) -> tuple[str, int]:
    """Split a shard name ('shard003', 'calib000') into its kind ('analysis'/'calibration') and index."""
    for prefix, kind in (("shard", "analysis"), ("calib", "calibration")):
        if shard.startswith(prefix) and shard[len(prefix) :].isdigit():
            return kind, int(shard[len(prefix) :])
    raise ValueError(f"bad shard name {shard!r}: expected 'shardNNN' or 'calibNNN'")


def event_id_base(process: str, kind: str, shard_index: int) -> int:
    """High bits of the event ids of a shard: process_index<<40 | kind<<32 | shard<<20 (design.md)."""
    p, k, s = spawn_key(process, kind, shard_index)
    if s >= 1 << 12:
        raise ValueError(f"shard index {s} does not fit the 12 bits of the event id")
    return (p << 40) | (k << 32) | (s << 20)
