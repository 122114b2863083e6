"""One event shard end to end: a generator backend, the detector on its particles, the event file.

This is what the ``generate`` rule runs. The shard's random stream is spawned from the master seed and the shard's
identity, so every shard is reproducible on its own and independent of the others. ``generation.backend`` picks the
generator (the toy or Pythia 8); `write_shard` turns any generator's output into the event file, so both backends write
the same layout through the same code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

import autopruner
from autopruner import seeding
from autopruner.detector.simulation import simulate_detector
from autopruner.event_io import event_branches, write_events
from autopruner.generation import backend_module
from autopruner.generation.events import GeneratedEvents


def shard_config_json(config: dict, process: str, shard: str, generator: Mapping[str, Any] | None = None) -> str:
    """JSON stored in the file: generation + detector settings, backend and what it reports (``generator``, e.g.
    Pythia's version and seed), seed, spawn key, code version (sorted keys)."""
    kind, index = seeding.parse_shard(shard)
    payload = {
        "generation": config["generation"],
        "detector": config["detector"],
        "backend": config["generation"]["backend"],
        "generator": dict(generator or {}),
        "seed": int(config["seed"]),
        "process": process,
        "shard": shard,
        "spawn_key": list(seeding.spawn_key(process, kind, index)),
        "code_version": autopruner.__version__,
    }
    return json.dumps(payload, sort_keys=True)


def write_shard(path: str | Path, generated: GeneratedEvents, config: dict, process: str, shard: str,
                det_rng: np.random.Generator) -> dict:
    """Simulate the detector on a generator's events and write the shard's event file; returns timings and sizes.

    ``generated`` may come from any backend; ``det_rng`` is the shard's detector stream. The file stores the config,
    the backend and ``generated.generator`` as its ``generator_config``.
    """
    kind, index = seeding.parse_shard(shard)
    t0 = time.perf_counter()
    det = simulate_detector(generated.particles, config["detector"], det_rng)
    t1 = time.perf_counter()
    branches = event_branches(generated, det, seeding.event_id_base(process, kind, index))
    config_json = shard_config_json(config, process, shard, generated.generator)
    write_events(path, branches, config_json, f"{config['seed']}/{process}/{shard}")
    t2 = time.perf_counter()
    n = generated.particles.n_events
    return {
        "seconds_detector": t1 - t0,
        "seconds_write": t2 - t1,
        "particles_per_event": float(generated.particles.counts.mean()) if n else 0.0,
        "tracks_per_event": float(det.track_counts.mean()) if n else 0.0,
        "towers_per_event": float(det.tower_counts.mean()) if n else 0.0,
    }


def generate_shard(
    config: dict, process: str, shard: str, path: str | Path, n_events: int | None = None
) -> dict:
    """Generate, simulate and write one shard; returns statistics (events, seconds, events/s, objects/event).

    The shard's stream is spawned from config['seed'] and (process, kind, shard index); generator and detector draw from
    two children of it, so changing the detector never changes the generated particles. The generator is
    ``config['generation']['backend']``.
    """
    backend = config["generation"]["backend"]
    generate_events = backend_module(backend).generate_events
    kind, index = seeding.parse_shard(shard)
    n = int(config["generation"]["events_per_shard"] if n_events is None else n_events)
    gen_rng, det_rng = seeding.stream(config["seed"], process, kind, index).spawn(2)
    t0 = time.perf_counter()
    generated = generate_events(config, process, n, gen_rng)
    t1 = time.perf_counter()
    stats = write_shard(path, generated, config, process, shard, det_rng)
    t2 = time.perf_counter()
    return {
        "process": process,
        "shard": shard,
        "backend": backend,
        "events": n,
        "seconds_generate": t1 - t0,
        "seconds_total": t2 - t0,
        "events_per_s": n / max(t2 - t0, 1e-9),
        "events_per_s_generate": n / max(t1 - t0, 1e-9),
        **stats,
    }
