"""b-tagging inputs per track jet: lifetime-signed impact parameters, IP2D/IP3D likelihood ratios, SV1-like vertex.

Conventions (docs/design.md): a track's d0 follows the ATLAS perigee convention w.r.t. the nominal beamline, i.e. its
point of closest approach (PCA) is d0 * (-sin(phi), cos(phi)); z0 is the absolute z of the PCA along the beam. The
*lifetime sign* of d0 is positive when the PCA lies downstream along the track-jet axis,
sign = sign(d0 * sin(phi_jet - phi_track)); for z0 (taken w.r.t. the primary vertex) it is
sign(z0 * (eta_jet - eta_track)). Tracks from a b-hadron decay therefore populate the positive tails.

Every b-tagging input (templates and per-jet features alike) uses only the tracks that pass the ATLAS IP2D/IP3D track
selection (``TrackSelection``): |d0| < 1 mm, |z0 sin(theta)| < 1.5 mm w.r.t. the reconstructed primary vertex,
pT > 1 GeV. It removes badly measured soft tracks and the strongly displaced daughters of K0S, Lambda and hyperon
decays, whose impact parameters say nothing about b-hadron lifetimes.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from autopruner.arrays import offsets_from_counts
from autopruner.io_utils import CorruptInputError, atomic_output, require_file
from autopruner.reconstruction.vertexing import VertexFitSettings, fit_secondary_vertices

#: sd0_1..3 of a jet with fewer than three tracks: the low edge of the template range (least b-like).
SD0_MISSING = -30.0
#: SV1-style defaults of jets without an accepted secondary vertex (ATLAS uses -1 flags). Accepted vertices have
#: mass > 0, energy fraction in (0, 1] and L_xy significance > VertexFitSettings.min_lxy_sig (3).
SV_MASS_DEFAULT_GEV = -1.0
SV_EFRAC_DEFAULT = -1.0
SV_LXY_SIG_DEFAULT = -1.0
#: pseudo-count added to every template bin after smoothing, so that empty bins never give log(0)
TEMPLATE_PSEUDO_COUNT = 0.5
BTAG_FEATURE_KEYS = ("ip2d_llr", "ip3d_llr", "sd0_1", "sd0_2", "sd0_3", "sv_mass", "sv_efrac", "sv_lxy_sig")
_TEMPLATE_FORMAT_VERSION = 1


def _flat(array: ak.Array) -> np.ndarray:
    """One jagged per-track field as a flat float64 numpy array."""
    return np.asarray(ak.to_numpy(ak.flatten(array, axis=1)), dtype=np.float64)


def _per_track(per_jet: np.ndarray | float, counts: np.ndarray) -> np.ndarray:
    """Repeat a per-jet value (or scalar) for each track of the jet."""
    values = np.broadcast_to(np.asarray(per_jet, dtype=np.float64), counts.shape)
    return np.repeat(values, counts)


def _signed_significance(value: np.ndarray, error: np.ndarray, sign_arg: np.ndarray) -> np.ndarray:
    """|value|/error with the sign of sign_arg (0 counts as positive); 0 where the error is not usable."""
    ok = (error > 0) & np.isfinite(value) & np.isfinite(error)
    with np.errstate(divide="ignore", invalid="ignore"):
        sig = np.where(ok, np.abs(value) / np.where(ok, error, 1.0), 0.0)
    return np.where(sign_arg >= 0, sig, -sig)


@dataclass(frozen=True)
class TrackSelection:
    """The b-tagging track selection (ATLAS IP2D/IP3D): cuts on |d0|, |z0 sin(theta)| and pT."""

    d0_max_mm: float = 1.0  # |d0| w.r.t. the beamline
    z0_sin_theta_max_mm: float = 1.5  # |(z0 - z_PV) sin(theta)|, z_PV the reconstructed primary vertex
    pt_min_gev: float = 1.0

    @classmethod
    def from_config(cls, reco_cfg: Mapping[str, Any]) -> TrackSelection:
        """The selection of the ``reconstruction.btag_track_selection`` config section."""
        sel = reco_cfg["btag_track_selection"]
        return cls(float(sel["d0_max_mm"]), float(sel["z0_sin_theta_max_mm"]), float(sel["pt_min_gev"]))


def track_selection_cuts(
    tracks: ak.Array, pv_z_mm: np.ndarray | float, selection: TrackSelection
) -> dict[str, np.ndarray]:
    """Per cut ('d0', 'z0_sin_theta', 'pt'), whether each track passes it: flat bool arrays over all tracks.

    ``pv_z_mm`` is the reconstructed primary-vertex z per jet [n_jets] or a scalar; a NaN value fails its cut.
    """
    counts = ak.to_numpy(ak.num(tracks, axis=1))
    z0_sin_theta = (_flat(tracks.z0) - _per_track(pv_z_mm, counts)) / np.cosh(_flat(tracks.eta))
    return {
        "d0": np.abs(_flat(tracks.d0)) < selection.d0_max_mm,
        "z0_sin_theta": np.abs(z0_sin_theta) < selection.z0_sin_theta_max_mm,
        "pt": _flat(tracks.pt) > selection.pt_min_gev,
    }


def select_tracks(tracks: ak.Array, pv_z_mm: np.ndarray | float, selection: TrackSelection) -> ak.Array:
    """The tracks of each jet that pass every cut of ``selection``, [n_jets][n_selected]."""
    passing = np.logical_and.reduce(list(track_selection_cuts(tracks, pv_z_mm, selection).values()))
    return tracks[ak.unflatten(passing, ak.to_numpy(ak.num(tracks, axis=1)))]


def signed_d0_significance(tracks: ak.Array, jets: ak.Array) -> ak.Array:
    """Lifetime-signed d0/sigma(d0) of each track w.r.t. its jet axis, [n_jets][n_tracks]."""
    counts = ak.to_numpy(ak.num(tracks, axis=1))
    d0 = _flat(tracks.d0)
    dphi = _per_track(ak.to_numpy(jets.phi), counts) - _flat(tracks.phi)
    sig = _signed_significance(d0, _flat(tracks.d0_err), d0 * np.sin(dphi))
    return ak.unflatten(sig, counts)


def signed_z0_significance(tracks: ak.Array, jets: ak.Array, pv_z_mm: np.ndarray | float) -> ak.Array:
    """Lifetime-signed (z0 - z_PV)/sigma(z0) w.r.t. the jet axis; pv_z_mm per jet [n_jets] or a scalar."""
    counts = ak.to_numpy(ak.num(tracks, axis=1))
    z0 = _flat(tracks.z0) - _per_track(pv_z_mm, counts)
    deta = _per_track(ak.to_numpy(jets.eta), counts) - _flat(tracks.eta)
    sig = _signed_significance(z0, _flat(tracks.z0_err), z0 * deta)
    return ak.unflatten(sig, counts)


def estimate_pv_z_batch(track_z0: ak.Array, track_pt: ak.Array, window_mm: float = 0.5) -> np.ndarray:
    """Primary-vertex z per event [n_events] from its tracks' z0 [mm]: pT^2-weighted median, then the pT^2-weighted mean
    of the tracks within ``window_mm`` of it (robust to displaced tracks); 0 if none."""
    counts = ak.to_numpy(ak.num(track_z0, axis=1)).astype(np.int64)
    n_events = counts.size
    z = _flat(track_z0)
    w = _flat(track_pt) ** 2
    event = np.repeat(np.arange(n_events), counts)
    order = np.lexsort((z, event))
    z_s, w_s, ev_s = z[order], w[order], event[order]
    total = np.bincount(event, weights=w, minlength=n_events)
    cum = np.cumsum(w_s)
    before = np.concatenate([[0.0], cum])[offsets_from_counts(counts)[:-1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = (cum - before[ev_s]) / total[ev_s]
    median = np.zeros(n_events)
    above = np.flatnonzero(frac >= 0.5)
    events_with, first = np.unique(ev_s[above], return_index=True)
    median[events_with] = z_s[above[first]]
    near = np.abs(z - median[event]) < window_mm
    num = np.bincount(event, weights=w * z * near, minlength=n_events)
    den = np.bincount(event, weights=w * near, minlength=n_events)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), median)


def estimate_pv_z(track_z0: np.ndarray, track_pt: np.ndarray) -> float:
    """Primary-vertex z [mm] of one event from its tracks (see estimate_pv_z_batch for the method)."""
    z0 = ak.Array([np.asarray(track_z0, dtype=np.float64)])
    pt = ak.Array([np.asarray(track_pt, dtype=np.float64)])
    return float(estimate_pv_z_batch(z0, pt)[0])


def _smooth(hist: np.ndarray) -> np.ndarray:
    """Apply a [1, 2, 1]/4 kernel along every axis (edge bins reflected), preserving the total."""
    out = hist.astype(np.float64)
    for axis in range(out.ndim):
        padded = np.concatenate([np.take(out, [0], axis=axis), out, np.take(out, [-1], axis=axis)], axis=axis)
        n = out.shape[axis]
        out = (
            0.25 * np.take(padded, range(0, n), axis=axis)
            + 0.5 * out
            + 0.25 * np.take(padded, range(2, n + 2), axis=axis)
        )
    return out


def _pdf(hist: np.ndarray) -> np.ndarray:
    """Smoothed, floored bin probabilities (sum to 1, never 0)."""
    smooth = _smooth(hist) + TEMPLATE_PSEUDO_COUNT
    return smooth / smooth.sum()


def _bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each value on uniform edges; under/overflow go to the edge bins, NaN to the central bin."""
    n = edges.size - 1
    values = np.asarray(values, dtype=np.float64)
    values = np.where(np.isnan(values), 0.5 * (edges[0] + edges[-1]), values)
    idx = np.floor((values - edges[0]) / (edges[-1] - edges[0]) * n)
    return np.clip(np.nan_to_num(idx, nan=0.0, posinf=n - 1, neginf=0), 0, n - 1).astype(np.int64)


