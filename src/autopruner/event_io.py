"""Event files: write a generated + simulated shard to ROOT (design.md "Event file"), read it back.

Files are byte-for-byte reproducible: the TFile/TDirectory UUID is derived from the shard's identity, every
TDatime uproot would take from the wall clock is pinned to a fixed date while the file is written, and uproot
writes to an open file object so the random temporary file name is not stored in the header.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

import autopruner
from autopruner import seeding
from autopruner.detector import DetectorResponse, simulate_detector
from autopruner.generator import GeneratedEvents, generate_events
from autopruner.io_utils import CorruptInputError, atomic_output, require_file

TREE_NAME = "events"
CONFIG_NAME = "generator_config"
FIXED_DATIME = datetime.datetime(2000, 1, 1, 0, 0, 0)  # written into every TDatime field of an event file

TRACK_FIELDS = (
    "pt",
    "eta",
    "phi",
    "charge",
    "d0",
    "z0",
    "d0_err",
    "z0_err",
    "pdgid",
    "origin",
    "hadron_index",
    "e",
)
TOWER_FIELDS = ("e", "pt", "eta", "phi", "e_em", "e_had")
PARTON_FIELDS = {
    "pt": np.float32,
    "eta": np.float32,
    "phi": np.float32,
    "m": np.float32,
    "pdgid": np.int32,
    "role": np.int8,
}
HADRON_FIELDS = {
    "pt": np.float32,
    "eta": np.float32,
    "phi": np.float32,
    "m": np.float32,
    "pdgid": np.int32,
    "flavour": np.int8,
    "parent": np.int32,
    "prod_x": np.float32,
    "prod_y": np.float32,
    "prod_z": np.float32,
    "decay_x": np.float32,
    "decay_y": np.float32,
    "decay_z": np.float32,
}


@contextlib.contextmanager
def deterministic_uproot() -> Iterator[None]:
    """Pin the TDatime fields uproot takes from datetime.now() (all go through
    uproot._util.datetime_to_code)."""
    original = uproot._util.datetime_to_code
    fixed = original(FIXED_DATIME)
    uproot._util.datetime_to_code = lambda dt: fixed
    try:
        yield
    finally:
        uproot._util.datetime_to_code = original


def file_uuid(key: str) -> uuid.UUID:
    """Deterministic UUID for a file from a string key (the shard's identity)."""
    return uuid.UUID(bytes=hashlib.sha256(key.encode()).digest()[:16])


def _jagged(fields: dict[str, np.ndarray], counts: np.ndarray) -> ak.Array:
    """Record of jagged arrays (one list per event) from flat arrays and counts."""
    return ak.unflatten(ak.zip(fields, depth_limit=1), np.asarray(counts, dtype=np.int64))


def event_branches(
    gen: GeneratedEvents, det: DetectorResponse, event_id_base: int, weight: float = 1.0
) -> dict:
    """The `events` tree's branches (design.md): scalars plus jagged track/tower/parton/hadron records."""
    n = gen.particles.n_events
    pv = gen.particles.pv
    return {
        "event_id": np.uint64(event_id_base) + np.arange(n, dtype=np.uint64),
        "process_id": np.full(n, gen.process_id, dtype=np.int32),
        "weight": np.full(n, weight, dtype=np.float64),
        "pv_x": pv[:, 0].astype(np.float32),
        "pv_y": pv[:, 1].astype(np.float32),
        "pv_z": pv[:, 2].astype(np.float32),
        "track": _jagged({k: det.tracks[k] for k in TRACK_FIELDS}, det.track_counts),
        "tower": _jagged({k: det.towers[k] for k in TOWER_FIELDS}, det.tower_counts),
        "parton": _jagged({k: gen.partons[k].astype(t) for k, t in PARTON_FIELDS.items()}, gen.parton_counts),
        "hadron": _jagged({k: gen.hadrons[k].astype(t) for k, t in HADRON_FIELDS.items()}, gen.hadron_counts),
    }


def _as_awkward(branches: dict) -> dict[str, ak.Array]:
    """Every branch as an awkward array (mktree declares types from them)."""
    return {name: v if isinstance(v, ak.Array) else ak.Array(np.asarray(v)) for name, v in branches.items()}


def write_events(path: str | Path, branches: dict, config_json: str, uuid_key: str) -> None:
    """Write the `events` tree and the `generator_config` string atomically and reproducibly."""
    fixed_uuid = file_uuid(uuid_key)
    # an open file object keeps the (random) temporary name out of the TFile header
    with atomic_output(path) as tmp, deterministic_uproot(), open(tmp, "w+b") as sink:
        with uproot.recreate(sink, uuid_function=lambda: fixed_uuid) as f:
            f[CONFIG_NAME] = config_json
            # flat ntuple naming of docs/design.md: track_pt, track_eta... sharing the counter ntrack
            arrays = _as_awkward(branches)
            tree = f.mktree(
                TREE_NAME,
                {name: array.type for name, array in arrays.items()},
                field_name=lambda outer, inner: f"{outer}_{inner}",
                counter_name=lambda counted: f"n{counted}",
            )
            tree.extend(arrays)


def read_events(path: str | Path, branches: list[str] | None = None) -> ak.Array:
    """The `events` tree as an awkward array; FileNotFoundError / CorruptInputError name the file."""
    p = require_file(path)
    try:
        with uproot.open(p) as f:
            return f[TREE_NAME].arrays(branches, library="ak")
    except Exception as exc:  # uproot raises many types for damaged files
        raise CorruptInputError(f"cannot read event file {p}: {type(exc).__name__}: {exc}") from exc


def iterate_events(path: str | Path, step_events: int) -> Iterator[ak.Array]:
    """The `events` tree in chunks of ``step_events`` read one at a time, so memory stays flat with file size."""
    p = require_file(path)
    try:
        with uproot.open(p) as f:
            tree = f[TREE_NAME]
            for start in range(0, tree.num_entries, step_events):
                yield tree.arrays(entry_start=start, entry_stop=start + step_events, library="ak")
    except Exception as exc:  # uproot raises many types for damaged files
        raise CorruptInputError(f"cannot read event file {p}: {type(exc).__name__}: {exc}") from exc


def read_generator_config(path: str | Path) -> dict:
    """The generation settings stored in an event file."""
    p = require_file(path)
    try:
        with uproot.open(p) as f:
            return json.loads(str(f[CONFIG_NAME]))
    except Exception as exc:
        raise CorruptInputError(f"cannot read {CONFIG_NAME} from {p}: {type(exc).__name__}: {exc}") from exc


def shard_config_json(config: dict, process: str, shard: str) -> str:
    """JSON stored in the file: generation + detector settings, seed, spawn key, code version (sorted
    keys)."""
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

    The shard's stream is spawned from config['seed'] and (process, kind, shard index); generator and detector
    draw from two children of it, so changing the detector never changes the generated particles.
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
