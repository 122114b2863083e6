"""Pythia 8 backend (PyPI ``pythia8mc``): the same processes as the toy, from a real event generator.

Signal is ``HiggsSM:qg2Hq`` (q g -> H q for q = c, b) with H -> b b-bar only, keeping the events whose incoming quark is
a b (b g -> H b, ~91 % of them at p_T-hat > 250 GeV); background is ``HardQCD:all``. Both with ``PhaseSpace:pTHatMin``
= ``generation.pt_min_gev``, sqrt(s) and m_H from the config, the tune and MPI switch of ``generation.pythia8`` and
Pythia's own particle decays (K0S, Lambda and the other hyperons decay, at their displaced vertices).

Pythia's ``Random:seed`` is drawn from the shard's generator stream, so a shard is reproducible byte for byte like a toy
shard. The primary vertex is drawn from the same stream with the detector's beam spot and added to every vertex
(Pythia puts the interaction at the origin).

Events come from Pythia's own batch interface, ``Pythia.nextBatch``, which runs ``next()`` for a batch of events and
returns their records as one awkward array, filled in C++. `records_of_batch` cuts that into one `EventRecord` per event
(the integer columns of every entry, the kinematics of the entries the event file needs) with array operations: ~0.6
ms per event, where `read_event`, which walks ``pythia.event`` with one pybind call per entry and column, took 3-4 ms
against Pythia's own ~8 ms. `read_event` stays as the reference the batch reader is tested against, bit for bit.
Everything after that (ancestry, heavy hadrons, truth partons) is the vectorised, Pythia-free code of
`autopruner.generation.record`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from autopruner.generation.events import PROCESS_ID, GeneratedEvents, check_process, concatenate_events
from autopruner.generation.record import (
    HARD_INCOMING,
    EventRecord,
    KinematicsReader,
    build_events,
    kinematics_table,
    make_record,
)

#: Random:seed accepts 1 ... 900 000 000
PYTHIA_SEED_MAX = 900_000_000
PROCESS_SETTINGS = {
    "hbb": ("HiggsSM:qg2Hq = on", "25:onMode = off", "25:onIfMatch = 5 -5"),
    "qcd": ("HardQCD:all = on",),
}
#: consecutive failed ``next()`` calls after which the shard fails (`next_accepted`); ``nextBatch`` is allowed this many
#: trials per event asked for
MAX_FAILURES = 100
#: events whose records are held before their ancestry is built (bounds memory for any shard size)
CHUNK_EVENTS = 250
B_QUARK = 5
#: pythia8mc.Particle methods of each KINEMATICS column
_METHODS = {
    "px": "px", "py": "py", "pz": "pz", "e": "e", "m": "m", "x": "xProd", "y": "yProd", "z": "zProd",
    "x_decay": "xDec", "y_decay": "yDec", "z_decay": "zDec",
}


def pythia_seed(rng: np.random.Generator) -> int:
    """Pythia's ``Random:seed`` drawn from the shard's generator stream, in [1, 900 000 000]."""
    return int(rng.integers(1, PYTHIA_SEED_MAX + 1))


def pythia_settings(config: dict, process: str, seed: int) -> list[str]:
    """Every ``readString`` line of a shard, in order: tune first (it resets other settings), the user's last."""
    gen = config["generation"]
    py_cfg = gen["pythia8"]
    return [
        f"Tune:pp = {int(py_cfg['tune_pp'])}",
        "Print:quiet = on",
        "Next:numberCount = 0",
        "Random:setSeed = on",
        f"Random:seed = {int(seed)}",
        f"Beams:eCM = {float(gen['sqrt_s_gev'])!r}",
        f"PhaseSpace:pTHatMin = {float(gen['pt_min_gev'])!r}",
        f"25:m0 = {float(gen['higgs_mass_gev'])!r}",
        f"PartonLevel:MPI = {'on' if py_cfg['mpi'] else 'off'}",
        *PROCESS_SETTINGS[process],
        *py_cfg["extra_settings"],
    ]


def make_pythia(settings: list[str]) -> Any:
    """An initialised ``pythia8mc.Pythia`` with the given settings; raises on an unknown setting or a failed init."""
    import pythia8mc

    pythia = pythia8mc.Pythia("", False)
    for line in settings:
        if not pythia.readString(line):
            raise ValueError(f"Pythia 8 rejected the setting {line!r}")
    if not pythia.init():
        raise RuntimeError(f"Pythia 8 initialisation failed with settings {settings}")
    return pythia


