"""ATLAS-like fast detector: tracks (efficiency, pT and impact-parameter resolution) and calorimeter towers.

Consumes the generic particle table (`autopruner.particles.ParticleTable`), so any generator can feed it. Only charged
particles produced inside the pixel volume (transverse production radius below ``track_max_production_radius_mm``)
become tracks: a track needs hits in the innermost layers, so the daughters of K0S, Lambda and hyperon decays at
centimetre to metre scale are not tracked, as in ATLAS. Track impact parameters come from the exact helix in the
solenoid field through the true production vertex, relative to the nominal beamline (d0) and to the true
primary-vertex z (z0); the quoted d0 error includes the beam-spot size, so prompt tracks have unit-width d0
significance. Towers collect the calorimeter deposits of all visible particles (charged ones bent to the calorimeter
radius) in eta-phi cells and smear the EM and hadronic parts separately.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from autopruner.kinematics import invariant_mass, pt_eta_phi
from autopruner.particles import NEUTRINO_PDGIDS, ParticleTable

# 0.299792458 GeV / (T m): pT = 0.3 B R
C_GEV_PER_T_M = 0.299792458


@dataclass
class DetectorResponse:
    """Tracks and towers of many events: flat arrays keyed by field name, with per-event counts."""

    tracks: dict[str, np.ndarray]
    track_counts: np.ndarray
    towers: dict[str, np.ndarray]
    tower_counts: np.ndarray


def track_efficiency(pt_gev: np.ndarray, abs_eta: np.ndarray, eff_cfg: dict) -> np.ndarray:
    """Tracking efficiency of charged particles (Delphes ATLAS card form: two pT bins x two |eta| bins)."""
    central = abs_eta <= eff_cfg["abs_eta_split"]
    high_pt = pt_gev > eff_cfg["pt_split_gev"]
    c_lo, c_hi = eff_cfg["central"]
    f_lo, f_hi = eff_cfg["forward"]
    return np.where(central, np.where(high_pt, c_hi, c_lo), np.where(high_pt, f_hi, f_lo))


def pt_resolution(pt_gev: np.ndarray, abs_eta: np.ndarray, res_cfg: dict) -> np.ndarray:
    """Relative track pT resolution sigma(pT)/pT = constant (+) per_gev * pT in the |eta| bin of each track."""
    ibin = np.minimum(
        np.searchsorted(np.asarray(res_cfg["abs_eta_edges"]), abs_eta), len(res_cfg["constant"]) - 1
    )
    const = np.asarray(res_cfg["constant"])[ibin]
    slope = np.asarray(res_cfg["per_gev"])[ibin]
    return np.hypot(const, slope * pt_gev)


def ip_tail_factor(n_tracks: int, tail_cfg: dict, rng: np.random.Generator) -> np.ndarray:
    """Per-track factor on the IP smearing: ``scale`` for a ``fraction`` of tracks, 1 for the rest.

    Real trackers have non-Gaussian impact-parameter tails (hadronic interactions in the material, wrong hits, multiple
    scattering tails) that the quoted error does not cover; they, not the Gaussian core, limit the light-jet rejection
    of IP taggers. The reported ``d0_err``/``z0_err`` stay the core resolution.
    """
    return np.where(rng.random(n_tracks) < tail_cfg["fraction"], tail_cfg["scale"], 1.0)


def ip_resolution(pt_gev: np.ndarray, res_cfg: dict) -> np.ndarray:
    """Impact-parameter resolution [mm]: constant (+) over_pt / pT."""
    return np.hypot(res_cfg["constant_mm"], res_cfg["over_pt_mm_gev"] / pt_gev)


def helix_impact_parameters(x_mm, y_mm, z_mm, px, py, pz, charge, b_field_t):
    """Transverse (ATLAS sign convention) and longitudinal impact parameters [mm] of helices w.r.t. the z axis.

    d0 = h (R - |c|) with c the helix centre, h the charge sign and R the radius, written in a cancellation-free form;
    d0 -> -x sin(phi) + y cos(phi) for straight tracks. z0 is the z of the point of closest approach (straight-line
    extrapolation, exact to O(L^2 / R)).
    """
    pt = np.hypot(px, py)
    sin_phi, cos_phi = py / pt, px / pt
    h = np.sign(charge).astype(np.float64)
    radius_mm = 1000.0 * pt / (C_GEV_PER_T_M * b_field_t)
    cx = x_mm + h * radius_mm * sin_phi
    cy = y_mm - h * radius_mm * cos_phi
    d0 = (2.0 * radius_mm * (y_mm * cos_phi - x_mm * sin_phi) - h * (x_mm**2 + y_mm**2)) / (
        radius_mm + np.hypot(cx, cy)
    )
    s_xy = -(x_mm * cos_phi + y_mm * sin_phi)
    z_pca = z_mm + s_xy * pz / pt
    return d0, z_pca


def production_radius_mm(particles: ParticleTable) -> np.ndarray:
    """Transverse distance [mm] of each particle's production vertex from the nominal beamline (x = y = 0)."""
    return np.hypot(particles.vx, particles.vy)


