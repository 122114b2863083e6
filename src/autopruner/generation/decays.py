"""Decays (numba): b- and c-hadrons fly beta*gamma*c*tau and decay at a displaced vertex; pi0 -> gamma gamma.

A b-hadron decays into about five charged particles plus neutrals, a configurable fraction of the time through a
c-hadron (which flies on and decays at a tertiary vertex), and semileptonically (e or mu plus an invisible neutrino)
with the configured probability; c-hadrons decay likewise into about 2.5 charged particles. Charge is conserved and
every decay is an exact N-body decay in the parent rest frame.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba as nb
import numpy as np

from autopruner.generation.hadronization import pick
from autopruner.kinematics import nbody, two_body
from autopruner.particles import (
    C_HADRONS,
    M_ELECTRON,
    M_K_CHARGED,
    M_MUON,
    M_PI0,
    M_PI_CHARGED,
    ORIGIN_B,
    ORIGIN_C,
)

# Columns of a heavy hadron record.
(
    XPX,
    XPY,
    XPZ,
    XE,
    XM,
    XPDG,
    XCHARGE,
    XFLAV,
    XQSIGN,
    XPARENT,
    XPRODX,
    XPRODY,
    XPRODZ,
    XDECX,
    XDECY,
    XDECZ,
) = range(16)
N_HEAVY_COLS = 16
# Columns of a final-state particle.
PPX, PPY, PPZ, PE, PPDG, PCHARGE, PVX, PVY, PVZ, PORIGIN, PHADRON = range(11)
N_PARTICLE_COLS = 11

MAX_DAUGHTERS = 24
KAON_SHARE_IN_DECAYS = 0.2
PI0_MEAN_B = 1.5  # mean number of pi0 per b-hadron decay (plus those of a cascade c-hadron)
PI0_MEAN_C = 1.0

KIND_STABLE = 0
KIND_HEAVY = 1
KIND_PI0 = 2


class DecayParams(NamedTuple):
    """Heavy-flavour decay settings (from config generation.hadronization)."""

    b_ctau_mm: float
    c_ctau_mm: float
    b_to_c_fraction: float
    semileptonic_fraction: float


def decay_params(had_cfg: dict) -> DecayParams:
    """DecayParams from the `generation.hadronization` config block."""
    return DecayParams(
        float(had_cfg["b_ctau_mm"]),
        float(had_cfg["c_ctau_mm"]),
        float(had_cfg["b_to_c_fraction"]),
        float(had_cfg["semileptonic_fraction"]),
    )


@nb.njit(cache=True)
def add_particle(out, n, px, py, pz, e, pdg, charge, vx, vy, vz, origin, hadron_index):
    """Append one final-state particle; returns the new count."""
    if n >= out.shape[0]:
        raise ValueError("particle buffer full")
    out[n, PPX] = px
    out[n, PPY] = py
    out[n, PPZ] = pz
    out[n, PE] = e
    out[n, PPDG] = pdg
    out[n, PCHARGE] = charge
    out[n, PVX] = vx
    out[n, PVY] = vy
    out[n, PVZ] = vz
    out[n, PORIGIN] = origin
    out[n, PHADRON] = hadron_index
    return n + 1


@nb.njit(cache=True)
def add_pi0_photons(rng, out, n, px, py, pz, e, vx, vy, vz, origin, hadron_index):
    """Decay a pi0 isotropically into two photons at its production vertex (c*tau = 25 nm)."""
    c = 2.0 * rng.random() - 1.0
    q = two_body(px, py, pz, e, M_PI0, 0.0, 0.0, c, 2.0 * math.pi * rng.random())
    n = add_particle(out, n, q[0], q[1], q[2], q[3], 22, 0.0, vx, vy, vz, origin, hadron_index)
    return add_particle(out, n, q[4], q[5], q[6], q[7], 22, 0.0, vx, vy, vz, origin, hadron_index)


@nb.njit(cache=True)
def _push(d_m, d_pdg, d_q, d_kind, k, m, pdg, q, kind):
    """Append a daughter to the decay's daughter list."""
    if k < MAX_DAUGHTERS:
        d_m[k] = m
        d_pdg[k] = pdg
        d_q[k] = q
        d_kind[k] = kind
        return k + 1
    return k


@nb.njit(cache=True)
def _light_charged(rng, sign):
    """Mass and PDG id of a charged pion or kaon of the given sign."""
    if rng.random() < KAON_SHARE_IN_DECAYS:
        return M_K_CHARGED, 321 * sign
    return M_PI_CHARGED, 211 * sign


