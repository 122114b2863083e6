"""One event shard end to end: a generator backend, the detector on its particles, the event file.

This is what the ``generate`` rule runs. The shard's random stream is spawned from the master seed and the shard's
identity, so every shard is reproducible on its own and independent of the others. ``generation.backend`` picks the
generator (the toy or Pythia 8); `write_shard` turns any generator's output into the event file, so both backends write
the same layout through the same code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import autopruner
from autopruner import seeding
from autopruner.detector.simulation import DetectorResponse, DetectorSimulation
from autopruner.event_io import event_branches, write_events
from autopruner.generation import backend_module
from autopruner.generation.events import EventTruth, GeneratedEvents, concatenate_truth
from autopruner.memory import keep_freed_memory


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


#: events the toy generates per chunk of a shard: each chunk's particle table (~65 bytes per particle, ~500 particles
#: per event) is dropped once the detector has taken what it needs, and the next chunk reuses its memory; the shard's
#: bytes do not depend on it (`autopruner.detector.simulation.DetectorSimulation`)
CHUNK_EVENTS = 1000


@dataclass
class SimulatedShard:
    """A shard's events after the detector: what the event file holds, and the CPU time of each step [s]."""

    truth: EventTruth
    response: DetectorResponse
    seconds_generate: float
    seconds_detector: float


def simulate_shard(chunks: Iterable[GeneratedEvents], det_cfg: dict, det_rng: np.random.Generator,
                   events_expected: int = 0) -> SimulatedShard:
    """The detector's response to a generator's events, taken a chunk at a time in event order (`DetectorSimulation`,
    whose buffers ``events_expected`` sizes): each chunk's particle table is released before the next chunk is
    generated. The times are the process's CPU time spent generating (inside ``chunks``) and simulating."""
    simulation = DetectorSimulation(det_cfg, events_expected)
    truth: list[EventTruth] = []
    seconds_generate = seconds_detector = 0.0
    chunk_iter = iter(chunks)
    while True:
        t0 = time.process_time()
        chunk = next(chunk_iter, None)
        t1 = time.process_time()
        seconds_generate += t1 - t0
        if chunk is None:
            break
        simulation.add(chunk.particles)
        truth.append(EventTruth.of(chunk))
        del chunk  # the particle table goes now, before the next chunk is generated
        seconds_detector += time.process_time() - t1
    t2 = time.process_time()
    response = simulation.finish(det_rng)
    seconds_detector += time.process_time() - t2
    return SimulatedShard(concatenate_truth(truth), response, seconds_generate, seconds_detector)


def write_simulated_shard(path: str | Path, shard_events: SimulatedShard, config: dict, process: str,
                          shard: str) -> dict:
    """Write a simulated shard's event file; returns the time it took and the objects per event. The file stores the
    config, the backend and the generator's report (``EventTruth.generator``) as its ``generator_config``."""
    kind, index = seeding.parse_shard(shard)
    truth, det = shard_events.truth, shard_events.response
    t0 = time.perf_counter()
    branches = event_branches(truth, det, seeding.event_id_base(process, kind, index))
    config_json = shard_config_json(config, process, shard, truth.generator)
    write_events(path, branches, config_json, f"{config['seed']}/{process}/{shard}")
    n = truth.n_events
    return {
        "seconds_write": time.perf_counter() - t0,
        "particles_per_event": float(truth.particle_counts.mean()) if n else 0.0,
        "tracks_per_event": float(det.track_counts.mean()) if n else 0.0,
        "towers_per_event": float(det.tower_counts.mean()) if n else 0.0,
    }


def write_shard(path: str | Path, generated: GeneratedEvents, config: dict, process: str, shard: str,
                det_rng: np.random.Generator) -> dict:
    """Simulate the detector on a generator's events and write the shard's event file; returns timings and sizes.

    ``generated`` may come from any backend; ``det_rng`` is the shard's detector stream. The file is the one
    `generate_shard` writes for the same events, however those were chunked.
    """
    simulated = simulate_shard([generated], config["detector"], det_rng, generated.particles.n_events)
    return {"seconds_detector": simulated.seconds_detector,
            **write_simulated_shard(path, simulated, config, process, shard)}


def generate_shard(
    config: dict, process: str, shard: str, path: str | Path, n_events: int | None = None
) -> dict:
    """Generate, simulate and write one shard; returns statistics (events, seconds, events/s, objects/event).

    The shard's stream is spawned from config['seed'] and (process, kind, shard index); generator and detector draw from
    two children of it, so changing the detector never changes the generated particles. The generator is
    ``config['generation']['backend']``; its events reach the detector `CHUNK_EVENTS` at a time (`simulate_shard`),
    with glibc told to keep the memory each chunk frees for the next (`keep_freed_memory`).
    """
    backend = config["generation"]["backend"]
    generate_event_chunks = backend_module(backend).generate_event_chunks
    kind, index = seeding.parse_shard(shard)
    n = int(config["generation"]["events_per_shard"] if n_events is None else n_events)
    gen_rng, det_rng = seeding.stream(config["seed"], process, kind, index).spawn(2)
    keep_freed_memory()
    t0 = time.perf_counter()
    simulated = simulate_shard(generate_event_chunks(config, process, n, gen_rng, CHUNK_EVENTS), config["detector"],
                               det_rng, n)
    t1 = time.perf_counter()
    stats = write_simulated_shard(path, simulated, config, process, shard)
    t2 = time.perf_counter()
    return {
        "process": process,
        "shard": shard,
        "backend": backend,
        "events": n,
        "seconds_generate": simulated.seconds_generate,
        "seconds_detector": simulated.seconds_detector,
        "seconds_total": t2 - t0,
        "events_per_s": n / max(t2 - t0, 1e-9),
        "events_per_s_generate_detector": n / max(t1 - t0, 1e-9),
        **stats,
    }