def reconstruct_tracks(particles: ParticleTable, det_cfg: dict, rng: np.random.Generator, pt_eta_phi_=None):
    """Tracks of the charged particles inside the tracker, with efficiency and smearing.

    A particle produced at a transverse radius of ``track_max_production_radius_mm`` or more leaves no hit in the
    innermost pixel layer and gives no track. That cut is applied after every random draw, so for a given seed the
    remaining tracks (and the towers, which draw from the same stream afterwards) are exactly those the detector gives
    without it: the cut only removes tracks.

    Returns (dict of flat track arrays, per-event counts); `particle_index` points into the flat particle table.
    `pt_eta_phi_` may pass the particles' precomputed (pt, eta, phi).
    """
    p = particles
    pt, eta, phi = pt_eta_phi(p.px, p.py, p.pz) if pt_eta_phi_ is None else pt_eta_phi_
    cand = (
        (p.charge != 0) & (np.abs(eta) < det_cfg["tracker_abs_eta_max"]) & (pt > det_cfg["track_pt_min_gev"])
    )
    idx = np.flatnonzero(cand)
    eff = track_efficiency(pt[idx], np.abs(eta[idx]), det_cfg["track_efficiency"])
    idx = idx[rng.random(idx.size) < eff]
    pt_t, eta_t = pt[idx], eta[idx]
    pt_meas = np.abs(
        pt_t
        * (
            1.0
            + pt_resolution(pt_t, np.abs(eta_t), det_cfg["track_pt_resolution"])
            * rng.standard_normal(idx.size)
        )
    )
    d0_true, z_pca = helix_impact_parameters(
        p.vx[idx],
        p.vy[idx],
        p.vz[idx],
        p.px[idx],
        p.py[idx],
        p.pz[idx],
        p.charge[idx],
        det_cfg["magnetic_field_t"],
    )
    event = np.searchsorted(np.cumsum(p.counts), idx, side="right")
    z0_true = z_pca - p.pv[event, 2]
    sig_d0 = ip_resolution(pt_meas, det_cfg["d0_resolution"])
    sig_z0 = ip_resolution(pt_meas, det_cfg["z0_resolution"])
    tail = ip_tail_factor(idx.size, det_cfg["ip_tails"], rng)
    d0 = d0_true + tail * sig_d0 * rng.standard_normal(idx.size)
    z0 = z0_true + tail * sig_z0 * rng.standard_normal(idx.size)
    mass = invariant_mass(p.px[idx], p.py[idx], p.pz[idx], p.e[idx])
    tracks = {
        "pt": pt_meas.astype(np.float32),
        "eta": eta_t.astype(np.float32),
        "phi": phi[idx].astype(np.float32),
        "charge": p.charge[idx].astype(np.int8),
        "d0": d0.astype(np.float32),
        "z0": z0.astype(np.float32),
        "d0_err": np.hypot(sig_d0, det_cfg["beam_spot_xy_mm"]).astype(np.float32),
        "z0_err": sig_z0.astype(np.float32),
        "pdgid": p.pdgid[idx].astype(np.int32),
        "origin": p.origin[idx].astype(np.int8),
        "hadron_index": p.hadron_index[idx].astype(np.int32),
        "e": np.sqrt((pt_meas * np.cosh(eta_t)) ** 2 + mass**2).astype(np.float32),
        "particle_index": idx,
        "d0_true": d0_true,
        "z0_true": z0_true,
    }
    inside = production_radius_mm(p)[idx] < det_cfg["track_max_production_radius_mm"]
    tracks = {name: values[inside] for name, values in tracks.items()}
    counts = np.bincount(event[inside], minlength=p.n_events)
    return tracks, counts


