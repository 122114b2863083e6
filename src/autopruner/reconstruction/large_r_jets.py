"""Large-R jets: anti-kT R = 1.0 on calorimeter towers with fastjet (many events per call), ghost association, trimming,
and the choice of the leading trimmed jet.

Ghost association: every object to associate (tracks, truth hadrons, VR track jets) enters the clustering with its
four-momentum scaled by ``GHOST_SCALE``; the jet that ends up holding a ghost owns the object, while the jet momenta
stay those of the towers (checked in tests/test_large_r_jets.py). Trimming (ATLAS): recluster each jet's towers into k_T
subjets of radius ``trim_radius`` and keep the subjets with pT >= ``trim_fcut`` * pT(untrimmed jet); the trimmed jet is
the sum of the kept subjets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import awkward as ak
import fastjet
import numpy as np

from autopruner.arrays import local_index, offsets_from_counts

GHOST_SCALE = 1e-10


@dataclass(frozen=True)
class FlatP4:
    """Four-momenta of a batch of events as flat float64 arrays with event offsets (length n_events + 1)."""

    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    e: np.ndarray
    offsets: np.ndarray

    @classmethod
    def from_pt_eta_phi(cls, pt, eta, phi, e_or_m, offsets, is_mass: bool = False) -> FlatP4:
        """Build from (pT, eta, phi) and either the energy or (``is_mass``) the mass."""
        pt, eta, phi = (np.asarray(a, dtype=np.float64) for a in (pt, eta, phi))
        px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
        e = np.asarray(e_or_m, dtype=np.float64)
        if is_mass:
            e = np.sqrt(px**2 + py**2 + pz**2 + e**2)
        return cls(px, py, pz, e, np.asarray(offsets, dtype=np.int64))

    @property
    def counts(self) -> np.ndarray:
        """Objects per event."""
        return np.diff(self.offsets)

    def scaled(self, factor: float) -> FlatP4:
        """The same momenta times ``factor`` (ghosts)."""
        return FlatP4(self.px * factor, self.py * factor, self.pz * factor, self.e * factor, self.offsets)


def p4_pt_eta_phi_m(px, py, pz, e) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pT, eta, phi in (-pi, pi], mass) of four-momenta; eta = 0 for pT = 0, negative m^2 clipped to 0."""
    px, py, pz, e = (np.asarray(a, dtype=np.float64) for a in (px, py, pz, e))
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.where(pt > 0, np.arcsinh(np.divide(pz, pt, out=np.zeros_like(pz), where=pt > 0)), 0.0)
    m = np.sqrt(np.maximum(e**2 - px**2 - py**2 - pz**2, 0.0))
    return pt, eta, np.arctan2(py, px), m


def _jagged_p4(px, py, pz, e, offsets) -> ak.Array:
    """A [n_rows][n] awkward array of Momentum4D records (what fastjet's ClusterSequence consumes)."""
    content = ak.zip({"px": px, "py": py, "pz": pz, "E": e}, with_name="Momentum4D")
    return ak.unflatten(content, np.diff(offsets))


@dataclass(frozen=True)
class ClusteredJets:
    """Anti-kT jets of a batch with their real constituents and ghosts, flat with per-jet offsets.

    ``event[j]`` is the event of jet ``j``; ``constituents`` holds global indices into the real inputs
    (``constituent_offsets`` per jet); ``ghosts[name]`` global indices into that ghost collection
    (``ghost_offsets[name]`` per jet). ``px..e`` are fastjet's jet momenta (ghosts included).
    """

    event: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    e: np.ndarray
    constituents: np.ndarray
    constituent_offsets: np.ndarray
    ghosts: dict[str, np.ndarray]
    ghost_offsets: dict[str, np.ndarray]

    @property
    def n_jets(self) -> int:
        return int(self.event.size)


