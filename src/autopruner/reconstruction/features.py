"""From event files to the 39 candidate features: jets, ghost association, truth labels, b-tagging inputs.

One candidate per event: the leading trimmed large-R jet passing the config cuts, with its two leading ghost-associated
VR track jets. The track jets are clustered from all tracks above ``track_jets.track_pt_min_gev``; their b-tagging
inputs, like the IP templates, use only the tracks passing ``btag_track_selection`` (``btag_tracks_of_jets``). A shard
is processed in chunks of CHUNK_EVENTS events so memory stays flat.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np

from autopruner.arrays import local_index, offsets_from_counts
from autopruner.event_io import reproducible_root_file
from autopruner.io_utils import atomic_output, require_file
from autopruner.kinematics import delta_r
from autopruner.reconstruction import btagging
from autopruner.reconstruction.large_r_jets import (
    GHOST_SCALE,
    FlatP4,
    cluster_antikt_with_ghosts,
    concatenate_per_event,
    ghosts_of,
    p4_pt_eta_phi_m,
    select_leading,
    trim,
)
from autopruner.reconstruction.substructure import substructure
from autopruner.reconstruction.vertexing import VertexFitSettings
from autopruner.reconstruction.vr_jets import cluster_variable_r
from autopruner.schema import (
    CUTFLOW_STEPS,
    EXTRA_BRANCHES,
    FEATURE_NAMES,
    FLAVOUR_B,
    FLAVOUR_C,
    ROLE_HIGGS_B,
    SIGNAL_PROCESS_ID,
)

CHUNK_EVENTS = 2000
RECO_TRACK_FIELDS = ("pt", "eta", "phi", "e", "charge", "d0", "z0", "d0_err", "z0_err")


def _np(array: ak.Array, dtype=np.float64) -> np.ndarray:
    """A flat numpy copy of a (flattened) awkward array."""
    return np.asarray(ak.to_numpy(array), dtype=dtype)


def take(values: np.ndarray, index: ak.Array) -> ak.Array:
    """``values[index]`` for a jagged index array (awkward cannot index a flat array with a jagged one)."""
    return ak.unflatten(values[_np(ak.flatten(index), np.int64)], _np(ak.num(index, axis=1), np.int64))


@dataclass(frozen=True)
class Collection:
    """One jagged collection of the event file, flattened: numpy arrays per field plus event offsets."""

    fields: dict[str, np.ndarray]
    offsets: np.ndarray

    @classmethod
    def from_events(cls, events: ak.Array, prefix: str, names: tuple[str, ...], mask: ak.Array | None = None):
        """Read ``{prefix}_{name}`` branches (optionally masked per object) as flat arrays."""
        columns = {n: events[f"{prefix}_{n}"] for n in names}
        if mask is not None:
            columns = {n: c[mask] for n, c in columns.items()}
        counts = _np(ak.num(columns[names[0]], axis=1), np.int64)
        flat = {n: _np(ak.flatten(c)) for n, c in columns.items()}
        return cls(flat, offsets_from_counts(counts))

    def __getitem__(self, name: str) -> np.ndarray:
        return self.fields[name]

    @property
    def counts(self) -> np.ndarray:
        """Objects per event."""
        return np.diff(self.offsets)

    @property
    def event(self) -> np.ndarray:
        """Event index of each object."""
        return np.repeat(np.arange(self.offsets.size - 1), np.diff(self.offsets))


@dataclass(frozen=True)
class TrackJets:
    """VR track jets passing the selection, flat over the batch (pT-ordered within each event)."""

    event: np.ndarray
    p4: FlatP4  # real-track four-momenta, offsets per event
    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    mass: np.ndarray
    n_tracks: np.ndarray
    flavour: np.ndarray  # 5 / 4 / 0 from ghost-associated hadrons
    track_jet: np.ndarray  # per selected track: index of its selected track jet, -1 if none


def build_track_jets(tracks: Collection, hadrons: Collection, cfg: Mapping[str, Any]) -> TrackJets:
    """Cluster tracks (plus hadron ghosts for the flavour label) into VR jets and keep the selected ones."""
    trk = FlatP4.from_pt_eta_phi(tracks["pt"], tracks["eta"], tracks["phi"], tracks["e"], tracks.offsets)
    had = FlatP4.from_pt_eta_phi(hadrons["pt"], hadrons["eta"], hadrons["phi"], hadrons["m"], hadrons.offsets,
                                 is_mass=True).scaled(GHOST_SCALE)
    merged, part, index = concatenate_per_event([trk, had])
    vr = cluster_variable_r(merged.px, merged.py, merged.pz, merged.e, merged.offsets,
                            cfg["rho_gev"], cfg["r_min"], cfg["r_max"])
    n_all = vr.px.size
    event_of_input = np.repeat(np.arange(merged.offsets.size - 1), merged.counts)
    jet_of_input = vr.jet_offsets[event_of_input] + vr.particle_jet
    is_trk, is_had = part == 0, part == 1
    jet_of_track = np.empty(trk.px.size, np.int64)
    jet_of_track[index[is_trk]] = jet_of_input[is_trk]
    sums = {f: np.bincount(jet_of_track, getattr(trk, f), n_all) for f in ("px", "py", "pz", "e")}
    n_tracks = np.bincount(jet_of_track, minlength=n_all)
    had_flav = hadrons["flavour"][index[is_had]]
    n_b = np.bincount(jet_of_input[is_had], had_flav == FLAVOUR_B, n_all)
    n_c = np.bincount(jet_of_input[is_had], had_flav == FLAVOUR_C, n_all)
    pt, eta, phi, mass = p4_pt_eta_phi_m(sums["px"], sums["py"], sums["pz"], sums["e"])

    keep = (pt > cfg["pt_min_gev"]) & (n_tracks >= cfg["min_tracks"])
    jet_event = np.repeat(np.arange(vr.jet_offsets.size - 1), np.diff(vr.jet_offsets))
    order = np.flatnonzero(keep)
    order = order[np.lexsort((-pt[order], jet_event[order]))]
    new_index = np.full(n_all, -1, np.int64)
    new_index[order] = np.arange(order.size)
    counts = np.bincount(jet_event[order], minlength=vr.jet_offsets.size - 1)
    flavour = np.where(n_b[order] > 0, FLAVOUR_B, np.where(n_c[order] > 0, FLAVOUR_C, 0)).astype(np.int8)
    return TrackJets(
        event=jet_event[order],
        p4=FlatP4(*(sums[f][order] for f in ("px", "py", "pz", "e")),
                  offsets_from_counts(counts)),
        pt=pt[order], eta=eta[order], phi=phi[order], mass=mass[order], n_tracks=n_tracks[order],
        flavour=flavour, track_jet=new_index[jet_of_track],
    )


def tracks_of_jets(tracks: Collection, track_jets: TrackJets, jet_rows: np.ndarray) -> ak.Array:
    """Track records (btagging's fields) of the selected track jets ``jet_rows``, [n_rows][n_tracks]."""
    row_of_jet = np.full(track_jets.pt.size, -1, np.int64)
    row_of_jet[jet_rows] = np.arange(jet_rows.size)
    row = np.where(track_jets.track_jet >= 0, row_of_jet[np.maximum(track_jets.track_jet, 0)], -1)
    chosen = np.flatnonzero(row >= 0)
    chosen = chosen[np.argsort(row[chosen], kind="stable")]
    counts = np.bincount(row[chosen], minlength=jet_rows.size)
    records = ak.zip({f: tracks[f][chosen] for f in RECO_TRACK_FIELDS})
    return ak.unflatten(records, counts)


def primary_vertex_z(tracks: Collection) -> np.ndarray:
    """Reconstructed primary-vertex z [mm] per event from the selected tracks (btagging's estimator)."""
    return btagging.estimate_pv_z_batch(ak.unflatten(tracks["z0"], tracks.counts),
                                        ak.unflatten(tracks["pt"], tracks.counts))


def btag_tracks_of_jets(tracks: Collection, track_jets: TrackJets, jet_rows: np.ndarray, pv_z_mm: np.ndarray,
                        reco_cfg: Mapping[str, Any]) -> ak.Array:
    """The tracks of the track jets ``jet_rows`` that pass the b-tagging track selection, [n_rows][n_tracks].

    ``pv_z_mm`` is the reconstructed primary-vertex z of each row. Templates and candidate features both take their
    tracks from here, so they always see the same selection.
    """
    selection = btagging.TrackSelection.from_config(reco_cfg)
    return btagging.select_tracks(tracks_of_jets(tracks, track_jets, jet_rows), pv_z_mm, selection)


def jet_records(track_jets: TrackJets, rows: np.ndarray) -> ak.Array:
    """Track-jet four-vectors (pt, eta, phi, m) for btagging, [n_rows]."""
    return ak.zip({"pt": track_jets.pt[rows], "eta": track_jets.eta[rows], "phi": track_jets.phi[rows],
                   "m": track_jets.mass[rows]})


@dataclass(frozen=True)
class EventChunk:
    """The collections of one chunk of events that reconstruction uses."""

    n_events: int
    tracks: Collection
    towers: Collection
    hadrons: Collection
    partons: Collection
    event_id: np.ndarray
    process_id: np.ndarray
    weight: np.ndarray


def load_chunk(events: ak.Array, cfg: Mapping[str, Any]) -> EventChunk:
    """Flatten the collections of ``events``; tracks below the track-jet input threshold are dropped."""
    track_mask = events["track_pt"] > cfg["track_jets"]["track_pt_min_gev"]
    return EventChunk(
        n_events=len(events),
        tracks=Collection.from_events(events, "track", RECO_TRACK_FIELDS, track_mask),
        towers=Collection.from_events(events, "tower", ("pt", "eta", "phi", "e")),
        hadrons=Collection.from_events(events, "hadron", ("pt", "eta", "phi", "m", "flavour")),
        partons=Collection.from_events(events, "parton", ("eta", "phi", "role")),
        event_id=_np(events["event_id"], np.uint64),
        process_id=_np(events["process_id"], np.int32),
        weight=_np(events["weight"], np.float64),
    )


def _higgs_matched(chunk: EventChunk, events: np.ndarray, fj_eta: np.ndarray, fj_phi: np.ndarray,
                   max_dr: float) -> np.ndarray:
    """Both b quarks from the Higgs decay within ``max_dr`` of the jet axis (per selected event)."""
    p = chunk.partons
    is_hb = p["role"] == ROLE_HIGGS_B
    ev = p.event[is_hb]
    row_of_event = np.full(chunk.n_events, -1, np.int64)
    row_of_event[events] = np.arange(events.size)
    rows = row_of_event[ev]
    sel = rows >= 0
    dr = delta_r(p["eta"][is_hb][sel], p["phi"][is_hb][sel], fj_eta[rows[sel]], fj_phi[rows[sel]])
    n_hb = np.bincount(rows[sel], minlength=events.size)
    n_close = np.bincount(rows[sel], dr < max_dr, events.size)
    return (n_hb == 2) & (n_close == 2)


def reconstruct_chunk(events: ak.Array, templates: btagging.IPTemplates, reco_cfg: Mapping[str, Any]
                      ) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Candidates and cut flow of one chunk of events (see the module docstring)."""
    lr_cfg, tj_cfg = reco_cfg["large_r"], reco_cfg["track_jets"]
    chunk = load_chunk(events, reco_cfg)
    tj = build_track_jets(chunk.tracks, chunk.hadrons, tj_cfg)
    towers = FlatP4.from_pt_eta_phi(chunk.towers["pt"], chunk.towers["eta"], chunk.towers["phi"],
                                    chunk.towers["e"], chunk.towers.offsets)
    t = chunk.tracks
    ghosts = {
        "tracks": FlatP4.from_pt_eta_phi(t["pt"], t["eta"], t["phi"], t["e"], t.offsets).scaled(GHOST_SCALE),
        "hadrons": FlatP4.from_pt_eta_phi(chunk.hadrons["pt"], chunk.hadrons["eta"], chunk.hadrons["phi"],
                                          chunk.hadrons["m"], chunk.hadrons.offsets, is_mass=True
                                          ).scaled(GHOST_SCALE),
        "trackjets": tj.p4.scaled(GHOST_SCALE),
    }
    # trimming only lowers pT in practice: untrimmed jets far below the cut cannot become candidates
    jets = cluster_antikt_with_ghosts(towers, ghosts, lr_cfg["radius"], 0.5 * lr_cfg["pt_min_gev"])
    trimmed = trim(towers, jets.constituents, jets.constituent_offsets, lr_cfg["trim_radius"],
                   lr_cfg["trim_fcut"])
    fj_pt, fj_eta, fj_phi, fj_m = p4_pt_eta_phi_m(trimmed.px, trimmed.py, trimmed.pz, trimmed.e)
    sel = select_leading(jets.event, chunk.n_events, fj_pt, fj_eta, fj_m, lr_cfg)

    # two leading ghost-associated track jets
    ev = np.flatnonzero(sel.pass_mass)
    jet = sel.jet_index[ev]
    assoc = ghosts_of(jets, "trackjets", jet)
    assoc = assoc[ak.argsort(take(tj.pt, assoc), axis=1, ascending=False)]
    n_tj = _np(ak.num(assoc, axis=1), np.int64)
    two = n_tj >= 2
    is_signal = chunk.process_id[ev] == SIGNAL_PROCESS_ID
    matched = _higgs_matched(chunk, ev, fj_eta[jet], fj_phi[jet], reco_cfg["truth_match_dr"])
    keep = two & (matched | ~is_signal)
    cutflow = {
        "events": chunk.n_events, "fj_pt": int(sel.pass_pt.sum()), "fj_eta": int(sel.pass_eta.sum()),
        "fj_mass": int(sel.pass_mass.sum()), "two_track_jets": int(two.sum()),
        "higgs_matched": int(keep.sum()), "candidates": int(keep.sum()),
    }
    ev, jet, assoc, n_tj, matched = ev[keep], jet[keep], assoc[keep], n_tj[keep], matched[keep]
    lead = _np(assoc[:, :2], np.int64).reshape(-1, 2)
    columns = _candidate_columns(chunk, jets, trimmed, towers, tj, templates, ev, jet, lead, n_tj, matched, reco_cfg)
    return columns, cutflow


def _candidate_columns(chunk, jets, trimmed, towers, tj, templates, ev, jet, lead, n_tj, matched, reco_cfg
                       ) -> dict[str, np.ndarray]:
    """Output columns of the candidates: events ``ev``, large-R jets ``jet``, track jets ``lead``."""
    if ev.size == 0:
        return _concatenate([])
    fj_pt, fj_eta, fj_phi, fj_m = p4_pt_eta_phi_m(trimmed.px[jet], trimmed.py[jet], trimmed.pz[jet],
                                                  trimmed.e[jet])
    off = trimmed.constituent_offsets
    n_const = off[jet + 1] - off[jet]
    idx = trimmed.constituents[np.repeat(off[jet], n_const) + local_index(n_const)]
    rows = ak.unflatten(ak.zip({"px": towers.px[idx], "py": towers.py[idx], "pz": towers.pz[idx],
                                "E": towers.e[idx]}, with_name="Momentum4D"), n_const)
    sub = substructure(rows, fj_m)
    had = ghosts_of(jets, "hadrons", jet)
    n_b_had = _np(ak.sum(take(chunk.hadrons["flavour"], had) == FLAVOUR_B, axis=1), np.int32)

    out: dict[str, np.ndarray] = {
        "fj_pt": fj_pt, "fj_eta": fj_eta, "fj_mass": fj_m,
        **{f"fj_{k}": v for k, v in sub.items()},
        "fj_n_constituents": n_const, "fj_n_tracks": _np(ak.num(ghosts_of(jets, "tracks", jet), axis=1)),
        "fj_n_trackjets": n_tj,
    }
    j1, j2 = lead[:, 0], lead[:, 1]
    out["tj_dr12"] = delta_r(tj.eta[j1], tj.phi[j1], tj.eta[j2], tj.phi[j2])
    p = tj.p4
    out["tj_mass12"] = p4_pt_eta_phi_m(p.px[j1] + p.px[j2], p.py[j1] + p.py[j2], p.pz[j1] + p.pz[j2],
                                       p.e[j1] + p.e[j2])[3]
    rows = lead.reshape(-1)  # tj1, tj2 of candidate 0, then of candidate 1, ...
    pv_z = np.repeat(primary_vertex_z(chunk.tracks)[ev], 2)
    btag = btagging.track_jet_btag_features(btag_tracks_of_jets(chunk.tracks, tj, rows, pv_z, reco_cfg),
                                            jet_records(tj, rows), pv_z, templates,
                                            VertexFitSettings.from_config(reco_cfg))
    for k, tj_rows in ((1, j1), (2, j2)):
        out[f"tj{k}_pt_frac"] = tj.pt[tj_rows] / fj_pt
        out[f"tj{k}_dr_fj"] = delta_r(tj.eta[tj_rows], tj.phi[tj_rows], fj_eta, fj_phi)
        out[f"tj{k}_mass"] = tj.mass[tj_rows]
        out[f"tj{k}_n_tracks"] = tj.n_tracks[tj_rows]
        for key in btagging.BTAG_FEATURE_KEYS:
            out[f"tj{k}_{key}"] = btag[key][k - 1::2]
    columns = {name: np.asarray(out[name], dtype=np.float32) for name in FEATURE_NAMES}
    columns.update(
        label=(chunk.process_id[ev] == SIGNAL_PROCESS_ID).astype(np.int8),
        event_id=chunk.event_id[ev], process_id=chunk.process_id[ev], weight=chunk.weight[ev],
        n_b_hadrons=n_b_had, higgs_matched=np.asarray(matched, dtype=np.bool_),
        tj1_flavour=tj.flavour[j1], tj2_flavour=tj.flavour[j2],
    )
    return {k: np.asarray(v, dtype=EXTRA_BRANCHES.get(k, np.float32)) for k, v in columns.items()}


def iter_event_chunks(events_path: str | os.PathLike, chunk_events: int = CHUNK_EVENTS) -> Iterator[ak.Array]:
    """The events of one file, read chunk by chunk; a missing or unreadable file raises an error naming it."""
    from autopruner.event_io import iterate_events

    yield from iterate_events(events_path, chunk_events)


def _concatenate(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Column-wise concatenation of candidate dicts (an empty, typed dict when there are none)."""
    names = (*FEATURE_NAMES, *EXTRA_BRANCHES)
    if not parts:
        return {k: np.zeros(0, EXTRA_BRANCHES.get(k, np.float32)) for k in names}
    return {k: np.concatenate([p[k] for p in parts]) for k in names}


def reconstruct_shard(events_path: str | os.PathLike, templates_path: str | os.PathLike,
                      reco_cfg: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Candidates (FEATURE_NAMES + EXTRA_BRANCHES columns) and the cut flow of one event shard."""
    require_file(events_path)
    templates = btagging.IPTemplates.load(templates_path)
    parts, cutflow = [], dict.fromkeys(CUTFLOW_STEPS, 0)
    for events in iter_event_chunks(events_path):
        columns, flow = reconstruct_chunk(events, templates, reco_cfg)
        parts.append(columns)
        cutflow = {k: cutflow[k] + flow[k] for k in CUTFLOW_STEPS}
    return _concatenate(parts), cutflow


def write_candidates(path: str | os.PathLike, candidates: Mapping[str, np.ndarray]) -> None:
    """Write the ``candidates`` TTree (features then EXTRA_BRANCHES, docs/design.md), atomically and byte for byte
    reproducibly (`event_io.reproducible_root_file`, its UUID from the path as given)."""
    names = (*FEATURE_NAMES, *EXTRA_BRANCHES)
    missing = [k for k in names if k not in candidates]
    if missing:
        raise KeyError(f"candidate columns missing: {missing}")
    arrays = {k: np.asarray(candidates[k], dtype=EXTRA_BRANCHES.get(k, np.float32)) for k in names}
    with reproducible_root_file(path, f"candidates:{os.fspath(path)}") as out:
        tree = out.mktree("candidates", {k: v.dtype for k, v in arrays.items()})
        if arrays["label"].size:
            tree.extend(arrays)


def write_shard_cutflow(path: str | os.PathLike, cutflow: Mapping[str, int]) -> None:
    """The cut flow of one shard as JSON (steps in CUTFLOW_STEPS order), atomically."""
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps({k: int(cutflow[k]) for k in CUTFLOW_STEPS}, indent=2) + "\n")


def track_jets_for_templates(events_path: str | os.PathLike, reco_cfg: Mapping[str, Any]
                             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signed d0 and z0 significances of the selected tracks in b- and light-labelled VR track jets, is_b per track.

    c-labelled jets are left out: the templates contrast b with light.
    """
    parts = [template_tracks(events, reco_cfg) for events in iter_event_chunks(events_path)]
    if not parts:
        return np.zeros(0), np.zeros(0), np.zeros(0, bool)
    return tuple(np.concatenate(p) for p in zip(*parts, strict=True))


def template_tracks(events: ak.Array, reco_cfg: Mapping[str, Any]
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sd0, sz0, is_b) of the selected tracks (``btag_tracks_of_jets``) in the b- and light-labelled VR track jets."""
    chunk = load_chunk(events, reco_cfg)
    tj = build_track_jets(chunk.tracks, chunk.hadrons, reco_cfg["track_jets"])
    rows = np.flatnonzero((tj.flavour == FLAVOUR_B) | (tj.flavour == 0))
    pv_z = primary_vertex_z(chunk.tracks)[tj.event[rows]]
    tracks, jets = btag_tracks_of_jets(chunk.tracks, tj, rows, pv_z, reco_cfg), jet_records(tj, rows)
    sd0 = _np(ak.flatten(btagging.signed_d0_significance(tracks, jets)))
    sz0 = _np(ak.flatten(btagging.signed_z0_significance(tracks, jets, pv_z)))
    is_b = np.repeat(tj.flavour[rows] == FLAVOUR_B, _np(ak.num(tracks, axis=1), np.int64))
    return sd0, sz0, is_b


def fit_ip_templates(events_paths: Sequence[str | os.PathLike], reco_cfg: Mapping[str, Any]) -> btagging.IPTemplates:
    """IP2D/IP3D templates fitted on the b- and light-jet tracks of the calibration event files."""
    parts = [track_jets_for_templates(path, reco_cfg) for path in events_paths]
    sd0, sz0, is_b = (np.concatenate(p) for p in zip(*parts, strict=True))
    return btagging.IPTemplates.fit(sd0, sz0, is_b, reco_cfg["ip_templates"])
