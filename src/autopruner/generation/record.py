"""Truth from a Pythia 8 event record: ancestry, heavy hadrons, truth partons, as pure functions over arrays.

An event record is four integer arrays over its entries (PDG id, status, first and last mother), in Pythia 8's
conventions (https://pythia.org/latest-manual/ParticleProperties.html): entry 0 is the event as a whole, 1 and 2 the
beams, 3 and 4 the incoming partons of the hardest interaction; |status| 21-29 hardest subprocess, 31-39 further
interactions (MPI), 41-49 initial- and 51-59 final-state showers, 61-69 beam remnants, 71-79 partons prepared for
hadronization, 81-89 primary hadrons (mothers = the range of string partons they come from), 91-99 decay products
(first mother = the decaying particle); a positive status marks a final-state particle. Nothing here needs Pythia, so
the logic is unit-tested on hand-made records.

The functions work on one event (local indices, mother 0 = none) or on many events concatenated (global indices, mother
-1 = none); `concatenate_mothers` turns the former into the latter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from autopruner.generation.events import GeneratedEvents, four_vector_dict
from autopruner.particles import ORIGIN_B, ORIGIN_C, ORIGIN_PROMPT, ORIGIN_SOFT, ParticleTable
from autopruner.schema import FLAVOUR_B, ROLE_HARD, ROLE_HIGGS, ROLE_HIGGS_B, ROLE_SPLITTING

#: local index of the first incoming parton of the hardest interaction (the second is HARD_INCOMING + 1)
HARD_INCOMING = 3
HIGGS_PDGID = 25
GLUON_PDGID = 21
HEAVY_QUARKS = (4, 5)
#: |status| of a parton from a final-state (51) or the emitted parton of an initial-state (43) shower branching
SPLITTING_STATUS = (43, 51)


def _abs_status(status: np.ndarray) -> np.ndarray:
    return np.abs(np.asarray(status))


def is_parton_level(status: np.ndarray) -> np.ndarray:
    """Entries made before hadronization (|status| 21-79): partons, the Higgs, leptons and photons of the showers."""
    a = _abs_status(status)
    return (a >= 21) & (a <= 79)


def is_primary_hadron(status: np.ndarray) -> np.ndarray:
    """Hadrons made by hadronization (|status| 81-89)."""
    a = _abs_status(status)
    return (a >= 81) & (a <= 89)


def is_decay_product(status: np.ndarray) -> np.ndarray:
    """Entries made in a particle decay (|status| 91-99; 99 is a Bose-Einstein shifted copy)."""
    a = _abs_status(status)
    return (a >= 91) & (a <= 99)


def hadron_flavour(pdgid: np.ndarray) -> np.ndarray:
    """Open heavy flavour of each entry: 5 for a b-hadron, 4 for a c-hadron, 0 else (int8).

    The heaviest quark of the PDG number's quark digits decides (a B_c is a b-hadron). Quarkonia (c c-bar, b b-bar)
    carry no open flavour and count as 0, so are quarks, leptons, bosons and diquarks.
    """
    n = np.abs(np.asarray(pdgid, dtype=np.int64))
    q1, q2, q3 = (n // 1000) % 10, (n // 100) % 10, (n // 10) % 10
    hadron = (q2 > 0) & (q3 > 0) & (n < 1_000_000_000)
    quarkonium = (q1 == 0) & (q2 == q3)
    heaviest = np.maximum(np.maximum(q1, q2), q3)
    open_heavy = hadron & ~quarkonium & ((heaviest == 4) | (heaviest == 5))
    return np.where(open_heavy, heaviest, 0).astype(np.int8)


def concatenate_mothers(mothers: list[np.ndarray]) -> np.ndarray:
    """Per-event mother arrays (local, 0 = none) as one array of global indices (-1 = none)."""
    sizes = np.array([m.size for m in mothers], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    local = np.concatenate(mothers).astype(np.int64) if mothers else np.zeros(0, np.int64)
    shift = np.repeat(offsets, sizes)
    return np.where(local > 0, local + shift, -1)


def decay_parent(status: np.ndarray, mother1: np.ndarray) -> np.ndarray:
    """The entry each hadron-level entry was made from (its first mother), -1 where the walk up stops.

    Decay products (91-99) point to the decaying particle and primary hadrons (81-89) to their first string parton; a
    parton-level entry points to nothing, except a parton prepared for hadronization (71-79) out of a decay's partons
    (a B decaying to quarks that then hadronize), which points to that decay product. So walking up `decay_parent` from
    any final particle passes through every hadron it descends from and stops in the parton shower.
    """
    status = np.asarray(status)
    mother1 = np.asarray(mother1, dtype=np.int64)
    a = _abs_status(status)
    has_mother = mother1 >= 0
    safe = np.where(has_mother, mother1, 0)
    from_decay_parton = (a >= 71) & (a <= 79) & has_mother & is_decay_product(status[safe])
    follow = has_mother & ((a >= 81) | from_decay_parton)
    return np.where(follow, mother1, -1)


def nearest_marked_ancestor(parent: np.ndarray, marked: np.ndarray) -> np.ndarray:
    """For every entry, the nearest strict ancestor along ``parent`` (-1 = none) that is ``marked``; -1 if none.

    Pointer doubling: after k rounds each entry knows the nearest marked ancestor within 2^k steps, so a decay chain of
    any depth costs a few vectorised passes.
    """
    n = parent.size
    sentinel = n
    jump = np.append(np.where(parent >= 0, parent, sentinel), sentinel).astype(np.int64)
    mark = np.append(np.asarray(marked, dtype=bool), False)
    found = np.where(mark[jump], jump, -1)
    found[sentinel] = -1
    for _ in range(64):
        open_ = (found < 0) & (jump != sentinel)
        if not open_.any():
            break
        found = np.where(open_, found[jump], found)
        jump = jump[jump]
    return found[:n]


def weakly_decaying_heavy(pdgid: np.ndarray, status: np.ndarray, mother1: np.ndarray) -> np.ndarray:
    """Heavy hadrons that decay weakly: open b or c flavour and no decay product of the same flavour.

    A B*0 -> B0 gamma or a D*+ -> D0 pi+ is skipped in favour of its daughter, which flies; a b-hadron whose decay gives
    a c-hadron is kept (different flavour), which is the b -> c cascade. Global indices (mother -1 = none).
    """
    flavour = hadron_flavour(pdgid)
    parent = decay_parent(status, mother1)
    child = np.flatnonzero((parent >= 0) & (flavour > 0))
    same = flavour[child] == flavour[parent[child]]
    has_same_daughter = np.zeros(flavour.size, dtype=bool)
    has_same_daughter[parent[child[same]]] = True
    return (flavour > 0) & ~has_same_daughter


def is_interaction_history(status: np.ndarray) -> np.ndarray:
    """Entries of the interactions and their showers and beam remnants (|status| 21-69), before hadronization."""
    a = _abs_status(status)
    return (a >= 21) & (a <= 69)


def hard_interaction(status: np.ndarray, mother1: np.ndarray, mother2: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Parton-level entries that belong to the hardest interaction (its partons, showers and their copies).

    The entries of the interaction history (|status| 21-69) joined by mother links form one connected piece per
    interaction: every shower branching and recoil or primordial-kT copy points to a mother of the same interaction, and
    interactions meet only at the beams, which are left out. ``seeds`` are the global indices of the hardest
    interaction's incoming partons. The partons prepared for hadronization (71-79) are then hard when a mother is: a
    71 copies one parton, but a 73/74 merges two nearby partons, possibly of two interactions, so they stay out of the
    graph (they would join the hardest interaction to an MPI).
    """
    status = np.asarray(status)
    mother1 = np.asarray(mother1, dtype=np.int64)
    mother2 = np.asarray(mother2, dtype=np.int64)
    n = status.size
    history = is_interaction_history(status)
    rows, cols = [], []
    for mother in (mother1, mother2):
        ok = history & (mother >= 0)
        ok[ok] &= history[mother[ok]]
        rows.append(np.flatnonzero(ok))
        cols.append(mother[ok])
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(r.size, dtype=np.int8), (r, c)), shape=(n, n)).tocsr()
    _, label = connected_components(graph, directed=False)
    hard = history & np.isin(label, label[np.asarray(seeds, dtype=np.int64)])
    prepared = np.flatnonzero(is_parton_level(status) & ~history)
    m1, m2 = mother1[prepared], mother2[prepared]
    for _ in range(64):  # a 73 may merge earlier 7x entries: propagate until nothing changes
        new = (m1 >= 0) & hard[np.maximum(m1, 0)] | (m2 >= 0) & hard[np.maximum(m2, 0)]
        if np.array_equal(new, hard[prepared]):
            break
        hard[prepared] = new
    return hard