class TowerGrid:
    """Eta-phi cells: `size_central` to |eta| = 2.5, `size_forward` up to `eta_max`, flat cell index."""

    def __init__(self, size_central: float, size_forward: float, eta_max: float, eta_central: float = 2.5):
        self.eta_central = eta_central
        self.eta_max = eta_max
        self.n_eta_c = int(round(2 * eta_central / size_central))
        self.n_phi_c = int(round(2 * math.pi / size_central))
        self.n_eta_f = int(round((eta_max - eta_central) / size_forward))
        self.n_phi_f = int(round(2 * math.pi / size_forward))
        self.n_cells = self.n_eta_c * self.n_phi_c + 2 * self.n_eta_f * self.n_phi_f

    def as_tuple(self) -> tuple:
        """Plain numbers for the numba kernels."""
        return (self.eta_central, self.eta_max, self.n_eta_c, self.n_phi_c, self.n_eta_f, self.n_phi_f)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Eta and phi of every cell's centre (indexed by the flat cell index)."""
        eta = np.empty(self.n_cells)
        phi = np.empty(self.n_cells)
        ie, ip = np.meshgrid(np.arange(self.n_eta_c), np.arange(self.n_phi_c), indexing="ij")
        n_c = self.n_eta_c * self.n_phi_c
        eta[:n_c] = (-self.eta_central + (ie + 0.5) * 2 * self.eta_central / self.n_eta_c).ravel()
        phi[:n_c] = (-math.pi + (ip + 0.5) * 2 * math.pi / self.n_phi_c).ravel()
        ie, ip = np.meshgrid(np.arange(self.n_eta_f), np.arange(self.n_phi_f), indexing="ij")
        size_f = (self.eta_max - self.eta_central) / self.n_eta_f
        n_f = self.n_eta_f * self.n_phi_f
        for side, sign in enumerate((1.0, -1.0)):
            sl = slice(n_c + side * n_f, n_c + (side + 1) * n_f)
            eta[sl] = sign * (self.eta_central + (ie + 0.5) * size_f).ravel()
            phi[sl] = (-math.pi + (ip + 0.5) * 2 * math.pi / self.n_phi_f).ravel()
        return eta, phi


@nb.njit(cache=True)
def cell_index(eta, phi, grid):
    """Flat cell index of a direction, or -1 outside the calorimeter."""
    eta_c, eta_max, n_eta_c, n_phi_c, n_eta_f, n_phi_f = grid
    a = abs(eta)
    if a >= eta_max:
        return -1
    u = (phi + math.pi) / (2.0 * math.pi)
    u -= math.floor(u)
    if a < eta_c:
        ie = min(int((eta + eta_c) / (2.0 * eta_c) * n_eta_c), n_eta_c - 1)
        return ie * n_phi_c + min(int(u * n_phi_c), n_phi_c - 1)
    ie = min(int((a - eta_c) / (eta_max - eta_c) * n_eta_f), n_eta_f - 1)
    side = 0 if eta > 0 else 1
    return n_eta_c * n_phi_c + (side * n_eta_f + ie) * n_phi_f + min(int(u * n_phi_f), n_phi_f - 1)


@nb.njit(cache=True)
def lognormal_smear(rng, e, sigma):
    """Log-normal value with mean e and standard deviation sigma (positive, as in Delphes)."""
    if e <= 0.0:
        return 0.0
    s2 = math.log(1.0 + (sigma / e) ** 2)
    return math.exp(math.log(e) - 0.5 * s2 + math.sqrt(s2) * rng.standard_normal())


@nb.njit(cache=True)
def em_sigma(e, stochastic, constant):
    """EM calorimeter resolution [GeV]."""
    return math.sqrt(e * e * constant * constant + e * stochastic * stochastic)


@nb.njit(cache=True)
def had_sigma(e, stochastic, constant, noise):
    """Hadronic calorimeter resolution [GeV]."""
    return math.sqrt(e * e * constant * constant + e * stochastic * stochastic + noise * noise)


@nb.njit(cache=True)
def tower_kernel(rng, counts, cell, e_em, e_had, n_cells, em_res, had_res, threshold):
    """Sum deposits per cell event by event, smear EM and hadronic parts, drop cells under threshold.

    Returns flat (cell index, E_em, E_had) of the kept towers, ordered by event then cell, and per-event counts.
    """
    acc_em = np.zeros(n_cells)
    acc_had = np.zeros(n_cells)
    touched = np.zeros(n_cells, dtype=np.bool_)
    cap = cell.shape[0] + 1
    out_cell = np.empty(cap, dtype=np.int64)
    out_em = np.empty(cap)
    out_had = np.empty(cap)
    out_counts = np.zeros(counts.shape[0], dtype=np.int64)
    cells = np.empty(4096, dtype=np.int64)
    n_out = 0
    start = 0
    for ev in range(counts.shape[0]):
        n_cells_ev = 0
        for i in range(start, start + counts[ev]):
            c = cell[i]
            if c < 0:
                continue
            if not touched[c]:
                touched[c] = True
                if n_cells_ev >= cells.shape[0]:
                    grown = np.empty(2 * cells.shape[0], dtype=np.int64)
                    grown[: cells.shape[0]] = cells
                    cells = grown
                cells[n_cells_ev] = c
                n_cells_ev += 1
            acc_em[c] += e_em[i]
            acc_had[c] += e_had[i]
        start += counts[ev]
        cells[:n_cells_ev].sort()
        for k in range(n_cells_ev):
            c = cells[k]
            em = lognormal_smear(rng, acc_em[c], em_sigma(acc_em[c], em_res[0], em_res[1]))
            had = lognormal_smear(rng, acc_had[c], had_sigma(acc_had[c], had_res[0], had_res[1], had_res[2]))
            if em + had > 0.0 and em + had >= threshold:
                out_cell[n_out] = c
                out_em[n_out] = em
                out_had[n_out] = had
                n_out += 1
                out_counts[ev] += 1
            acc_em[c] = 0.0
            acc_had[c] = 0.0
            touched[c] = False
    return out_cell[:n_out], out_em[:n_out], out_had[:n_out], out_counts