def is_b_initiated(event: Any) -> bool:
    """Whether one incoming parton of the hardest interaction is a b quark (b g -> H b rather than c g -> H c)."""
    return abs(event[HARD_INCOMING].id()) == B_QUARK or abs(event[HARD_INCOMING + 1].id()) == B_QUARK


def next_accepted(pythia: Any, accept: Callable[[Any], bool]) -> int:
    """Generate until an event passes ``accept``; returns the number of events generated (failures not counted)."""
    tried = failures = 0
    while True:
        if not pythia.next():
            failures += 1
            if failures >= MAX_FAILURES:
                raise RuntimeError(f"Pythia 8 failed to generate an event {MAX_FAILURES} times in a row")
            continue
        failures = 0
        tried += 1
        if accept(pythia.event):
            return tried


class ChargeTable:
    """Charges of PDG ids from Pythia's particle data, looked up once per species."""

    def __init__(self, particle_data: Any):
        self._data = particle_data
        self._charge: dict[int, float] = {}

    def _lookup(self, pid: int) -> float:
        q = self._charge.get(pid)
        if q is None:
            q = self._charge[pid] = float(self._data.charge(pid))
        return q

    def __call__(self, pdgids: np.ndarray) -> np.ndarray:
        """The charge of each id (each distinct id looked up once)."""
        species, which = np.unique(np.asarray(pdgids), return_inverse=True)
        return np.array([self._lookup(pid) for pid in species.tolist()], dtype=np.float64)[which.reshape(-1)]


def _column(particles: list, method: str) -> np.ndarray:
    """One kinematic column of a list of pythia8mc particles."""
    import pythia8mc

    return np.fromiter(map(getattr(pythia8mc.Particle, method), particles), dtype=np.float64, count=len(particles))


def read_event(event: Any, charges: ChargeTable) -> EventRecord:
    """The `EventRecord` of Pythia's current event: integer columns of every entry, kinematics of the needed ones."""
    import pythia8mc

    entries = event.particles()
    n = len(entries)
    pdgid, status, mother1, mother2 = (
        np.fromiter(map(getattr(pythia8mc.Particle, name), entries), dtype=np.int32, count=n)
        for name in ("id", "status", "mother1", "mother2")
    )

    def read_kinematics(read: np.ndarray, heavy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        chosen = [entries[i] for i in read.tolist()]
        chosen_heavy = [chosen[i] for i in np.flatnonzero(heavy).tolist()]
        kinematics = kinematics_table(heavy, lambda name: _column(chosen, _METHODS[name]),
                                      lambda name: _column(chosen_heavy, _METHODS[name]))
        return kinematics, charges(pdgid[read])

    return make_record(pdgid, status, mother1, mother2, read_kinematics)


def next_batch(pythia: Any, n_events: int) -> Any:
    """``n_events`` successfully generated events from Pythia's batch interface, as its awkward array.

    Failed ``next()`` calls are retried inside, as `next_accepted` does, up to `MAX_FAILURES` trials per event asked
    for; beyond that the shard fails.
    """
    try:
        return pythia.nextBatch(n_events, float(MAX_FAILURES))
    except RuntimeError as exc:
        raise RuntimeError(f"Pythia 8 failed to generate {n_events} events in {MAX_FAILURES * n_events} trials: {exc}"
                           ) from exc


def b_initiated(batch: Any) -> np.ndarray:
    """`is_b_initiated` for every event of a batch: one incoming parton of the hardest interaction is a b quark."""
    import awkward as ak

    incoming = np.abs(ak.to_numpy(batch.prt.id[:, HARD_INCOMING : HARD_INCOMING + 2]))
    return np.any(incoming == B_QUARK, axis=1)


def _flat(values: Any, dtype) -> np.ndarray:
    """A batch's per-entry field as one flat numpy array over all its events' entries."""
    import awkward as ak

    return np.asarray(ak.to_numpy(ak.flatten(values, axis=1)), dtype=dtype)


def _decay_vertex(prod: np.ndarray, tau_mm: np.ndarray, p: np.ndarray, m: np.ndarray) -> np.ndarray:
    """One coordinate of the decay vertex, as Pythia's ``Particle::xDec()`` computes it: the production vertex plus
    tau * p / m for a particle with a lifetime and a mass, the production vertex itself otherwise."""
    flies = (tau_mm > 0.0) & (m > 0.0)
    return np.where(flies, prod + tau_mm * p / np.where(flies, m, 1.0), prod)


def records_of_batch(batch: Any, charges: ChargeTable) -> list[EventRecord]:
    """The `EventRecord` of every event of a ``nextBatch`` array, equal bit for bit to `read_event` on each event.

    Every field is flattened over the batch once; an entry without a production vertex (None in the batch) is at the
    origin, as ``Particle::xProd()`` returns it.
    """
    import awkward as ak

    prt = batch.prt
    counts = ak.to_numpy(ak.num(prt, axis=1)).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)])
    pdgid = _flat(prt.id, np.int32)
    status = _flat(prt.status, np.int32)
    mother1 = _flat(prt.mother1, np.int32)
    mother2 = _flat(prt.mother2, np.int32)
    vertex = ak.fill_none(prt.vProd, {"px": 0.0, "py": 0.0, "pz": 0.0, "e": 0.0}, axis=1)
    axes = (("x", "px"), ("y", "py"), ("z", "pz"))  # the vertex's spatial components are stored as px, py, pz
    columns = {name: _flat(prt.p[name], np.float64) for name in ("px", "py", "pz", "e")}
    columns.update({axis: _flat(vertex[component], np.float64) for axis, component in axes})
    columns["m"] = _flat(prt.m, np.float64)
    tau_mm = _flat(prt.tau, np.float64)
    for axis, momentum in axes:
        columns[f"{axis}_decay"] = _decay_vertex(columns[axis], tau_mm, columns[momentum], columns["m"])

    def reader(first: int) -> KinematicsReader:
        def read_kinematics(read: np.ndarray, heavy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            rows = first + read
            kinematics = kinematics_table(heavy, lambda name: columns[name][rows],
                                          lambda name: columns[name][rows[heavy]])
            return kinematics, charges(pdgid[rows])

        return read_kinematics

    return [
        make_record(pdgid[a:b], status[a:b], mother1[a:b], mother2[a:b], reader(a))
        for a, b in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True)
    ]