def string_touches(mask: np.ndarray, mother1: np.ndarray, mother2: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Whether any entry of each row's mother range [mother1, max(mother1, mother2)] is in ``mask``."""
    cum = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
    lo = mother1[rows]
    hi = np.maximum(lo, mother2[rows])
    ok = lo >= 0
    out = np.zeros(rows.size, dtype=bool)
    out[ok] = cum[hi[ok] + 1] - cum[lo[ok]] > 0
    return out


def from_hard_interaction(status: np.ndarray, mother1: np.ndarray, mother2: np.ndarray, parent: np.ndarray,
                          hard: np.ndarray) -> np.ndarray:
    """For every entry, whether the hadronization that made it (or it itself) involves the hardest interaction.

    The root of an entry is where its `decay_parent` walk ends: a primary hadron from a string of shower partons, or a
    parton-level entry. A primary hadron is hard if its string holds a parton of the hardest interaction (``hard``);
    strings made only of other interactions' and beam-remnant partons are the underlying event.
    """
    status = np.asarray(status)
    primary = is_primary_hadron(status)
    p = np.maximum(parent, 0)
    shower_string = primary & (parent >= 0) & is_parton_level(status[p]) & (parent[p] < 0)
    root_mark = (parent < 0) | shower_string
    ancestor = nearest_marked_ancestor(parent, root_mark)
    root = np.where(root_mark, np.arange(status.size), ancestor)
    root_hard = hard.copy()
    rows = np.flatnonzero(primary)
    root_hard[rows] = string_touches(hard, np.asarray(mother1), np.asarray(mother2), rows)
    return np.where(root >= 0, root_hard[np.maximum(root, 0)], False)


def particle_ancestry(pdgid: np.ndarray, status: np.ndarray, mother1: np.ndarray, mother2: np.ndarray,
                      seeds: np.ndarray) -> dict[str, np.ndarray]:
    """Heavy-flavour ancestry of every entry of concatenated records (global indices, mother -1 = none).

    Returns ``weak`` (the weakly-decaying heavy hadrons), ``nearest`` (nearest weakly-decaying heavy-hadron ancestor,
    -1 if none), ``nearest_b`` (nearest weakly-decaying b-hadron ancestor) and ``origin`` (design.md codes: 1 below a
    b-hadron including the b -> c cascade, 2 below a c-hadron only, 0 from the hardest interaction's hadronization,
    3 from the underlying event).
    """
    mother1 = np.asarray(mother1, dtype=np.int64)
    mother2 = np.asarray(mother2, dtype=np.int64)
    parent = decay_parent(status, mother1)
    weak = weakly_decaying_heavy(pdgid, status, mother1)
    flavour = hadron_flavour(pdgid)
    nearest = nearest_marked_ancestor(parent, weak)
    nearest_b = nearest_marked_ancestor(parent, weak & (flavour == FLAVOUR_B))
    hard = from_hard_interaction(status, mother1, mother2, parent, hard_interaction(status, mother1, mother2, seeds))
    origin = np.where(
        nearest_b >= 0, ORIGIN_B, np.where(nearest >= 0, ORIGIN_C, np.where(hard, ORIGIN_PROMPT, ORIGIN_SOFT))
    ).astype(np.int8)
    return {"weak": weak, "nearest": nearest, "nearest_b": nearest_b, "origin": origin}


def carbon_copies(pdgid: np.ndarray, mother1: np.ndarray, mother2: np.ndarray) -> dict[int, int]:
    """{entry: its carbon copy} of one event record (local indices, mother 0 = none).

    A carbon copy (a recoil or primordial-kT copy) has both mothers equal to the original and the same PDG id: what
    Pythia's ``iBotCopy`` follows.
    """
    copies = np.flatnonzero((mother1 == mother2) & (mother1 > 0) & (pdgid == pdgid[np.maximum(mother1, 0)]))
    return dict(zip(mother1[copies].tolist(), copies.tolist(), strict=True))


def bottom_copy(index: int, copies: dict[int, int]) -> int:
    """The last carbon copy of an entry (``copies`` from `carbon_copies`), before it branches or decays."""
    seen = {index}
    while index in copies and copies[index] not in seen:
        index = copies[index]
        seen.add(index)
    return index


def truth_partons(pdgid: np.ndarray, status: np.ndarray, mother1: np.ndarray,
                  mother2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Truth partons of one event record (local indices, mother 0 = none): (entries, roles), design.md roles.

    The Higgs boson (role 1) and the hard outgoing partons (role 0) at their last copy before they decay or branch (so
    with the recoil of the initial-state shower), the two b quarks of the Higgs decay (role 2, the daughters of that
    last copy), and every heavy quark from a g -> Q Q-bar branching of a shower (role 3).
    """
    pdgid, status = np.asarray(pdgid), np.asarray(status)
    mother1, mother2 = np.asarray(mother1, dtype=np.int64), np.asarray(mother2, dtype=np.int64)
    a = _abs_status(status)
    copies = carbon_copies(pdgid, mother1, mother2)
    entries: list[int] = []
    roles: list[int] = []
    for h in np.flatnonzero((pdgid == HIGGS_PDGID) & (a == 22)):
        last = bottom_copy(int(h), copies)
        entries.append(last)
        roles.append(ROLE_HIGGS)
        decay = np.flatnonzero((mother1 == last) & (mother2 == 0) & (np.abs(pdgid) == 5))
        entries.extend(decay.tolist())
        roles.extend([ROLE_HIGGS_B] * decay.size)
    hard_out = np.flatnonzero((a == 23) & (mother1 == HARD_INCOMING) & (mother2 == HARD_INCOMING + 1))
    for q in hard_out:
        entries.append(bottom_copy(int(q), copies))
        roles.append(ROLE_HARD)
    apdg = np.abs(pdgid)
    heavy_quark = (apdg == HEAVY_QUARKS[0]) | (apdg == HEAVY_QUARKS[1])
    from_splitting = (a == SPLITTING_STATUS[0]) | (a == SPLITTING_STATUS[1])
    gluon_mother = (mother1 > 0) & (pdgid[np.maximum(mother1, 0)] == GLUON_PDGID)
    split = np.flatnonzero(heavy_quark & from_splitting & gluon_mother)
    entries.extend(split.tolist())
    roles.extend([ROLE_SPLITTING] * split.size)
    return np.asarray(entries, dtype=np.int64), np.asarray(roles, dtype=np.int8)


#: columns of `EventRecord.kinematics`: four-momentum [GeV], mass [GeV], production and decay vertex [mm]
KINEMATICS = ("px", "py", "pz", "e", "m", "x", "y", "z", "x_decay", "y_decay", "z_decay")
N_KINEMATICS = len(KINEMATICS)
#: columns read for every entry read; mass and decay vertex are read for heavy hadrons only (NaN elsewhere)
BASIC_KINEMATICS = ("px", "py", "pz", "e", "x", "y", "z")
HEAVY_KINEMATICS = ("m", "x_decay", "y_decay", "z_decay")


@dataclass
class EventRecord:
    """One event's record: the integer columns of every entry, the kinematics of the entries the event file needs.

    Indices are local (mother 0 = none). ``read`` lists the entries whose kinematics were read (final-state particles,
    heavy hadrons, truth partons), in record order; ``kinematics`` has one row per read entry (`KINEMATICS` columns)
    and ``charge`` its charge. ``truth``/``roles`` are the truth partons (`truth_partons`).
    """

    pdgid: np.ndarray
    status: np.ndarray
    mother1: np.ndarray
    mother2: np.ndarray
    read: np.ndarray
    kinematics: np.ndarray
    charge: np.ndarray
    truth: np.ndarray
    roles: np.ndarray


#: reads (kinematics, charge) of the given entries; the mask says which of them are heavy hadrons
KinematicsReader = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def kinematics_table(heavy: np.ndarray, basic: Callable[[str], np.ndarray], heavy_only: Callable[[str], np.ndarray]
                     ) -> np.ndarray:
    """The `KINEMATICS` rows of the entries read: ``basic(name)`` gives a `BASIC_KINEMATICS` column for every entry,
    ``heavy_only(name)`` a `HEAVY_KINEMATICS` column for the heavy hadrons among them (boolean mask ``heavy``); NaN
    elsewhere."""
    kinematics = np.full((heavy.size, N_KINEMATICS), np.nan)
    for name in BASIC_KINEMATICS:
        kinematics[:, KINEMATICS.index(name)] = basic(name)
    for name in HEAVY_KINEMATICS:
        kinematics[heavy, KINEMATICS.index(name)] = heavy_only(name)
    return kinematics


def make_record(pdgid: np.ndarray, status: np.ndarray, mother1: np.ndarray, mother2: np.ndarray,
                read_kinematics: KinematicsReader) -> EventRecord:
    """An `EventRecord` from the integer columns of one event, reading kinematics only for the entries needed."""
    pdgid = np.asarray(pdgid, dtype=np.int32)
    status = np.asarray(status, dtype=np.int32)
    mother1 = np.asarray(mother1, dtype=np.int32)
    mother2 = np.asarray(mother2, dtype=np.int32)
    truth, roles = truth_partons(pdgid, status, mother1, mother2)
    heavy = hadron_flavour(pdgid) > 0
    needed = (status > 0) | heavy
    needed[truth] = True
    read = np.flatnonzero(needed)
    kinematics, charge = read_kinematics(read, heavy[read])
    return EventRecord(pdgid, status, mother1, mother2, read, kinematics, charge, truth, roles)


def _offsets(counts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)


def _concat(arrays: list[np.ndarray], dtype, width: int | None = None) -> np.ndarray:
    empty = np.zeros((0,) if width is None else (0, width), dtype=dtype)
    return np.concatenate([empty, *arrays]).astype(dtype, copy=False)


def build_events(records: list[EventRecord], pv_mm: np.ndarray, process_id: int,
                 generator: dict[str, Any] | None = None) -> GeneratedEvents:
    """The `GeneratedEvents` of a list of event records: final-state particles with origin and heavy-hadron index,
    weakly-decaying heavy hadrons with parent b-hadron, truth partons; every vertex shifted by the event's primary
    vertex ``pv_mm`` (n_events, 3).

    All records are concatenated and the ancestry is computed once over them, vectorised.
    """
    n_events = len(records)
    sizes = np.array([r.pdgid.size for r in records], dtype=np.int64)
    offsets = _offsets(sizes)
    event = np.repeat(np.arange(n_events), sizes)
    pdgid = _concat([r.pdgid for r in records], np.int32)
    status = _concat([r.status for r in records], np.int32)
    mother1 = concatenate_mothers([np.zeros(0, np.int32), *(r.mother1 for r in records)])
    mother2 = concatenate_mothers([np.zeros(0, np.int32), *(r.mother2 for r in records)])
    ancestry = particle_ancestry(pdgid, status, mother1, mother2, offsets + HARD_INCOMING)
    read = _concat([r.read + o for r, o in zip(records, offsets, strict=True)], np.int64)
    kinematics = _concat([r.kinematics for r in records], np.float64, N_KINEMATICS)
    charge = _concat([r.charge for r in records], np.float64)

    def rows(entries: np.ndarray) -> np.ndarray:
        return np.searchsorted(read, entries)

    weak = np.flatnonzero(ancestry["weak"])
    hadron_counts = np.bincount(event[weak], minlength=n_events)
    position = np.full(pdgid.size, -1, dtype=np.int64)
    position[weak] = np.arange(weak.size) - _offsets(hadron_counts)[event[weak]]

    def local_hadron(entries: np.ndarray) -> np.ndarray:
        return np.where(entries >= 0, position[np.maximum(entries, 0)], -1).astype(np.int32)

    final = np.flatnonzero(status > 0)
    k = kinematics[rows(final)]
    pv_f = pv_mm[event[final]]
    particles = ParticleTable(
        px=k[:, 0].copy(), py=k[:, 1].copy(), pz=k[:, 2].copy(), e=k[:, 3].copy(),
        pdgid=pdgid[final].astype(np.int32), charge=np.rint(charge[rows(final)]).astype(np.int8),
        vx=k[:, 5] + pv_f[:, 0], vy=k[:, 6] + pv_f[:, 1], vz=k[:, 7] + pv_f[:, 2],
        origin=ancestry["origin"][final], hadron_index=local_hadron(ancestry["nearest"][final]),
        counts=np.bincount(event[final], minlength=n_events), pv=np.asarray(pv_mm, dtype=np.float64).reshape(-1, 3),
    )
    k = kinematics[rows(weak)]
    pv_h = pv_mm[event[weak]]
    hadrons = four_vector_dict(k[:, :4])
    hadrons.update(
        m=k[:, 4].copy(), pdgid=pdgid[weak].astype(np.int32), charge=np.rint(charge[rows(weak)]).astype(np.int8),
        flavour=hadron_flavour(pdgid[weak]), parent=local_hadron(ancestry["nearest_b"][weak]),
        prod_x=k[:, 5] + pv_h[:, 0], prod_y=k[:, 6] + pv_h[:, 1], prod_z=k[:, 7] + pv_h[:, 2],
        decay_x=k[:, 8] + pv_h[:, 0], decay_y=k[:, 9] + pv_h[:, 1], decay_z=k[:, 10] + pv_h[:, 2],
    )
    truth = _concat([r.truth + o for r, o in zip(records, offsets, strict=True)], np.int64)
    partons = four_vector_dict(kinematics[rows(truth), :4])
    partons.update(pdgid=pdgid[truth].astype(np.int32), role=_concat([r.roles for r in records], np.int8))
    parton_counts = np.array([r.truth.size for r in records], dtype=np.int64)
    return GeneratedEvents(particles, partons, parton_counts, hadrons, hadron_counts, process_id, dict(generator or {}))