def calorimeter_deposits(particles: ParticleTable, det_cfg: dict, pt_eta_phi_=None):
    """Per particle: calorimeter cell direction (eta, phi at the calorimeter) and EM / hadronic deposits [GeV].

    Neutrinos are invisible, electrons and photons go to the EM part, muons leave a MIP in the hadronic part, hadrons
    deposit all their energy in the hadronic part; charged particles are bent by the field and those that curl up before
    the calorimeter radius deposit nothing.
    """
    p = particles
    pt, eta, phi = pt_eta_phi(p.px, p.py, p.pz) if pt_eta_phi_ is None else pt_eta_phi_
    apdg = np.abs(p.pdgid)
    charged = p.charge != 0
    pt_curl = 0.5 * C_GEV_PER_T_M * det_cfg["magnetic_field_t"] * det_cfg["calo_radius_m"]
    reaches = ~charged | (pt > pt_curl)
    bend = np.arcsin(np.clip(pt_curl / np.maximum(pt, pt_curl), -1.0, 1.0))
    phi_calo = np.where(charged & reaches, phi - np.sign(p.charge) * bend, phi)
    em_like = (apdg == 11) | (apdg == 22)
    invisible = np.isin(apdg, NEUTRINO_PDGIDS) | ~reaches
    e_em = np.where(em_like & ~invisible, p.e, 0.0)
    e_had = np.where(
        em_like | invisible, 0.0, np.where(apdg == 13, np.minimum(p.e, det_cfg["muon_mip_gev"]), p.e)
    )
    return eta, phi_calo, e_em, e_had


def build_towers(particles: ParticleTable, det_cfg: dict, rng: np.random.Generator, pt_eta_phi_=None):
    """Calorimeter towers (e, pt, eta, phi at the cell centre, e_em, e_had) and per-event counts."""
    grid = TowerGrid(
        det_cfg["tower_size_central"], det_cfg["tower_size_forward"], det_cfg["calo_abs_eta_max"]
    )
    eta, phi_calo, e_em, e_had = calorimeter_deposits(particles, det_cfg, pt_eta_phi_)
    cells = _cells(eta, phi_calo, grid.as_tuple())
    em_res = (det_cfg["em_resolution"]["stochastic"], det_cfg["em_resolution"]["constant"])
    hr = det_cfg["had_resolution"]
    had_res = (hr["stochastic"], hr["constant"], hr["noise_gev"])
    cell, em, had, counts = tower_kernel(
        rng,
        particles.counts.astype(np.int64),
        cells,
        e_em,
        e_had,
        grid.n_cells,
        em_res,
        had_res,
        float(det_cfg["tower_threshold_gev"]),
    )
    eta_c, phi_c = grid.centres()
    e = em + had
    towers = {
        "e": e.astype(np.float32),
        "pt": (e / np.cosh(eta_c[cell])).astype(np.float32),
        "eta": eta_c[cell].astype(np.float32),
        "phi": phi_c[cell].astype(np.float32),
        "e_em": em.astype(np.float32),
        "e_had": had.astype(np.float32),
        "cell": cell,
    }
    return towers, counts


@nb.njit(cache=True)
def _cells(eta, phi, grid):
    """Cell index of every deposit."""
    out = np.empty(eta.shape[0], dtype=np.int64)
    for i in range(eta.shape[0]):
        out[i] = cell_index(eta[i], phi[i], grid)
    return out


def simulate_detector(particles: ParticleTable, det_cfg: dict, rng: np.random.Generator) -> DetectorResponse:
    """Tracks and towers of every event in the particle table."""
    kin = pt_eta_phi(particles.px, particles.py, particles.pz)
    tracks, track_counts = reconstruct_tracks(particles, det_cfg, rng, kin)
    towers, tower_counts = build_towers(particles, det_cfg, rng, kin)
    return DetectorResponse(tracks, track_counts, towers, tower_counts)
