"""Event files: write a generated and simulated shard to ROOT (design.md "Event file"), read it back.

Files are byte-for-byte reproducible: the TFile/TDirectory UUID is derived from the shard's identity, every TDatime
uproot would take from the wall clock is pinned to a fixed date while the file is written, and uproot writes to an open
file object so the random temporary file name is not stored in the header.

Every file is compressed with ZSTD (`COMPRESSION`), which ROOT reads since 6.20. uproot's default, ZLIB level 1, spent
4.6 of the 5 s it took to write a 20 000-event shard in ``zlib.compress``, more than generating and simulating the
shard; ZSTD writes it in ~1 s, 3 % smaller, and decompresses twice as fast.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

from autopruner.io_utils import CorruptInputError, atomic_output, require_file
from autopruner.schema import (
    EVENTS_TREE,
    GENERATOR_CONFIG_NAME,
    HADRON_FIELDS,
    PARTON_FIELDS,
    TOWER_FIELDS,
    TRACK_FIELDS,
)

TREE_NAME = EVENTS_TREE
CONFIG_NAME = GENERATOR_CONFIG_NAME
FIXED_DATIME = datetime.datetime(2000, 1, 1, 0, 0, 0)  # written into every TDatime field of an event file
#: compression of every ROOT file the pipeline writes (event files, candidate shards, the dataset); level 3 is
#: zstd's own default: as fast to write as level 1 here and 1 % smaller
COMPRESSION = uproot.ZSTD(3)


@contextlib.contextmanager
def deterministic_uproot() -> Iterator[None]:
    """Pin the TDatime fields uproot takes from datetime.now() (all go through uproot._util.datetime_to_code)."""
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


def event_branches(truth, det, event_id_base: int, weight: float = 1.0) -> dict:
    """The `events` tree's branches (design.md): scalars plus jagged track/tower/parton/hadron records.

    ``truth`` is what the file keeps of a generator's output (`autopruner.generation.events.EventTruth`: the primary
    vertices, truth partons and heavy hadrons) and ``det`` the detector's response to its particles; both are read by
    attribute, so this module imports neither stage.
    """
    n = truth.n_events
    pv = truth.pv
    return {
        "event_id": np.uint64(event_id_base) + np.arange(n, dtype=np.uint64),
        "process_id": np.full(n, truth.process_id, dtype=np.int32),
        "weight": np.full(n, weight, dtype=np.float64),
        "pv_x": pv[:, 0].astype(np.float32),
        "pv_y": pv[:, 1].astype(np.float32),
        "pv_z": pv[:, 2].astype(np.float32),
        "track": _jagged({k: det.tracks[k] for k in TRACK_FIELDS}, det.track_counts),
        "tower": _jagged({k: det.towers[k] for k in TOWER_FIELDS}, det.tower_counts),
        "parton": _jagged({k: truth.partons[k].astype(t) for k, t in PARTON_FIELDS.items()}, truth.parton_counts),
        "hadron": _jagged({k: truth.hadrons[k].astype(t) for k, t in HADRON_FIELDS.items()}, truth.hadron_counts),
    }


def _as_awkward(branches: dict) -> dict[str, ak.Array]:
    """Every branch as an awkward array (mktree declares types from them)."""
    return {name: v if isinstance(v, ak.Array) else ak.Array(np.asarray(v)) for name, v in branches.items()}


@contextlib.contextmanager
def reproducible_root_file(path: str | Path, uuid_key: str) -> Iterator[uproot.WritableDirectory]:
    """A new ROOT file at `path`, written atomically and byte for byte reproducibly (this module's docstring): the
    same content and `uuid_key` give the same bytes, whenever and wherever it is written. Event files, candidate
    shards and the merged dataset are all written through it."""
    fixed_uuid = file_uuid(uuid_key)
    # an open file object keeps the (random) temporary name out of the TFile header
    with atomic_output(path) as tmp, deterministic_uproot(), open(tmp, "w+b") as sink:
        with uproot.recreate(sink, compression=COMPRESSION, uuid_function=lambda: fixed_uuid) as f:
            yield f


def write_events(path: str | Path, branches: dict, config_json: str, uuid_key: str) -> None:
    """Write the `events` tree and the `generator_config` string atomically and reproducibly."""
    with reproducible_root_file(path, uuid_key) as f:
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
    """The `events` tree in chunks of ``step_events``, so memory does not grow with the number of baskets in the file.

    The file is read one basket cluster (entries where every branch starts a new basket) at a time and each cluster is
    sliced into chunks in memory. Reading a chunk straight from the file would decompress every basket it overlaps,
    and `write_events` writes one basket per branch for the whole shard, so ten chunks decompressed the file ten
    times over; a chunk never needs less than the baskets that hold it.
    """
    p = require_file(path)
    try:
        with uproot.open(p) as f:
            tree = f[TREE_NAME]
            bounds = [int(b) for b in tree.common_entry_offsets()]
            for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
                cluster = tree.arrays(entry_start=start, entry_stop=stop, library="ak")
                for first in range(0, stop - start, step_events):
                    yield cluster[first : first + step_events]
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
