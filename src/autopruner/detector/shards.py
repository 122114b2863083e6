"""One event shard end to end: the generator, the detector on its particles, the event file.

This is what the ``generate`` rule runs. The shard's random stream is spawned from the master seed and the shard's
identity, so every shard is reproducible on its own and independent of the others.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import autopruner
from autopruner import seeding
from autopruner.detector.simulation import simulate_detector
from autopruner.event_io import event_branches, write_events
from autopruner.generation.toy import generate_events


def shard_config_json(config: dict, process: str, shard: str) -> str:
    """JSON stored in the file: generation + detector settings, seed, spawn key, code version (sorted keys)."""
    kind, index = seeding.parse_shard(shard)
    payload = {
        "generation": config["generation"],
        "detector": config["detector"],
        "seed": int(config["seed"]),
        "process": process,
        "shard": shard,
        "spawn_key": list(seeding.spawn_key(process, kind, index)),
        "code_version": autopruner.__version__,
    }
    return json.dumps(payload, sort_keys=True)


def generate_shard(
    config: dict, process: str, shard: str, path: str | Path, n_events: int | None = None
) -> dict:
    """Generate, simulate and write one shard; returns statistics (events, seconds, events/s, objects/event).

    The shard's stream is spawned from config['seed'] and (process, kind, shard index); generator and detector draw from
    two children of it, so changing the detector never changes the generated particles.
    """
    kind, index = seeding.parse_shard(shard)
    n = int(config["generation"]["events_per_shard"] if n_events is None else n_events)
    rng = seeding.stream(config["seed"], process, kind, index)
    gen_rng, det_rng = rng.spawn(2)
    t0 = time.perf_counter()
    gen = generate_events(config, process, n, gen_rng)
    t1 = time.perf_counter()
    det = simulate_detector(gen.particles, config["detector"], det_rng)
    t2 = time.perf_counter()
    branches = event_branches(gen, det, seeding.event_id_base(process, kind, index))
    write_events(
        path, branches, shard_config_json(config, process, shard), f"{config['seed']}/{process}/{shard}"
    )
    t3 = time.perf_counter()
    return {
        "process": process,
        "shard": shard,
        "events": n,
        "seconds_generate": t1 - t0,
        "seconds_detector": t2 - t1,
        "seconds_write": t3 - t2,
        "seconds_total": t3 - t0,
        "events_per_s": n / max(t3 - t0, 1e-9),
        "particles_per_event": float(gen.particles.counts.mean()) if n else 0.0,
        "tracks_per_event": float(det.track_counts.mean()) if n else 0.0,
        "towers_per_event": float(det.tower_counts.mean()) if n else 0.0,
    }