def concatenate_per_event(parts: Sequence[FlatP4]) -> tuple[FlatP4, np.ndarray, np.ndarray]:
    """Merge collections event by event (per event: all of parts[0], then parts[1], ...).

    Returns the merged momenta, the part each merged object comes from and its index in that part's arrays.
    """
    n_events = parts[0].offsets.size - 1
    if any(p.offsets.size - 1 != n_events for p in parts):
        raise ValueError("every collection needs the same number of events")
    event_of = np.concatenate([np.repeat(np.arange(n_events), p.counts) for p in parts])
    part_of = np.concatenate([np.full(p.counts.sum(), k, np.int64) for k, p in enumerate(parts)])
    index_of = np.concatenate([np.arange(p.counts.sum(), dtype=np.int64) for p in parts])
    order = np.lexsort((part_of, event_of))  # stable: keeps each part's order within an event
    merged = FlatP4(
        *(np.concatenate([getattr(p, f) for p in parts])[order] for f in ("px", "py", "pz", "e")),
        offsets=offsets_from_counts(sum(p.counts for p in parts)),
    )
    return merged, part_of[order], index_of[order]


def cluster_antikt_with_ghosts(
    real: FlatP4, ghosts: Mapping[str, FlatP4], radius: float, min_pt_gev: float
) -> ClusteredJets:
    """Anti-kT clustering of ``real`` inputs plus ``ghosts`` (momenta already multiplied by GHOST_SCALE).

    Returns the inclusive jets with fastjet pT > ``min_pt_gev`` and, per jet, which real inputs and which ghosts it
    holds. One fastjet call clusters every event of the batch.
    """
    names = list(ghosts)
    merged, part_of, index_of = concatenate_per_event([real, *(ghosts[n] for n in names)])
    n_events = merged.offsets.size - 1
    events = _jagged_p4(merged.px, merged.py, merged.pz, merged.e, merged.offsets)
    cs = fastjet.ClusterSequence(events, fastjet.JetDefinition(fastjet.antikt_algorithm, radius))
    jets = cs.inclusive_jets(min_pt_gev)
    index = cs.constituent_index(min_pt_gev)  # [event][jet][local input index]
    jet_event = np.repeat(np.arange(n_events), ak.to_numpy(ak.num(jets, axis=1)))
    per_jet = ak.flatten(index, axis=1)
    jet_of_input = np.repeat(np.arange(jet_event.size), ak.to_numpy(ak.num(per_jet, axis=1)))
    merged_index = ak.to_numpy(ak.flatten(per_jet)).astype(np.int64) + merged.offsets[jet_event[jet_of_input]]
    kind, global_index = part_of[merged_index], index_of[merged_index]

    def select(k: int) -> tuple[np.ndarray, np.ndarray]:
        mask = kind == k
        return global_index[mask], offsets_from_counts(np.bincount(jet_of_input[mask], minlength=jet_event.size))

    flat_jets = ak.flatten(jets)
    real_idx, real_off = select(0)
    ghost_sel = {name: select(k + 1) for k, name in enumerate(names)}
    return ClusteredJets(
        event=jet_event,
        px=ak.to_numpy(flat_jets.px), py=ak.to_numpy(flat_jets.py),
        pz=ak.to_numpy(flat_jets.pz), e=ak.to_numpy(flat_jets.E),
        constituents=real_idx, constituent_offsets=real_off,
        ghosts={n: v[0] for n, v in ghost_sel.items()}, ghost_offsets={n: v[1] for n, v in ghost_sel.items()},
    )


@dataclass(frozen=True)
class TrimmedJets:
    """Trimmed jets (one per input jet): four-momenta, kept constituents (global real-input indices, per-jet offsets),
    and the subjets with the keep decision."""

    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    e: np.ndarray
    constituents: np.ndarray
    constituent_offsets: np.ndarray
    subjet_pt: ak.Array  # [n_jets][n_subjets]
    subjet_kept: ak.Array  # [n_jets][n_subjets] bool


