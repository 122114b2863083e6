"""Pythia 8 backend (PyPI ``pythia8mc``): the same processes as the toy, from a real event generator.

Signal is ``HiggsSM:qg2Hq`` (q g -> H q for q = c, b) with H -> b b-bar only, keeping the events whose incoming quark is
a b (b g -> H b, ~91 % of them at p_T-hat > 250 GeV); background is ``HardQCD:all``. Both with ``PhaseSpace:pTHatMin``
= ``generation.pt_min_gev``, sqrt(s) and m_H from the config, the tune and MPI switch of ``generation.pythia8`` and
Pythia's own particle decays (K0S, Lambda and the other hyperons decay, at their displaced vertices).

Pythia's ``Random:seed`` is drawn from the shard's generator stream, so a shard is reproducible byte for byte like a toy
shard. The primary vertex is drawn from the same stream with the detector's beam spot and added to every vertex
(Pythia puts the interaction at the origin).

The pythia8mc bindings give no vectorised access to the event record, so `read_event` loops over it once per event
(one pybind call per entry and column, ~3-4 ms per event against ~8 ms for Pythia itself): the integer columns of every
entry, the kinematics of the entries the event file needs. Everything after that (ancestry, heavy hadrons, truth
partons) is the vectorised, Pythia-free code of `autopruner.generation.record`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autopruner.generation.events import PROCESS_ID, GeneratedEvents, check_process, concatenate_events
from autopruner.generation.record import (
    BASIC_KINEMATICS,
    HARD_INCOMING,
    HEAVY_KINEMATICS,
    KINEMATICS,
    EventRecord,
    build_events,
    make_record,
)

#: Random:seed accepts 1 ... 900 000 000
PYTHIA_SEED_MAX = 900_000_000
PROCESS_SETTINGS = {
    "hbb": ("HiggsSM:qg2Hq = on", "25:onMode = off", "25:onIfMatch = 5 -5"),
    "qcd": ("HardQCD:all = on",),
}
#: consecutive failed ``next()`` calls after which the shard fails
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

    def __call__(self, pdgids: np.ndarray) -> np.ndarray:
        """The charge of each id."""
        out = np.empty(pdgids.size)
        for k, pid in enumerate(pdgids.tolist()):
            q = self._charge.get(pid)
            if q is None:
                q = self._charge[pid] = float(self._data.charge(pid))
            out[k] = q
        return out


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
        kinematics = np.full((read.size, len(KINEMATICS)), np.nan)
        chosen = [entries[i] for i in read.tolist()]
        for name in BASIC_KINEMATICS:
            kinematics[:, KINEMATICS.index(name)] = _column(chosen, _METHODS[name])
        heavy_rows = np.flatnonzero(heavy)
        chosen_heavy = [chosen[i] for i in heavy_rows.tolist()]
        for name in HEAVY_KINEMATICS:
            kinematics[heavy_rows, KINEMATICS.index(name)] = _column(chosen_heavy, _METHODS[name])
        return kinematics, charges(pdgid[read])

    return make_record(pdgid, status, mother1, mother2, read_kinematics)


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
    accept = is_b_initiated if process == "hbb" else (lambda event: True)
    tried = 0
    parts: list[GeneratedEvents] = []
    records: list[EventRecord] = []
    for i in range(n_events):
        tried += next_accepted(pythia, accept)
        records.append(read_event(pythia.event, charges))
        if len(records) == CHUNK_EVENTS or i == n_events - 1:
            start = i + 1 - len(records)
            parts.append(build_events(records, pv_mm[start : i + 1], PROCESS_ID[process]))
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
