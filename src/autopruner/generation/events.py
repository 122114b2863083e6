"""What every generator backend returns: the particle table the detector consumes plus the truth partons and hadrons.

The toy generator (`autopruner.generation.toy`) and the Pythia 8 backend (`autopruner.generation.pythia`) both return a
`GeneratedEvents`, so the detector, the event file and the reconstruction never know which one made the events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autopruner.kinematics import invariant_mass, pt_eta_phi
from autopruner.particles import ParticleTable

PROCESS_ID = {"qcd": 0, "hbb": 1}


@dataclass
class GeneratedEvents:
    """Output of a generator: particle table plus truth partons and heavy hadrons (flat + counts).

    ``generator`` holds what the event file should record about the backend beyond the config (e.g. Pythia's version
    and the seed it was given); it is stored in the file's ``generator_config``.
    """

    particles: ParticleTable
    partons: dict[str, np.ndarray]  # px, py, pz, e, pdgid, role (+ pt, eta, phi, m)
    parton_counts: np.ndarray
    hadrons: dict[str, np.ndarray]  # px, py, pz, e, m, pdgid, charge, flavour, parent, prod_*, decay_*
    hadron_counts: np.ndarray
    process_id: int
    generator: dict[str, Any] = field(default_factory=dict)


@dataclass
class EventTruth:
    """A generator's output without its particle table: what an event file keeps of it besides the detector's
    response (the true primary vertices, truth partons and heavy hadrons), and the particle multiplicity.

    A shard's toy events are generated and simulated a chunk at a time (`autopruner.detector.shards`); each chunk's
    particle table is dropped once the detector has taken what it needs, and only this is kept.
    """

    pv: np.ndarray  # (n_events, 3) true primary vertex [mm]
    particle_counts: np.ndarray
    partons: dict[str, np.ndarray]
    parton_counts: np.ndarray
    hadrons: dict[str, np.ndarray]
    hadron_counts: np.ndarray
    process_id: int
    generator: dict[str, Any] = field(default_factory=dict)

    @property
    def n_events(self) -> int:
        """Number of events."""
        return int(self.particle_counts.shape[0])

    @classmethod
    def of(cls, events: GeneratedEvents) -> EventTruth:
        """The truth of a generator's output (the arrays are shared, not copied)."""
        return cls(
            events.particles.pv, events.particles.counts, events.partons, events.parton_counts, events.hadrons,
            events.hadron_counts, events.process_id, events.generator,
        )


def concatenate_truth(parts: list[EventTruth]) -> EventTruth:
    """Several runs of events' `EventTruth` as one (per-event indices are local, so nothing is renumbered)."""
    if not parts:
        raise ValueError("nothing to concatenate")
    if len(parts) == 1:
        return parts[0]
    return EventTruth(
        pv=np.concatenate([p.pv for p in parts]),
        particle_counts=np.concatenate([p.particle_counts for p in parts]),
        **_concatenated_truth(parts),
    )


def check_process(process: str, n_events: int) -> None:
    """Raise ValueError for an unknown process or a negative number of events."""
    if process not in PROCESS_ID:
        raise ValueError(f"unknown process {process!r}; expected 'hbb' or 'qcd'")
    if n_events < 0:
        raise ValueError(f"n_events must be >= 0, got {n_events}")


def four_vector_dict(p4: np.ndarray) -> dict[str, np.ndarray]:
    """px, py, pz, e and pt, eta, phi, m of an (n, 4) array of four-vectors."""
    px, py, pz, e = (np.ascontiguousarray(p4[:, k], dtype=np.float64) for k in range(4))
    pt, eta, phi = pt_eta_phi(px, py, pz)
    return {
        "px": px,
        "py": py,
        "pz": pz,
        "e": e,
        "pt": pt,
        "eta": eta,
        "phi": phi,
        "m": invariant_mass(px, py, pz, e),
    }


def concatenate_events(parts: list[GeneratedEvents]) -> GeneratedEvents:
    """Several `GeneratedEvents` of one process as one (per-event indices are local, so nothing is renumbered)."""
    if not parts:
        raise ValueError("nothing to concatenate")
    tables = [p.particles for p in parts]
    particles = ParticleTable(
        **{name: np.concatenate([getattr(t, name) for t in tables]) for name in ParticleTable.__dataclass_fields__}
    )
    return GeneratedEvents(particles=particles, **_concatenated_truth(parts))


def _concatenated_truth(parts: list[GeneratedEvents] | list[EventTruth]) -> dict[str, Any]:
    """The truth partons, heavy hadrons, process and generator report of several runs of events, joined (the
    fields `GeneratedEvents` and `EventTruth` share)."""
    first = parts[0]
    return {
        "partons": {k: np.concatenate([p.partons[k] for p in parts]) for k in first.partons},
        "parton_counts": np.concatenate([p.parton_counts for p in parts]),
        "hadrons": {k: np.concatenate([p.hadrons[k] for p in parts]) for k in first.hadrons},
        "hadron_counts": np.concatenate([p.hadron_counts for p in parts]),
        "process_id": first.process_id,
        "generator": dict(first.generator),
    }