def trim(real: FlatP4, constituents: np.ndarray, constituent_offsets: np.ndarray,
         trim_radius: float, f_cut: float) -> TrimmedJets:
    """Trim jets given by their real constituents (indices into ``real``, grouped by ``constituent_offsets``).

    The reference pT is that of the untrimmed jet (sum of its constituents); a subjet is kept when
    pT_sub >= f_cut * pT_jet (fastjet's ``SelectorPtFractionMin`` as used by ``Filter``).
    """
    c_px, c_py, c_pz, c_e = (getattr(real, f)[constituents] for f in ("px", "py", "pz", "e"))
    counts = np.diff(constituent_offsets)
    n_jets = counts.size
    jet_of = np.repeat(np.arange(n_jets), counts)
    jet_pt = np.hypot(np.bincount(jet_of, c_px, n_jets), np.bincount(jet_of, c_py, n_jets))

    rows = _jagged_p4(c_px, c_py, c_pz, c_e, constituent_offsets)
    cs = fastjet.ClusterSequence(rows, fastjet.JetDefinition(fastjet.kt_algorithm, trim_radius))
    subjets = cs.inclusive_jets(0.0)
    sub_index = cs.constituent_index(0.0)  # [jet][subjet][local constituent]
    sub_pt = np.hypot(subjets.px, subjets.py)
    kept = sub_pt >= f_cut * ak.Array(jet_pt)[:, np.newaxis]

    kept_local = ak.flatten(sub_index[kept], axis=2)  # [jet][kept local constituents]
    kept_local = ak.sort(kept_local, axis=1)
    n_kept = ak.to_numpy(ak.num(kept_local, axis=1))
    kept_offsets = offsets_from_counts(n_kept)
    flat_local = ak.to_numpy(ak.flatten(kept_local)).astype(np.int64)
    kept_global = constituents[constituent_offsets[:-1][np.repeat(np.arange(n_jets), n_kept)] + flat_local]

    kept_sub = subjets[kept]
    return TrimmedJets(
        px=ak.to_numpy(ak.sum(kept_sub.px, axis=1)).astype(np.float64),
        py=ak.to_numpy(ak.sum(kept_sub.py, axis=1)).astype(np.float64),
        pz=ak.to_numpy(ak.sum(kept_sub.pz, axis=1)).astype(np.float64),
        e=ak.to_numpy(ak.sum(kept_sub.E, axis=1)).astype(np.float64),
        constituents=kept_global, constituent_offsets=kept_offsets,
        subjet_pt=sub_pt, subjet_kept=kept,
    )


@dataclass(frozen=True)
class Selection:
    """The leading trimmed jet per event and how far each event got through the cuts."""

    jet_index: np.ndarray  # [n_events] index into the jets of the batch, -1 without any jet
    pass_pt: np.ndarray  # [n_events] bool, cumulative
    pass_eta: np.ndarray
    pass_mass: np.ndarray


def select_leading(event: np.ndarray, n_events: int, pt_gev: np.ndarray, eta: np.ndarray,
                   mass_gev: np.ndarray, cfg: Mapping[str, float]) -> Selection:
    """Leading jet by (trimmed) pT in each event, then the cumulative pT, |eta| and mass cuts on it."""
    jet_index = np.full(n_events, -1, np.int64)
    if event.size:
        order = np.lexsort((-pt_gev, event))
        first = np.concatenate([[True], event[order][1:] != event[order][:-1]])
        jet_index[event[order][first]] = order[first]
    has = jet_index >= 0
    j = np.where(has, jet_index, 0)
    take = (lambda a: a[j]) if event.size else (lambda a: np.zeros(n_events))
    pass_pt = has & (take(pt_gev) > cfg["pt_min_gev"])
    pass_eta = pass_pt & (np.abs(take(eta)) < cfg["abs_eta_max"])
    pass_mass = pass_eta & (take(mass_gev) > cfg["mass_min_gev"])
    return Selection(jet_index, pass_pt, pass_eta, pass_mass)


def ghosts_of(jets: ClusteredJets, name: str, jet_rows: Sequence[int] | np.ndarray) -> ak.Array:
    """Global ghost indices of collection ``name`` held by each of ``jet_rows``, [n_rows][n_ghosts]."""
    rows = np.asarray(jet_rows, dtype=np.int64)
    off = jets.ghost_offsets[name]
    counts = off[rows + 1] - off[rows]
    starts = np.repeat(off[rows], counts)
    within = local_index(counts)
    return ak.unflatten(jets.ghosts[name][starts + within], counts)
