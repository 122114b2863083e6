"""Toy track jets for the b-tagging and vertexing tests: straight tracks from the primary vertex or from a
b-hadron decay vertex, with the configured ATLAS-like impact-parameter smearing. Just enough geometry."""

from __future__ import annotations

import awkward as ak
import numpy as np

D0_RES = (0.013, 0.065)  # mm, mm*GeV: sigma(d0) = 13 um (+) 65 um GeV/pT
Z0_RES = (0.052, 0.109)
B_CTAU_MM = 0.470
B_MASS_GEV = 5.28
PION_MASS_GEV = 0.13957
BEAM_SPOT_XY_MM = 0.015
BEAM_SPOT_Z_MM = 45.0


def resolution_mm(pt_gev: np.ndarray, res: tuple[float, float]) -> np.ndarray:
    """sigma = a (+) b/pT."""
    return np.hypot(res[0], res[1] / pt_gev)


def perigee(origin_mm: np.ndarray, phi: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(d0, z0) of straight tracks from ``origin_mm`` [n, 3] (ATLAS: PCA = d0 (-sin phi, cos phi))."""
    x, y, z = origin_mm[:, 0], origin_mm[:, 1], origin_mm[:, 2]
    d0 = np.cos(phi) * y - np.sin(phi) * x
    z0 = z - (x * np.cos(phi) + y * np.sin(phi)) * np.sinh(eta)
    return d0, z0


def make_tracks(
    rng: np.random.Generator, origin_mm: np.ndarray, pt: np.ndarray, eta: np.ndarray, phi: np.ndarray
) -> dict[str, np.ndarray]:
    """Flat track columns from true origins and momenta, with smeared (d0, z0)."""
    d0, z0 = perigee(origin_mm, phi, eta)
    d0_err, z0_err = resolution_mm(pt, D0_RES), resolution_mm(pt, Z0_RES)
    p = pt * np.cosh(eta)
    return {
        "pt": pt,
        "eta": eta,
        "phi": phi,
        "e": np.sqrt(p**2 + PION_MASS_GEV**2),
        "charge": rng.choice([-1, 1], size=pt.size).astype(np.int8),
        "d0": d0 + rng.normal(0.0, d0_err),
        "z0": z0 + rng.normal(0.0, z0_err),
        "d0_err": d0_err,
        "z0_err": z0_err,
    }


def to_awkward(columns: dict[str, np.ndarray], counts: np.ndarray) -> ak.Array:
    """[n_jets][n_tracks] records from flat columns."""
    return ak.unflatten(ak.zip(columns), counts)


def make_jets(rng: np.random.Generator, n_jets: int, flavour: str) -> tuple[ak.Array, ak.Array, np.ndarray]:
    """Toy track jets: prompt tracks, plus (flavour 'b') the charged decay products of a b-hadron.

    Returns (tracks [n][var], jets [n] with pt, eta, phi, m, true primary vertex z [n]).
    """
    jet_pt = rng.uniform(30.0, 200.0, n_jets)
    jet_eta, jet_phi = rng.uniform(-2.0, 2.0, n_jets), rng.uniform(-np.pi, np.pi, n_jets)
    pv = np.column_stack([rng.normal(0, BEAM_SPOT_XY_MM, (n_jets, 2)), rng.normal(0, BEAM_SPOT_Z_MM, n_jets)])
    n_prompt = 2 + rng.poisson(4, n_jets)
    n_decay = (2 + rng.poisson(2.5, n_jets)) if flavour == "b" else np.zeros(n_jets, dtype=np.int64)
    counts = n_prompt + n_decay
    jet_idx = np.repeat(np.arange(n_jets), counts)
    position_in_jet = np.arange(jet_idx.size) - np.repeat(np.cumsum(counts) - counts, counts)
    is_decay = position_in_jet >= n_prompt[jet_idx]
    # b-hadron: 70 % of the jet pT along the jet axis, decay length beta*gamma*c*tau*Exp(1)
    p_b = 0.7 * jet_pt * np.cosh(jet_eta)
    length = p_b / B_MASS_GEV * B_CTAU_MM * rng.exponential(1.0, n_jets)
    axis = np.column_stack(
        [np.cos(jet_phi) / np.cosh(jet_eta), np.sin(jet_phi) / np.cosh(jet_eta), np.tanh(jet_eta)]
    )
    decay_vertex = pv + length[:, None] * axis
    origin = np.where(is_decay[:, None], decay_vertex[jet_idx], pv[jet_idx])
    spread = np.where(is_decay, 0.7 * B_MASS_GEV / (0.7 * jet_pt[jet_idx]), 0.1)
    eta = jet_eta[jet_idx] + rng.normal(0.0, 1.0, jet_idx.size) * spread
    phi = jet_phi[jet_idx] + rng.normal(0.0, 1.0, jet_idx.size) * spread
    pt = np.where(is_decay, 0.7 * jet_pt[jet_idx] / np.maximum(n_decay[jet_idx], 1), 2.0)
    pt = pt * rng.exponential(1.0, jet_idx.size) + 0.5
    tracks = to_awkward(make_tracks(rng, origin, pt, eta, phi), counts)
    jets = ak.zip({"pt": jet_pt, "eta": jet_eta, "phi": jet_phi, "m": np.full(n_jets, 5.0)})
    return tracks, jets, pv[:, 2]