def primary_vertices(rng: np.random.Generator, n_events: int, det_cfg: dict) -> np.ndarray:
    """Primary vertices (n_events, 3) [mm] from the beam spot: Gaussian in x, y and z."""
    sigma = np.array([det_cfg["beam_spot_xy_mm"], det_cfg["beam_spot_xy_mm"], det_cfg["beam_spot_z_mm"]], dtype=float)
    return rng.standard_normal((n_events, 3)) * sigma


def pythia_version(pythia: Any) -> str:
    """Pythia's version number, e.g. '8.317'."""
    return f"{pythia.settings.parm('Pythia:versionNumber'):.3f}"


def generate_events(config: dict, process: str, n_events: int, rng: np.random.Generator) -> GeneratedEvents:
    """Generate ``n_events`` events of ``process`` ('hbb' or 'qcd') with Pythia 8, seeded from ``rng``."""
    check_process(process, n_events)
    seed = pythia_seed(rng)
    pv_mm = primary_vertices(rng, n_events, config["detector"])
    settings = pythia_settings(config, process, seed)
    pythia = make_pythia(settings)
    charges = ChargeTable(pythia.particleData)
    tried = built = 0
    parts: list[GeneratedEvents] = []
    records: list[EventRecord] = []
    while built < n_events:
        # never more events than still needed, so the last one generated is the last one accepted: the shard holds
        # the same events, and Pythia ends in the same state (its cross section too), as with one next() at a time
        batch = next_batch(pythia, min(CHUNK_EVENTS - len(records), n_events - built - len(records)))
        tried += len(batch)
        if process == "hbb":
            batch = batch[b_initiated(batch)]
        records.extend(records_of_batch(batch, charges))
        if len(records) == CHUNK_EVENTS or built + len(records) == n_events:
            parts.append(build_events(records, pv_mm[built : built + len(records)], PROCESS_ID[process]))
            built += len(records)
            records = []
    info = pythia.infoPython()
    generator = {
        "backend": "pythia8",
        "pythia_version": pythia_version(pythia),
        "pythia_seed": seed,
        "settings": settings,
        "events_generated": tried,
        "events_accepted": n_events,
        "sigma_gen_mb": float(info.sigmaGen()),
        "sigma_err_mb": float(info.sigmaErr()),
    }
    if not parts:
        parts.append(build_events([], pv_mm, PROCESS_ID[process]))
    events = concatenate_events(parts)
    events.generator = generator
    return events


def generate_event_chunks(
    config: dict, process: str, n_events: int, rng: np.random.Generator, chunk_events: int
) -> Iterator[GeneratedEvents]:
    """`generate_events`' events as one chunk, whatever ``chunk_events`` asks (the toy's interface, so the shard
    code treats both backends alike): the generator block (cross section, events tried) is known only at the end,
    and at Pythia's rate a shard's particle table is small beside the time it takes to make."""
    del chunk_events
    yield generate_events(config, process, n_events, rng)