@dataclass(frozen=True)
class IPTemplates:
    """b vs light templates of signed IP significances: 1D sd0 (IP2D) and 2D (sd0, sz0) (IP3D)."""

    sd0_edges: np.ndarray
    sz0_edges: np.ndarray
    pdf_b_2d: np.ndarray  # [n_sd0] probabilities per sd0 bin, b tracks
    pdf_light_2d: np.ndarray
    pdf_b_3d: np.ndarray  # [n_sd0, n_sz0]
    pdf_light_3d: np.ndarray
    n_b_tracks: int
    n_light_tracks: int

    @classmethod
    def fit(cls, sd0: np.ndarray, sz0: np.ndarray, is_b: np.ndarray, cfg: dict) -> IPTemplates:
        """Histogram b (is_b) and light (~is_b) tracks; values outside the range go to the edge bins."""
        sd0_edges = np.linspace(*map(float, cfg["sd0_range"]), int(cfg["sd0_bins"]) + 1)
        sz0_edges = np.linspace(*map(float, cfg["sz0_range"]), int(cfg["sz0_bins"]) + 1)
        sd0, sz0 = np.asarray(sd0, dtype=np.float64), np.asarray(sz0, dtype=np.float64)
        is_b = np.asarray(is_b, dtype=bool)
        if not (sd0.shape == sz0.shape == is_b.shape):
            raise ValueError(f"sd0, sz0, is_b shapes differ: {sd0.shape}, {sz0.shape}, {is_b.shape}")
        n_b, n_light = int(is_b.sum()), int((~is_b).sum())
        if n_b == 0 or n_light == 0:
            raise ValueError(f"IP templates need b and light tracks, got {n_b} b and {n_light} light")
        i, j = _bin_index(sd0, sd0_edges), _bin_index(sz0, sz0_edges)
        shape = (sd0_edges.size - 1, sz0_edges.size - 1)
        flat = i * shape[1] + j
        h_b = np.bincount(flat[is_b], minlength=shape[0] * shape[1]).reshape(shape)
        h_l = np.bincount(flat[~is_b], minlength=shape[0] * shape[1]).reshape(shape)
        return cls(
            sd0_edges=sd0_edges,
            sz0_edges=sz0_edges,
            pdf_b_2d=_pdf(h_b.sum(axis=1)),
            pdf_light_2d=_pdf(h_l.sum(axis=1)),
            pdf_b_3d=_pdf(h_b),
            pdf_light_3d=_pdf(h_l),
            n_b_tracks=n_b,
            n_light_tracks=n_light,
        )

    def llr_2d(self, sd0: np.ndarray) -> np.ndarray:
        """Per-track IP2D weight log(P_b/P_light) of the signed d0 significance."""
        i = _bin_index(sd0, self.sd0_edges)
        return np.log(self.pdf_b_2d[i]) - np.log(self.pdf_light_2d[i])

    def llr_3d(self, sd0: np.ndarray, sz0: np.ndarray) -> np.ndarray:
        """Per-track IP3D weight log(P_b/P_light) of the (signed d0, signed z0) significances."""
        i, j = _bin_index(sd0, self.sd0_edges), _bin_index(sz0, self.sz0_edges)
        return np.log(self.pdf_b_3d[i, j]) - np.log(self.pdf_light_3d[i, j])

    def save(self, path: str | Path) -> None:
        """Write the templates as an .npz file, atomically."""
        with atomic_output(path) as tmp, open(tmp, "wb") as handle:
            np.savez(
                handle,
                format_version=_TEMPLATE_FORMAT_VERSION,
                sd0_edges=self.sd0_edges,
                sz0_edges=self.sz0_edges,
                pdf_b_2d=self.pdf_b_2d,
                pdf_light_2d=self.pdf_light_2d,
                pdf_b_3d=self.pdf_b_3d,
                pdf_light_3d=self.pdf_light_3d,
                n_b_tracks=self.n_b_tracks,
                n_light_tracks=self.n_light_tracks,
            )

    @classmethod
    def load(cls, path: str | Path) -> IPTemplates:
        """Read templates written by save(); a missing or unreadable file raises an error naming it."""
        path = require_file(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                if int(data["format_version"]) != _TEMPLATE_FORMAT_VERSION:
                    raise ValueError(f"format version {int(data['format_version'])}")
                arrays = {
                    k: np.array(data[k])
                    for k in (
                        "sd0_edges",
                        "sz0_edges",
                        "pdf_b_2d",
                        "pdf_light_2d",
                        "pdf_b_3d",
                        "pdf_light_3d",
                    )
                }
                counts = {k: int(data[k]) for k in ("n_b_tracks", "n_light_tracks")}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise CorruptInputError(f"cannot read IP templates {path}: {exc}") from exc
        return cls(**arrays, **counts)


def _top_k_sd0(sd0: ak.Array, k: int = 3) -> list[np.ndarray]:
    """The k largest signed d0 significances per jet (SD0_MISSING where the jet has fewer tracks)."""
    top = ak.pad_none(ak.sort(sd0, axis=1, ascending=False), k, axis=1, clip=True)
    top = ak.to_numpy(ak.fill_none(top, SD0_MISSING)).astype(np.float64)
    return [top[:, i] for i in range(k)]


def _finite32(values: np.ndarray, default: float) -> np.ndarray:
    """float32 copy with any non-finite entry replaced by ``default`` (the output contract: no NaN/inf)."""
    out = np.asarray(values, dtype=np.float64)
    out = np.where(np.isfinite(out), out, default)
    return np.clip(out, -1e30, 1e30).astype(np.float32)


def track_jet_btag_features(
    tracks: ak.Array,
    jets: ak.Array,
    pv_z_mm: np.ndarray | float,
    templates: IPTemplates,
    sv_settings: VertexFitSettings | None = None,
) -> dict[str, np.ndarray]:
    """The b-tagging inputs of each track jet as float32 arrays [n_jets] (keys: BTAG_FEATURE_KEYS).

    ``tracks`` are the jets' tracks after the b-tagging selection (``select_tracks``); a jet left without tracks gets
    the defaults (IP2D/IP3D 0, sd0 SD0_MISSING, no vertex).
    """
    counts = ak.to_numpy(ak.num(tracks, axis=1)).astype(np.int64)
    jet_of_track = np.repeat(np.arange(counts.size), counts)
    sd0 = signed_d0_significance(tracks, jets)
    sz0 = signed_z0_significance(tracks, jets, pv_z_mm)
    sd0_flat, sz0_flat = _flat(sd0), _flat(sz0)
    ip2d = np.bincount(jet_of_track, weights=templates.llr_2d(sd0_flat), minlength=counts.size)
    ip3d = np.bincount(jet_of_track, weights=templates.llr_3d(sd0_flat, sz0_flat), minlength=counts.size)
    sd0_1, sd0_2, sd0_3 = _top_k_sd0(sd0)
    sv = fit_secondary_vertices(tracks, jets, sv_settings)
    has = sv.has_vertex
    return {
        "ip2d_llr": _finite32(ip2d, 0.0),
        "ip3d_llr": _finite32(ip3d, 0.0),
        "sd0_1": _finite32(sd0_1, SD0_MISSING),
        "sd0_2": _finite32(sd0_2, SD0_MISSING),
        "sd0_3": _finite32(sd0_3, SD0_MISSING),
        "sv_mass": _finite32(np.where(has, sv.mass_gev, SV_MASS_DEFAULT_GEV), SV_MASS_DEFAULT_GEV),
        "sv_efrac": _finite32(np.where(has, sv.energy_fraction, SV_EFRAC_DEFAULT), SV_EFRAC_DEFAULT),
        "sv_lxy_sig": _finite32(np.where(has, sv.lxy_significance, SV_LXY_SIG_DEFAULT), SV_LXY_SIG_DEFAULT),
    }
