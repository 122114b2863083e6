"""Hand-made events in the event-file layout (docs/design.md) for the reconstruction tests.

Not a generator: a boosted two-prong H->bb (b-hadrons decaying at a displaced vertex) or a one-prong QCD jet
with one hard emission, fragmented into collinear particles, plus a soft underlying event; towers are the
particles' energies summed on a 0.1 x 0.1 grid. Enough to exercise every reconstruction step quickly."""

from __future__ import annotations

import awkward as ak
import numpy as np
from toy_tracks import B_CTAU_MM, B_MASS_GEV, BEAM_SPOT_XY_MM, BEAM_SPOT_Z_MM, make_tracks

HIGGS_MASS_GEV = 125.1
TOWER_SIZE = 0.1


def _prong(rng, pt, eta, phi, n_mean, spread):
    """Collinear particles (pt, eta, phi) sharing a prong's pT."""
    n = 4 + rng.poisson(n_mean)
    frac = rng.dirichlet(np.full(n, 0.6))
    width = spread * rng.normal(size=(2, n)) / np.sqrt(np.maximum(frac * pt, 1.0))
    return frac * pt, eta + width[0], phi + width[1]


def _one_event(rng, signal: bool) -> dict[str, np.ndarray]:
    pv = np.array([*rng.normal(0, BEAM_SPOT_XY_MM, 2), rng.normal(0, BEAM_SPOT_Z_MM)])
    pt_j, eta_j, phi_j = rng.uniform(300, 700), rng.uniform(-1.5, 1.5), rng.uniform(-np.pi, np.pi)
    z = rng.uniform(0.25, 0.75) if signal else np.exp(rng.uniform(np.log(0.03), np.log(0.5)))
    theta = HIGGS_MASS_GEV / (pt_j * np.sqrt(z * (1 - z))) if signal else np.exp(rng.uniform(-3.0, 0.0))
    alpha = rng.uniform(0, 2 * np.pi)
    axes = [(z * pt_j, eta_j + (1 - z) * theta * np.cos(alpha), phi_j + (1 - z) * theta * np.sin(alpha)),
            ((1 - z) * pt_j, eta_j - z * theta * np.cos(alpha), phi_j - z * theta * np.sin(alpha))]
    prompt = [_prong(rng, 0.3 * p if signal else p, e, f, 8, 0.3) for p, e, f in axes]
    n_ue = 30
    prompt.append((rng.exponential(0.8, n_ue) + 0.3, rng.uniform(-4.5, 4.5, n_ue),
                   rng.uniform(-np.pi, np.pi, n_ue)))
    pt, eta, phi = (np.concatenate([c[i] for c in prompt]) for i in range(3))
    origin = np.tile(pv, (pt.size, 1))
    hadrons, partons = [], [(pt_j, eta_j, phi_j, 1 if signal else 0)]
    if signal:
        partons += [(p, e, f, 2) for p, e, f in axes]
        for p, e, f in axes:  # b-hadron with 70 % of the b momentum, decaying to ~5 particles
            p_b = 0.7 * p
            direction = np.array([np.cos(f) / np.cosh(e), np.sin(f) / np.cosh(e), np.tanh(e)])
            decay = pv + p_b * np.cosh(e) / B_MASS_GEV * B_CTAU_MM * rng.exponential() * direction
            d_pt, d_eta, d_phi = _prong(rng, p_b, e, f, 1, 0.3 * B_MASS_GEV / np.sqrt(p_b))
            pt, eta, phi = np.r_[pt, d_pt], np.r_[eta, d_eta], np.r_[phi, d_phi]
            origin = np.vstack([origin, np.tile(decay, (d_pt.size, 1))])
            hadrons.append((p_b, e, f, B_MASS_GEV, 5))
    phi = np.mod(phi + np.pi, 2 * np.pi) - np.pi
    charged = rng.random(pt.size) < 0.62
    trk_sel = charged & (np.abs(eta) < 2.5) & (pt > 0.4)
    tracks = make_tracks(rng, origin[trk_sel], pt[trk_sel], eta[trk_sel], phi[trk_sel])
    calo = np.abs(eta) < 4.9
    ieta = np.floor(eta[calo] / TOWER_SIZE).astype(np.int64)
    iphi = np.floor((phi[calo] + np.pi) / TOWER_SIZE).astype(np.int64)
    cells, inverse = np.unique(ieta * 1000 + iphi, return_inverse=True)
    tower_e = np.bincount(inverse, pt[calo] * np.cosh(eta[calo]))
    t_eta = (np.floor_divide(cells, 1000) + 0.5) * TOWER_SIZE
    t_phi = np.mod(cells, 1000) * TOWER_SIZE - np.pi + 0.5 * TOWER_SIZE
    keep = tower_e > 0.5
    had = np.array(hadrons, dtype=float).reshape(-1, 5)
    par = np.array(partons, dtype=float).reshape(-1, 4)
    out = {f"track_{k}": v for k, v in tracks.items()}
    out.update(
        tower_e=tower_e[keep], tower_pt=tower_e[keep] / np.cosh(t_eta[keep]), tower_eta=t_eta[keep],
        tower_phi=t_phi[keep], hadron_pt=had[:, 0], hadron_eta=had[:, 1], hadron_phi=had[:, 2],
        hadron_m=had[:, 3], hadron_flavour=had[:, 4].astype(np.int8), parton_pt=par[:, 0],
        parton_eta=par[:, 1], parton_phi=par[:, 2], parton_role=par[:, 3].astype(np.int8),
        pv_x=pv[0], pv_y=pv[1], pv_z=pv[2],
    )
    return out


def make_events(rng: np.random.Generator, n_events: int, signal: bool, first_id: int = 0) -> ak.Array:
    """``n_events`` toy events of one process as an awkward array with the event file's branch names."""
    rows = [_one_event(rng, signal) for _ in range(n_events)]
    columns = {k: ak.Array([r[k] for r in rows]) for k in rows[0]}
    columns["event_id"] = np.arange(first_id, first_id + n_events, dtype=np.uint64)
    columns["process_id"] = np.full(n_events, 1 if signal else 0, np.int32)
    columns["weight"] = np.ones(n_events)
    return ak.Array(columns)