@nb.njit(cache=True)
def build_daughters(rng, flav, qsign, charge, mass, params, d_m, d_pdg, d_q, d_kind):
    """Daughter list of a b- (flav 5) or c- (flav 4) hadron; returns the number of daughters.

    The charged multiplicity is the hadron charge's worth of same-sign pions/kaons plus opposite-sign pairs
    (b: 1 + Bin(3, 1/2) pairs without, Bin(2, 1/2) with a cascade c-hadron; c: Bin(2, 1/2)), one pair fewer in
    semileptonic decays, plus Poisson pi0s; neutrals are dropped if the daughters would not fit in the mass.
    """
    k = 0
    q_rem = charge
    qs = int(qsign)
    if flav == 5 and rng.random() < params.b_to_c_fraction:
        row = C_HADRONS[pick(C_HADRONS, rng.random())]  # b -> c: a charm hadron of the quark's sign
        k = _push(d_m, d_pdg, d_q, d_kind, k, row[2], int(row[0]) * qs, row[1] * qs, KIND_HEAVY)
        q_rem -= row[1] * qs
        n_pairs = rng.binomial(2, 0.5)
    elif flav == 5:
        n_pairs = 1 + rng.binomial(3, 0.5)
    else:
        n_pairs = rng.binomial(2, 0.5)
    if rng.random() < params.semileptonic_fraction:
        # b -> c l- nubar, c -> s l+ nu (antiquarks conjugate)
        l_sign = -qs if flav == 5 else qs
        is_mu = rng.random() < 0.5
        m_l = M_MUON if is_mu else M_ELECTRON
        l_pdg = 13 if is_mu else 11
        k = _push(d_m, d_pdg, d_q, d_kind, k, m_l, -l_pdg * l_sign, float(l_sign), KIND_STABLE)
        k = _push(d_m, d_pdg, d_q, d_kind, k, 0.0, (l_pdg + 1) * l_sign, 0.0, KIND_STABLE)
        q_rem -= l_sign
        n_pairs = max(0, n_pairs - 1)
    sign = 1 if q_rem > 0 else -1
    for _ in range(int(round(abs(q_rem)))):
        m, pdg = _light_charged(rng, sign)
        k = _push(d_m, d_pdg, d_q, d_kind, k, m, pdg, float(sign), KIND_STABLE)
    for _ in range(n_pairs):
        for s in (1, -1):
            m, pdg = _light_charged(rng, s)
            k = _push(d_m, d_pdg, d_q, d_kind, k, m, pdg, float(s), KIND_STABLE)
    for _ in range(rng.poisson(PI0_MEAN_B if flav == 5 else PI0_MEAN_C)):
        k = _push(d_m, d_pdg, d_q, d_kind, k, M_PI0, 111, 0.0, KIND_PI0)
    while k < 2:
        k = _push(d_m, d_pdg, d_q, d_kind, k, M_PI0, 111, 0.0, KIND_PI0)
    # drop trailing pi0s, then pairs, until the daughters fit (keeps the charge balance)
    while d_m[:k].sum() > 0.95 * mass and k > 2:
        k -= 2 if d_kind[k - 1] != KIND_PI0 else 1
    return k


@nb.njit(cache=True)
def fly(rng, had, i, ctau_mm):
    """Draw the decay vertex of heavy hadron i: distance beta*gamma*c*tau*Exp(1) along its momentum."""
    scale = ctau_mm * rng.standard_exponential() / had[i, XM]  # decay vector = c*tau*t * p / m
    had[i, XDECX] = had[i, XPRODX] + scale * had[i, XPX]
    had[i, XDECY] = had[i, XPRODY] + scale * had[i, XPY]
    had[i, XDECZ] = had[i, XPRODZ] + scale * had[i, XPZ]


@nb.njit(cache=True)
def decay_heavy_hadrons(rng, had, n_had, params, out, n_out):
    """Fly and decay every heavy hadron in had[:n_had], appending cascade c-hadrons to `had` and the stable daughters to
    `out`. Returns (n_had, n_out)."""
    d_m = np.empty(MAX_DAUGHTERS)
    d_pdg = np.empty(MAX_DAUGHTERS, dtype=np.int64)
    d_q = np.empty(MAX_DAUGHTERS)
    d_kind = np.empty(MAX_DAUGHTERS, dtype=np.int64)
    mom = np.empty((MAX_DAUGHTERS, 4))
    i = 0
    while i < n_had:
        flav = int(had[i, XFLAV])
        fly(rng, had, i, params.b_ctau_mm if flav == 5 else params.c_ctau_mm)
        k = build_daughters(
            rng, flav, had[i, XQSIGN], had[i, XCHARGE], had[i, XM], params, d_m, d_pdg, d_q, d_kind
        )
        nbody(rng, had[i, XPX], had[i, XPY], had[i, XPZ], had[i, XE], d_m[:k], mom[:k])
        from_b = flav == 5 or had[i, XPARENT] >= 0
        origin = ORIGIN_B if from_b else ORIGIN_C
        vx, vy, vz = had[i, XDECX], had[i, XDECY], had[i, XDECZ]
        for j in range(k):
            if d_kind[j] == KIND_HEAVY:
                if n_had >= had.shape[0]:
                    raise ValueError("heavy-hadron buffer full")
                had[n_had, XPX : XE + 1] = mom[j]
                had[n_had, XM] = d_m[j]
                had[n_had, XPDG] = d_pdg[j]
                had[n_had, XCHARGE] = d_q[j]
                had[n_had, XFLAV] = 4
                had[n_had, XQSIGN] = had[i, XQSIGN]
                had[n_had, XPARENT] = i
                had[n_had, XPRODX], had[n_had, XPRODY], had[n_had, XPRODZ] = vx, vy, vz
                n_had += 1
            elif d_kind[j] == KIND_PI0:
                n_out = add_pi0_photons(
                    rng, out, n_out, mom[j, 0], mom[j, 1], mom[j, 2], mom[j, 3], vx, vy, vz, origin, i
                )
            else:
                n_out = add_particle(
                    out,
                    n_out,
                    mom[j, 0],
                    mom[j, 1],
                    mom[j, 2],
                    mom[j, 3],
                    d_pdg[j],
                    d_q[j],
                    vx,
                    vy,
                    vz,
                    origin,
                    i,
                )
        i += 1
    return n_had, n_out


def decay_numpy(rng: np.random.Generator, hadron: np.ndarray, params: DecayParams):
    """Python entry point (tests): decay one heavy-hadron record; returns (hadron records, particles)."""
    had = np.zeros((16, N_HEAVY_COLS))
    had[0] = hadron
    out = np.zeros((256, N_PARTICLE_COLS))
    n_had, n_out = decay_heavy_hadrons(rng, had, 1, params, out, 0)
    return had[:n_had].copy(), out[:n_out].copy()
