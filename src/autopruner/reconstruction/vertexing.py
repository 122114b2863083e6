"""Secondary-vertex fit per track jet (an SV1-like tagger input): iterative chi2 fit of displaced tracks.

Tracks are straight lines near the beamline, given by their perigee parameters w.r.t. the nominal beamline (x = y = 0):
the point of closest approach is P = (-d0 sin(phi), d0 cos(phi), z0) (ATLAS perigee convention) and the direction per
unit transverse length is (cos(phi), sin(phi), sinh(eta)). For a vertex v = (x, y, z) the measured (d0, z0) are then
*linear* in v:

    d0 = -x sin(phi) + y cos(phi)
    z0 = -(x cos(phi) + y sin(phi)) sinh(eta) + z

so each iteration is an exact weighted least-squares solve (weights 1/sigma(d0)^2, 1/sigma(z0)^2) with a 3x3 normal
matrix whose inverse is the vertex covariance. Per jet: select displaced tracks, fit, drop the track whose removal
lowers the chi2 most while chi2/ndf is too large, stop below ``min_tracks``. A vertex is kept only if it lies downstream
along the jet and is significantly displaced from the beamline (this is what keeps prompt-only jets vertex-free), and a
two-track vertex of opposite charges is rejected when its mass is that of a K0S (pi pi) or a Lambda (p pi, the proton
on the higher-momentum track): light jets produce such V0 decays at millimetre to centimetre scale, and they are the
main source of displaced vertices in light jets (ATLAS SV1 vetoes them likewise). Everything runs in one numba
loop over all jets of a batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import awkward as ak
import numba
import numpy as np

from autopruner.arrays import offsets_from_counts

PION_MASS_GEV = 0.13957039
PROTON_MASS_GEV = 0.93827209
K0S_MASS_GEV = 0.497611
LAMBDA_MASS_GEV = 1.115683


@dataclass(frozen=True)
class VertexFitSettings:
    """Track selection and quality cuts of the secondary-vertex fit (defaults follow ATLAS SV1 in spirit)."""

    track_pt_min_gev: float = 1.0  # tracks below this are too badly measured to seed a vertex
    abs_d0_sig_min: float = 2.0  # |d0/sigma(d0)| of a track entering the fit
    chi2_ndf_max: float = 3.0  # drop the worst track while chi2/ndf exceeds this
    min_tracks: int = 2  # a vertex needs at least this many tracks
    min_lxy_sig: float = 3.0  # signed L_xy / sigma(L_xy) of an accepted vertex (downstream only)
    max_lxy_mm: float = 100.0  # beyond the inner pixel layers no vertex is reconstructed
    beam_spot_xy_mm: float = 0.015  # transverse primary-vertex spread, added to sigma(L_xy)
    k0s_window_gev: float = 0.02  # |m(pi pi) - m(K0S)| of a rejected opposite-charge two-track vertex (0: no veto)
    lambda_window_gev: float = 0.01  # |m(p pi) - m(Lambda)|, proton mass on the higher-momentum track (0: no veto)

    @classmethod
    def from_config(cls, reco_cfg: Mapping[str, Any]) -> VertexFitSettings:
        """The default settings with the V0-veto windows of the ``reconstruction`` config section."""
        veto = reco_cfg["v0_veto"]
        return cls(k0s_window_gev=float(veto["k0s_window_gev"]), lambda_window_gev=float(veto["lambda_window_gev"]))


@dataclass(frozen=True)
class SecondaryVertices:
    """Fitted vertices of a batch of jets; arrays [n_jets], meaningful where ``has_vertex``."""

    has_vertex: np.ndarray  # bool
    position_mm: np.ndarray  # [n, 3] (x, y, z)
    covariance_mm2: np.ndarray  # [n, 3, 3]
    chi2: np.ndarray
    ndf: np.ndarray  # int
    n_tracks: np.ndarray  # int, tracks in the final vertex (0 when none)
    mass_gev: np.ndarray  # invariant mass of the vertex tracks, pion hypothesis
    energy_fraction: np.ndarray  # E(vertex tracks) / E(all tracks of the jet), pion hypothesis
    lxy_mm: np.ndarray  # transverse decay length, signed by the jet direction
    lxy_err_mm: np.ndarray
    track_in_vertex: ak.Array  # bool [n_jets][n_tracks]: the track belongs to the accepted vertex

    @property
    def lxy_significance(self) -> np.ndarray:
        """Signed L_xy / sigma(L_xy); 0 where the jet has no fit."""
        with np.errstate(divide="ignore", invalid="ignore"):
            sig = np.where(self.lxy_err_mm > 0, self.lxy_mm / self.lxy_err_mm, 0.0)
        return np.nan_to_num(sig, nan=0.0, posinf=0.0, neginf=0.0)


@numba.njit(cache=True)
def _invert_sym3(m: np.ndarray) -> tuple[np.ndarray, bool]:
    """Inverse of a symmetric 3x3 matrix by cofactors; False when (near-)singular."""
    c00 = m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1]
    c01 = m[1, 2] * m[2, 0] - m[1, 0] * m[2, 2]
    c02 = m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0]
    det = m[0, 0] * c00 + m[0, 1] * c01 + m[0, 2] * c02
    inv = np.zeros((3, 3))
    scale = m[0, 0] * m[1, 1] * m[2, 2]
    if not (det > 1e-12 * scale) or scale <= 0.0:
        return inv, False
    inv[0, 0] = c00 / det
    inv[0, 1] = (m[0, 2] * m[2, 1] - m[0, 1] * m[2, 2]) / det
    inv[0, 2] = (m[0, 1] * m[1, 2] - m[0, 2] * m[1, 1]) / det
    inv[1, 0] = c01 / det
    inv[1, 1] = (m[0, 0] * m[2, 2] - m[0, 2] * m[2, 0]) / det
    inv[1, 2] = (m[0, 2] * m[1, 0] - m[0, 0] * m[1, 2]) / det
    inv[2, 0] = c02 / det
    inv[2, 1] = (m[0, 1] * m[2, 0] - m[0, 0] * m[2, 1]) / det
    inv[2, 2] = (m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]) / det
    return inv, True


@numba.njit(cache=True)
def _fit_one(idx, n, d0, z0, phi, sinh_eta, w_d0, w_z0):
    """Weighted LS vertex of tracks idx[:n]: (position, covariance, chi2, chi2 drop per removed track, ok)."""
    m = np.zeros((3, 3))
    rhs = np.zeros(3)
    a = np.zeros(3)
    b = np.zeros(3)
    for k in range(n):
        t = idx[k]
        s, c, sh = np.sin(phi[t]), np.cos(phi[t]), sinh_eta[t]
        a[0], a[1], a[2] = -s, c, 0.0
        b[0], b[1], b[2] = -c * sh, -s * sh, 1.0
        for i in range(3):
            rhs[i] += w_d0[t] * a[i] * d0[t] + w_z0[t] * b[i] * z0[t]
            for j in range(3):
                m[i, j] += w_d0[t] * a[i] * a[j] + w_z0[t] * b[i] * b[j]
    cov, ok = _invert_sym3(m)
    pos = np.zeros(3)
    track_chi2 = np.zeros(n)
    if not ok:
        return pos, cov, 0.0, track_chi2, False
    for i in range(3):
        pos[i] = cov[i, 0] * rhs[0] + cov[i, 1] * rhs[1] + cov[i, 2] * rhs[2]
    total = 0.0
    for k in range(n):
        t = idx[k]
        s, c, sh = np.sin(phi[t]), np.cos(phi[t]), sinh_eta[t]
        a[0], a[1], a[2] = -s, c, 0.0
        b[0], b[1], b[2] = -c * sh, -s * sh, 1.0
        r_d0 = d0[t] - (a[0] * pos[0] + a[1] * pos[1])
        r_z0 = z0[t] - (b[0] * pos[0] + b[1] * pos[1] + pos[2])
        total += r_d0 * r_d0 * w_d0[t] + r_z0 * r_z0 * w_z0[t]
        # chi2 drop on removing track k: r^T (V - H C H^T)^-1 r (robust to the track's own pull on the fit)
        haa = hab = hbb = 0.0
        for i in range(3):
            for j in range(3):
                haa += a[i] * cov[i, j] * a[j]
                hab += a[i] * cov[i, j] * b[j]
                hbb += b[i] * cov[i, j] * b[j]
        r00, r01, r11 = 1.0 / w_d0[t] - haa, -hab, 1.0 / w_z0[t] - hbb
        det = r00 * r11 - r01 * r01
        if det > 0.0:
            track_chi2[k] = (r_d0 * r_d0 * r11 - 2.0 * r_d0 * r_z0 * r01 + r_z0 * r_z0 * r00) / det
        else:  # the fit cannot do without this track: never the one to drop
            track_chi2[k] = 0.0
    return pos, cov, total, track_chi2, True


@numba.njit(cache=True)
def _momentum2(t, pt, sinh_eta):
    """Squared momentum [GeV^2] of track t: pT^2 cosh^2(eta)."""
    return pt[t] * pt[t] * (1.0 + sinh_eta[t] * sinh_eta[t])


@numba.njit(cache=True)
def _pair_mass(first, second, mass_first, mass_second, pt, phi, sinh_eta):
    """Invariant mass [GeV] of tracks ``first`` and ``second`` with the given mass hypotheses."""
    e = np.sqrt(_momentum2(first, pt, sinh_eta) + mass_first**2) + np.sqrt(
        _momentum2(second, pt, sinh_eta) + mass_second**2
    )
    px = pt[first] * np.cos(phi[first]) + pt[second] * np.cos(phi[second])
    py = pt[first] * np.sin(phi[first]) + pt[second] * np.sin(phi[second])
    pz = pt[first] * sinh_eta[first] + pt[second] * sinh_eta[second]
    return np.sqrt(max(e * e - px * px - py * py - pz * pz, 0.0))


@numba.njit(cache=True)
def _is_v0(first, second, charge, pt, phi, sinh_eta, k0s_window_gev, lambda_window_gev):
    """True for an opposite-charge track pair at the K0S (pi pi) or Lambda (p pi) mass.

    In a Lambda decay the proton carries the larger momentum whenever the Lambda has more than ~0.3 GeV, so only that
    assignment is tried: trying both would double the rate at which b-decay track pairs fall into the window.
    """
    if charge[first] * charge[second] >= 0:
        return False
    if abs(_pair_mass(first, second, PION_MASS_GEV, PION_MASS_GEV, pt, phi, sinh_eta) - K0S_MASS_GEV) < k0s_window_gev:
        return True
    higher_first = _momentum2(first, pt, sinh_eta) >= _momentum2(second, pt, sinh_eta)
    proton, pion = (first, second) if higher_first else (second, first)
    m_p_pi = _pair_mass(proton, pion, PROTON_MASS_GEV, PION_MASS_GEV, pt, phi, sinh_eta)
    return abs(m_p_pi - LAMBDA_MASS_GEV) < lambda_window_gev


@numba.njit(cache=True)
def _fit_jets(offsets, d0, z0, phi, sinh_eta, w_d0, w_z0, pt, charge, selected, chi2_ndf_max, min_tracks,
              k0s_window_gev, lambda_window_gev):
    """Iterative drop-the-worst vertex fit for every jet; returns per-jet arrays and per-track 'in vertex'.

    A converged two-track vertex that ``_is_v0`` flags leaves the jet without a vertex.
    """
    n_jets = offsets.size - 1
    fitted = np.zeros(n_jets, dtype=np.bool_)
    position = np.zeros((n_jets, 3))
    covariance = np.zeros((n_jets, 3, 3))
    chi2 = np.zeros(n_jets)
    ndf = np.zeros(n_jets, dtype=np.int64)
    n_trk = np.zeros(n_jets, dtype=np.int64)
    mass = np.zeros(n_jets)
    efrac = np.zeros(n_jets)
    in_vertex = np.zeros(d0.size, dtype=np.bool_)
    m2 = PION_MASS_GEV * PION_MASS_GEV
    for j in range(n_jets):
        lo, hi = offsets[j], offsets[j + 1]
        idx = np.empty(hi - lo, dtype=np.int64)
        n = 0
        for t in range(lo, hi):
            if selected[t]:
                idx[n] = t
                n += 1
        while n >= min_tracks:
            pos, cov, total, track_chi2, ok = _fit_one(idx, n, d0, z0, phi, sinh_eta, w_d0, w_z0)
            if not ok:
                break
            dof = 2 * n - 3
            if total <= chi2_ndf_max * dof:
                if n == 2 and _is_v0(idx[0], idx[1], charge, pt, phi, sinh_eta, k0s_window_gev, lambda_window_gev):
                    break
                fitted[j] = True
                position[j] = pos
                covariance[j] = cov
                chi2[j] = total
                ndf[j] = dof
                n_trk[j] = n
                break
            worst = np.argmax(track_chi2)
            idx[worst] = idx[n - 1]
            n -= 1
        if not fitted[j]:
            continue
        px = py = pz = e_vtx = e_all = 0.0
        for k in range(n):
            in_vertex[idx[k]] = True
        for t in range(lo, hi):
            p_z = pt[t] * sinh_eta[t]
            e = np.sqrt(pt[t] * pt[t] + p_z * p_z + m2)
            e_all += e
            if in_vertex[t]:
                px += pt[t] * np.cos(phi[t])
                py += pt[t] * np.sin(phi[t])
                pz += p_z
                e_vtx += e
        mass[j] = np.sqrt(max(e_vtx * e_vtx - px * px - py * py - pz * pz, 0.0))
        efrac[j] = e_vtx / e_all if e_all > 0.0 else 0.0
    return fitted, position, covariance, chi2, ndf, n_trk, mass, efrac, in_vertex


def _flat(array: ak.Array, dtype=np.float64) -> np.ndarray:
    """Flatten one jagged track field to a contiguous numpy array."""
    return np.ascontiguousarray(ak.to_numpy(ak.flatten(array, axis=1)), dtype=dtype)


def transverse_decay_length(
    position_mm: np.ndarray, covariance_mm2: np.ndarray, jet_phi: np.ndarray, beam_spot_xy_mm: float
) -> tuple[np.ndarray, np.ndarray]:
    """Signed L_xy (positive downstream along the jet) and its error incl. the beam-spot spread."""
    x, y = position_mm[:, 0], position_mm[:, 1]
    lxy = np.hypot(x, y)
    sign = np.where(x * np.cos(jet_phi) + y * np.sin(jet_phi) >= 0.0, 1.0, -1.0)
    safe = np.where(lxy > 0, lxy, 1.0)
    ux, uy = x / safe, y / safe
    var = (
        ux**2 * covariance_mm2[:, 0, 0]
        + 2 * ux * uy * covariance_mm2[:, 0, 1]
        + uy**2 * covariance_mm2[:, 1, 1]
    )
    err = np.sqrt(np.maximum(var, 0.0) + beam_spot_xy_mm**2)
    return sign * lxy, err


def fit_secondary_vertices(
    tracks: ak.Array, jets: ak.Array, settings: VertexFitSettings | None = None
) -> SecondaryVertices:
    """Fit at most one secondary vertex per jet from its displaced tracks ([n_jets][n_tracks] records).

    The records need the fields pt, eta, phi, charge, d0, z0, d0_err and z0_err (charge for the V0 veto).
    """
    settings = settings or VertexFitSettings()
    counts = ak.to_numpy(ak.num(tracks, axis=1)).astype(np.int64)
    offsets = offsets_from_counts(counts)
    d0, z0 = _flat(tracks.d0), _flat(tracks.z0)
    d0_err, z0_err = _flat(tracks.d0_err), _flat(tracks.z0_err)
    pt, eta, phi = _flat(tracks.pt), _flat(tracks.eta), _flat(tracks.phi)
    charge = _flat(tracks.charge, np.int64)
    good_err = (d0_err > 0) & (z0_err > 0) & np.isfinite(d0) & np.isfinite(z0)
    with np.errstate(divide="ignore", invalid="ignore"):
        w_d0 = np.where(good_err, 1.0 / d0_err**2, 0.0)
        w_z0 = np.where(good_err, 1.0 / z0_err**2, 0.0)
        d0_sig = np.where(good_err, np.abs(d0) / np.where(good_err, d0_err, 1.0), 0.0)
    selected = good_err & (pt > settings.track_pt_min_gev) & (d0_sig > settings.abs_d0_sig_min)
    fitted, pos, cov, chi2, ndf, n_trk, mass, efrac, in_vertex = _fit_jets(
        offsets,
        np.where(good_err, d0, 0.0),
        np.where(good_err, z0, 0.0),
        phi,
        np.sinh(eta),
        w_d0,
        w_z0,
        pt,
        charge,
        selected,
        float(settings.chi2_ndf_max),
        int(settings.min_tracks),
        float(settings.k0s_window_gev),
        float(settings.lambda_window_gev),
    )
    jet_phi = np.asarray(ak.to_numpy(jets.phi), dtype=np.float64)
    lxy, lxy_err = transverse_decay_length(pos, cov, jet_phi, settings.beam_spot_xy_mm)
    has = fitted & (lxy > settings.min_lxy_sig * lxy_err) & (np.abs(lxy) < settings.max_lxy_mm)
    return SecondaryVertices(
        has_vertex=has,
        position_mm=pos,
        covariance_mm2=cov,
        chi2=chi2,
        ndf=ndf,
        n_tracks=np.where(has, n_trk, 0),
        mass_gev=mass,
        energy_fraction=efrac,
        lxy_mm=lxy,
        lxy_err_mm=lxy_err,
        track_in_vertex=ak.unflatten(in_vertex & np.repeat(has, counts), counts),
    )
