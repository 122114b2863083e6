"""Decays (numba): b- and c-hadrons fly beta*gamma*c*tau and decay at a displaced vertex; pi0 -> gamma gamma.

A b-hadron decays like the quark-level b -> c W*: nearly always into a c-hadron (which flies on and decays at a
tertiary vertex), in about a fifth of the decays into a second, anti-charm hadron (W* -> c-bar s), so that there are
about 1.2 charm hadrons per b decay, and into about five charged particles in all; the W* gives e nu or mu nu with the
configured branching fraction per lepton. c-hadrons decay into about 2.5 charged particles, semileptonically c -> s l
nu. Semileptonic decays are built as heavy hadron -> X W*, W* -> l nu with the V-A lepton angle (the neutrino takes
its share of the energy); the others are N-body decays in the parent rest frame. Charge and four-momentum are
conserved exactly.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from autopruner.fast_random import uniform
from autopruner.generation.hadronization import pick, pick_share
from autopruner.jit import F8, I8, RNG, ROWS, njit_hot, njit_no_refcount, signatures
from autopruner.kinematics import boost, kallen_momentum, nbody, two_body
from autopruner.particles import (
    B_HADRONS,
    C_HADRONS,
    CHARM_FROM_B,
    CTAU_K_SHORT_MM,
    CTAU_LAMBDA_MM,
    CTAU_TAU_MM,
    HADRON_CTAU_COLUMN,
    K_SHORT_TO_CHARGED_PIONS,
    LAMBDA,
    LAMBDA_TO_PROTON_PION,
    M_A1,
    M_ELECTRON,
    M_K_CHARGED,
    M_K_LONG,
    M_K_SHORT,
    M_LAMBDA,
    M_MUON,
    M_NEUTRON,
    M_PI0,
    M_PI_CHARGED,
    M_PROTON,
    M_RHO,
    M_TAU,
    M_THREE_PIONS_PI0,
    OMEGA_TO_THREE_PIONS,
    ORIGIN_B,
    ORIGIN_C,
    TAU_TO_A1_CHARGED,
    TAU_TO_A1_NEUTRAL,
    TAU_TO_ELECTRON,
    TAU_TO_MUON,
    TAU_TO_PION,
    TAU_TO_THREE_PIONS_PI0,
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
# c -> s: the s quark ends in a neutral kaon in about half the charm decays (PDG inclusive D0 -> K0 X 47 %,
# D+ -> K0 X 61 %, Ds 19 %, Lambda_c ~30 %, weighted by the production mix). K0S mostly decay beyond the pixel volume
# and K0L reach the calorimeter; a K0S or K0L with equal probability.
K0_SHARE_C_DECAYS = 0.46
PI0_MEAN_B_SEMILEPTONIC = 0.5  # B -> D(*, **) l nu: the pions of D* and D** decays
X_MASS_EXCESS_GEV = 0.3  # mean mass of a semileptonic decay's hadronic system above the sum of its hadron masses

KIND_STABLE = 0
KIND_HEAVY = 1
KIND_PI0 = 2
KIND_TAU = 3
# What `build_daughters` made: hadrons only, lepton + neutrino + hadrons, or lepton + neutrino alone (Ds -> tau nu).
DECAY_HADRONIC, DECAY_SEMILEPTONIC, DECAY_LEPTONIC = 0, 1, 2


class DecayParams(NamedTuple):
    """Heavy-flavour decay settings (from config generation.hadronization)."""

    b_no_open_charm_fraction: float
    b_to_ccs_fraction: float
    b_semileptonic_per_lepton: float
    c_semileptonic_per_lepton: float
    b_to_tau_fraction: float  # b -> c tau nu
    ds_to_tau_fraction: float  # Ds -> tau nu


def decay_params(had_cfg: dict) -> DecayParams:
    """DecayParams from the `generation.hadronization` config block."""
    return DecayParams(
        float(had_cfg["b_no_open_charm_fraction"]),
        float(had_cfg["b_to_ccs_fraction"]),
        float(had_cfg["b_semileptonic_per_lepton"]),
        float(had_cfg["c_semileptonic_per_lepton"]),
        float(had_cfg["b_to_tau_fraction"]),
        float(had_cfg["ds_to_tau_fraction"]),
    )


#: The decay chain's declared signatures (`autopruner.jit`: one compilation each, whatever constants the call sites
#: pass). Every function appends to a particle buffer `out` from row `n` and takes the momentum (px, py, pz, E), the
#: production vertex, the origin and the heavy-hadron index; a PDG id comes as an int, or as a float where it is read
#: from a hadron record.
_PDG = (I8, F8)
_P4 = (F8, F8, F8, F8)
_VERTEX_ORIGIN_HADRON = (F8, F8, F8, I8, I8)
_APPEND = signatures(I8, ROWS, I8, *_P4, _PDG, F8, *_VERTEX_ORIGIN_HADRON)
_DECAY = signatures(I8, RNG, ROWS, I8, *_P4, *_VERTEX_ORIGIN_HADRON)
_DECAY_PDG = signatures(I8, RNG, ROWS, I8, *_P4, _PDG, *_VERTEX_ORIGIN_HADRON)
_DECAY_PDG_CHARGE = signatures(I8, RNG, ROWS, I8, *_P4, _PDG, F8, *_VERTEX_ORIGIN_HADRON)
_DECAY_TWO_BODY = signatures(I8, RNG, ROWS, I8, *_P4, I8, F8, F8, I8, F8, F8, *_VERTEX_ORIGIN_HADRON)


@njit_hot(_APPEND, _nrt=False)
def add_particle(out, n, px, py, pz, e, pdg, charge, vx, vy, vz, origin, hadron_index):
    """Append one final-state particle; returns the new count.

    The energy is floored at |p|: a massless daughter of MeV energy boosted from a fast hadron's frame can come out a
    few ulps of its momentum below the light cone (seen at 2e-7 relative on a 5 MeV neutrino), which no real
    particle is.
    """
    if n >= out.shape[0]:
        raise ValueError("particle buffer full")
    out[n, PPX] = px
    out[n, PPY] = py
    out[n, PPZ] = pz
    out[n, PE] = max(e, math.sqrt(px * px + py * py + pz * pz))
    out[n, PPDG] = pdg
    out[n, PCHARGE] = charge
    out[n, PVX] = vx
    out[n, PVY] = vy
    out[n, PVZ] = vz
    out[n, PORIGIN] = origin
    out[n, PHADRON] = hadron_index
    return n + 1


@njit_hot(_DECAY, _nrt=False)
def add_pi0_photons(rng, out, n, px, py, pz, e, vx, vy, vz, origin, hadron_index):
    """Decay a pi0 isotropically into two photons at its production vertex (c*tau = 25 nm)."""
    c = 2.0 * uniform(rng) - 1.0
    q = two_body(px, py, pz, e, M_PI0, 0.0, 0.0, c, 2.0 * math.pi * uniform(rng))
    n = add_particle(out, n, q[0], q[1], q[2], q[3], 22, 0.0, vx, vy, vz, origin, hadron_index)
    return add_particle(out, n, q[4], q[5], q[6], q[7], 22, 0.0, vx, vy, vz, origin, hadron_index)


@njit_no_refcount
def decay_vertex(rng, ctau_mm, m, px, py, pz, vx, vy, vz):
    """Decay vertex of a particle of mass m [GeV] and momentum p produced at (vx, vy, vz) [mm]: beta*gamma*c*tau*Exp(1)
    along p, i.e. (vx, vy, vz) + c*tau*t * p / m with t exponential of mean 1."""
    scale = ctau_mm * rng.standard_exponential() / m
    return vx + scale * px, vy + scale * py, vz + scale * pz


@njit_hot(_DECAY, _nrt=False)
def add_k0s(rng, out, n, px, py, pz, e, vx, vy, vz, origin, hadron_index):
    """Fly a K0S beta*gamma*c*tau*Exp(1) and decay it there into pi+ pi- or pi0 pi0 (photons), isotropically.

    Its charged pions become tracks only if it decays inside the pixel volume; the track selection and the vertex
    fit's V0 veto then deal with them as they do with Pythia's K0S.
    """
    dx, dy, dz = decay_vertex(rng, CTAU_K_SHORT_MM, M_K_SHORT, px, py, pz, vx, vy, vz)
    c = 2.0 * uniform(rng) - 1.0
    phi = 2.0 * math.pi * uniform(rng)
    if uniform(rng) < K_SHORT_TO_CHARGED_PIONS:
        q = two_body(px, py, pz, e, M_K_SHORT, M_PI_CHARGED, M_PI_CHARGED, c, phi)
        n = add_particle(out, n, q[0], q[1], q[2], q[3], 211, 1.0, dx, dy, dz, origin, hadron_index)
        return add_particle(out, n, q[4], q[5], q[6], q[7], -211, -1.0, dx, dy, dz, origin, hadron_index)
    q = two_body(px, py, pz, e, M_K_SHORT, M_PI0, M_PI0, c, phi)
    n = add_pi0_photons(rng, out, n, q[0], q[1], q[2], q[3], dx, dy, dz, origin, hadron_index)
    return add_pi0_photons(rng, out, n, q[4], q[5], q[6], q[7], dx, dy, dz, origin, hadron_index)


@njit_hot(_DECAY_PDG, _nrt=False)
def add_lambda(rng, out, n, px, py, pz, e, pdg, vx, vy, vz, origin, hadron_index):
    """Fly a Lambda (pdg > 0) or anti-Lambda beta*gamma*c*tau*Exp(1) and decay it there, isotropically, into p pi-
    (anti: pbar pi+) or n pi0 (the pi0 as its photons).

    As with the K0S, its daughters become tracks only where it decays inside the pixel volume; with Pythia's normal
    decays these displaced proton and pion tracks are what the b-tagging track selection and the vertex fit's
    Lambda veto face in light and charm jets.
    """
    dx, dy, dz = decay_vertex(rng, CTAU_LAMBDA_MM, M_LAMBDA, px, py, pz, vx, vy, vz)
    c = 2.0 * uniform(rng) - 1.0
    phi = 2.0 * math.pi * uniform(rng)
    s = 1 if pdg > 0 else -1
    if uniform(rng) < LAMBDA_TO_PROTON_PION:
        q = two_body(px, py, pz, e, M_LAMBDA, M_PROTON, M_PI_CHARGED, c, phi)
        n = add_particle(out, n, q[0], q[1], q[2], q[3], 2212 * s, float(s), dx, dy, dz, origin, hadron_index)
        return add_particle(out, n, q[4], q[5], q[6], q[7], -211 * s, -float(s), dx, dy, dz, origin, hadron_index)
    q = two_body(px, py, pz, e, M_LAMBDA, M_NEUTRON, M_PI0, c, phi)
    n = add_particle(out, n, q[0], q[1], q[2], q[3], 2112 * s, 0.0, dx, dy, dz, origin, hadron_index)
    return add_pi0_photons(rng, out, n, q[4], q[5], q[6], q[7], dx, dy, dz, origin, hadron_index)


@njit_hot(_DECAY_PDG_CHARGE, _nrt=False)
def add_stable(rng, out, n, px, py, pz, e, pdg, charge, vx, vy, vz, origin, hadron_index):
    """Append a hadron as the detector sees it: a pi0 as its photons, a K0S or a Lambda as its decay products, else
    itself."""
    if pdg == 111:
        return add_pi0_photons(rng, out, n, px, py, pz, e, vx, vy, vz, origin, hadron_index)
    if pdg == 310:
        return add_k0s(rng, out, n, px, py, pz, e, vx, vy, vz, origin, hadron_index)
    if pdg == LAMBDA or pdg == -LAMBDA:
        return add_lambda(rng, out, n, px, py, pz, e, pdg, vx, vy, vz, origin, hadron_index)
    return add_particle(out, n, px, py, pz, e, pdg, charge, vx, vy, vz, origin, hadron_index)


@njit_hot(_DECAY_TWO_BODY, _nrt=False)
def _add_two_body(rng, out, n, px, py, pz, e, pdg1, q1, m1, pdg2, q2, m2, vx, vy, vz, origin, hadron_index):
    """Decay (px, py, pz, E) isotropically into two hadrons and append both (`add_stable`)."""
    m = math.sqrt(max(e * e - px * px - py * py - pz * pz, 0.0))
    q = two_body(px, py, pz, e, m, m1, m2, 2.0 * uniform(rng) - 1.0, 2.0 * math.pi * uniform(rng))
    n = add_stable(rng, out, n, q[0], q[1], q[2], q[3], pdg1, q1, vx, vy, vz, origin, hadron_index)
    return add_stable(rng, out, n, q[4], q[5], q[6], q[7], pdg2, q2, vx, vy, vz, origin, hadron_index)


@njit_no_refcount
def _neutral_kaon(rng):
    """A K0 or anti-K0 as the detector sees it: K0S or K0L with equal probability."""
    return 310 if uniform(rng) < 0.5 else 130


#: pi+ pi- pi0, the daughters of omega -> 3 pi (a global array: a constant of the compiled code, not an allocation)
OMEGA_THREE_PION_MASSES = np.array([M_PI_CHARGED, M_PI_CHARGED, M_PI0])


@njit_hot(_DECAY, _nrt=False)
def _add_omega_three_pions(rng, out, n, px, py, pz, e, vx, vy, vz, origin, hadron_index):
    """Decay an omega into pi+ pi- pi0 (`nbody` phase space) and append the pions, the pi0 as its photons.

    `nbody` writes the three momenta into the rows of `out` that the pions will take, which serve as scratch: the
    decay allocates nothing, so it can run without numba's reference counting (`njit_no_refcount`) as the rest of the
    per-particle path does.
    """
    if n + 3 > out.shape[0]:
        raise ValueError("particle buffer full")
    nbody(rng, px, py, pz, e, OMEGA_THREE_PION_MASSES, out[n : n + 3, PPX : PE + 1])
    p1x, p1y, p1z, p1e = out[n, PPX], out[n, PPY], out[n, PPZ], out[n, PE]
    p2x, p2y, p2z, p2e = out[n + 1, PPX], out[n + 1, PPY], out[n + 1, PPZ], out[n + 1, PE]
    p3x, p3y, p3z, p3e = out[n + 2, PPX], out[n + 2, PPY], out[n + 2, PPZ], out[n + 2, PE]
    n = add_particle(out, n, p1x, p1y, p1z, p1e, 211, 1.0, vx, vy, vz, origin, hadron_index)
    n = add_particle(out, n, p2x, p2y, p2z, p2e, -211, -1.0, vx, vy, vz, origin, hadron_index)
    return add_pi0_photons(rng, out, n, p3x, p3y, p3z, p3e, vx, vy, vz, origin, hadron_index)


@njit_hot(_DECAY_PDG_CHARGE, _nrt=False)
def add_final(rng, out, n, px, py, pz, e, pdg, charge, vx, vy, vz, origin, hadron_index):
    """Append a primary light hadron: a vector meson decays at once (rho -> pi pi, omega -> pi+ pi- pi0 or pi0 gamma,
    K* -> K pi with the isospin 2/3 : 1/3), the rest go through `add_stable`."""
    a = abs(pdg)
    s = 1.0 if pdg > 0 else -1.0
    if a == 213:  # rho+- -> pi+- pi0
        return _add_two_body(rng, out, n, px, py, pz, e, 211 * int(s), s, M_PI_CHARGED, 111, 0.0, M_PI0,
                             vx, vy, vz, origin, hadron_index)
    if a == 113:  # rho0 -> pi+ pi-
        return _add_two_body(rng, out, n, px, py, pz, e, 211, 1.0, M_PI_CHARGED, -211, -1.0, M_PI_CHARGED,
                             vx, vy, vz, origin, hadron_index)
    if a == 223:
        if uniform(rng) < OMEGA_TO_THREE_PIONS:
            return _add_omega_three_pions(rng, out, n, px, py, pz, e, vx, vy, vz, origin, hadron_index)
        return _add_two_body(rng, out, n, px, py, pz, e, 111, 0.0, M_PI0, 22, 0.0, 0.0, vx, vy, vz, origin,
                             hadron_index)
    if a == 323:  # K*+- -> K0 pi+- (2/3) or K+- pi0 (1/3)
        if uniform(rng) < 2.0 / 3.0:
            return _add_two_body(rng, out, n, px, py, pz, e, _neutral_kaon(rng), 0.0, M_K_SHORT, 211 * int(s), s,
                                 M_PI_CHARGED, vx, vy, vz, origin, hadron_index)
        return _add_two_body(rng, out, n, px, py, pz, e, 321 * int(s), s, M_K_CHARGED, 111, 0.0, M_PI0,
                             vx, vy, vz, origin, hadron_index)
    if a == 313:  # K*0 -> K+ pi- (2/3) or K0 pi0 (1/3); anti-K*0 conjugate
        if uniform(rng) < 2.0 / 3.0:
            return _add_two_body(rng, out, n, px, py, pz, e, 321 * int(s), s, M_K_CHARGED, -211 * int(s), -s,
                                 M_PI_CHARGED, vx, vy, vz, origin, hadron_index)
        return _add_two_body(rng, out, n, px, py, pz, e, _neutral_kaon(rng), 0.0, M_K_SHORT, 111, 0.0, M_PI0,
                             vx, vy, vz, origin, hadron_index)
    return add_stable(rng, out, n, px, py, pz, e, pdg, charge, vx, vy, vz, origin, hadron_index)


@njit_no_refcount
def _push(d_m, d_pdg, d_q, d_kind, k, m, pdg, q, kind):
    """Append a daughter to the decay's daughter list."""
    if k < MAX_DAUGHTERS:
        d_m[k] = m
        d_pdg[k] = pdg
        d_q[k] = q
        d_kind[k] = kind
        return k + 1
    return k


@njit_no_refcount
def _light_charged(rng, sign):
    """Mass and PDG id of a charged pion or kaon of the given sign."""
    if uniform(rng) < KAON_SHARE_IN_DECAYS:
        return M_K_CHARGED, 321 * sign
    return M_PI_CHARGED, 211 * sign


@njit_no_refcount
def _push_charm(rng, d_m, d_pdg, d_q, d_kind, k, sign):
    """Append a charm hadron (sign +1: c quark, -1: c antiquark) drawn from the production mix; returns (k, charge)."""
    return _push_charm_row(d_m, d_pdg, d_q, d_kind, k, C_HADRONS[pick(C_HADRONS, uniform(rng))], sign)


@njit_no_refcount
def _push_charm_from_b(rng, d_m, d_pdg, d_q, d_kind, k, b_pdg, sign):
    """Append the charm hadron of the b -> c quark of b hadron `b_pdg` (sign as `_push_charm`), drawn from that
    species' row of CHARM_FROM_B, where the c quark joins the spectator (the production mix for a species not in
    B_HADRONS); returns (k, charge)."""
    species = species_row(B_HADRONS, b_pdg)  # also the row of CHARM_FROM_B
    if species < 0:
        return _push_charm(rng, d_m, d_pdg, d_q, d_kind, k, sign)
    row = C_HADRONS[pick_share(CHARM_FROM_B[species], uniform(rng))]
    return _push_charm_row(d_m, d_pdg, d_q, d_kind, k, row, sign)


@njit_no_refcount
def _push_charm_row(d_m, d_pdg, d_q, d_kind, k, row, sign):
    """Append the charm hadron of C_HADRONS row `row` with the given quark sign; returns (k, charge)."""
    k = _push(d_m, d_pdg, d_q, d_kind, k, row[2], int(row[0]) * sign, row[1] * sign, KIND_HEAVY)
    return k, row[1] * sign


@njit_no_refcount
def species_row(table, pdg):
    """Row of the heavy-hadron species table `table` (B_HADRONS or C_HADRONS) of species `pdg`, of either sign; -1 if
    it is none of them."""
    apdg = abs(pdg)
    for r in range(table.shape[0]):
        if abs(int(table[r, 0])) == apdg:
            return r
    return -1


@njit_hot
def build_daughters(rng, flav, pdg, qsign, charge, mass, params, d_m, d_pdg, d_q, d_kind):
    """Daughter list of a b- (flav 5) or c- (flav 4) hadron with PDG id `pdg`; returns (number of daughters, mode).

    b decays follow the quark-level b -> c W*: a charm hadron of the quark's sign, the one the c quark makes with the
    b hadron's spectator (`CHARM_FROM_B`), except in the small share without open charm (b -> u, charmonium); the W*
    gives e nu or mu nu (`b_semileptonic_per_lepton` each), tau nu
    (`b_to_tau_fraction`), c-bar s (a second, anti-charm hadron, `b_to_ccs_fraction`) or light quarks. c decays are
    c -> s W*, semileptonic with `c_semileptonic_per_lepton` per lepton flavour; a Ds also decays to tau nu
    (`ds_to_tau_fraction`, the mode DECAY_LEPTONIC: the tau and its neutrino are the only daughters). A
    semileptonic decay (DECAY_SEMILEPTONIC) puts the charged lepton and the neutrino first; the hadrons follow:
    charm hadrons, the charge-balancing pions/kaons, opposite-sign pairs, then pi0s. Hadronic b decays without a
    second charm hadron have Bin(2, 1/2) pairs, with one Bin(1, 1/2); semileptonic b decays none (D, D*, D** give a
    charm hadron plus about one pion); c decays Bin(2, 1/2) pairs hadronically, none semileptonically, and in
    `K0_SHARE_C_DECAYS` of them a neutral kaon (the s quark of c -> s).
    Optional pi0s and pairs are dropped until the daughters fit in the parent mass.
    """
    k = 0
    # the sign of the decaying quark: a charm hadron's PDG id is positive when it holds a c quark (also the c-bar
    # hadron of b -> c c-bar s, whose quark sign is its b's)
    qs = int(qsign) if flav == 5 else (1 if pdg > 0 else -1)
    u_w = uniform(rng)
    p_lep = params.b_semileptonic_per_lepton if flav == 5 else params.c_semileptonic_per_lepton
    p_tau = 0.0
    if flav == 5:
        p_tau = params.b_to_tau_fraction
    elif abs(pdg) == 431:
        p_tau = params.ds_to_tau_fraction
    with_lepton = u_w < 2.0 * p_lep + p_tau
    semileptonic = with_lepton and (flav == 5 or u_w < 2.0 * p_lep)
    q_rem = charge
    if with_lepton:
        # b -> c l- nubar, c -> s l+ nu (antiquarks conjugate)
        l_sign = -qs if flav == 5 else qs
        if u_w < 2.0 * p_lep:
            is_mu = u_w < p_lep
            m_l = M_MUON if is_mu else M_ELECTRON
            l_pdg = 13 if is_mu else 11
            l_kind = KIND_STABLE
        else:
            m_l, l_pdg, l_kind = M_TAU, 15, KIND_TAU
        k = _push(d_m, d_pdg, d_q, d_kind, k, m_l, -l_pdg * l_sign, float(l_sign), l_kind)
        k = _push(d_m, d_pdg, d_q, d_kind, k, 0.0, (l_pdg + 1) * l_sign, 0.0, KIND_STABLE)
        q_rem -= l_sign
        if not semileptonic:
            return k, DECAY_LEPTONIC
    n_pairs = 0
    n_pi0_mean = PI0_MEAN_C
    if flav == 5:
        n_pi0_mean = PI0_MEAN_B
        if uniform(rng) >= params.b_no_open_charm_fraction:
            k, q_c = _push_charm_from_b(rng, d_m, d_pdg, d_q, d_kind, k, pdg, qs)  # b -> c, with the spectator
            q_rem -= q_c
        ccs = (not semileptonic) and u_w < 2.0 * p_lep + p_tau + params.b_to_ccs_fraction
        if ccs:
            k, q_c = _push_charm(rng, d_m, d_pdg, d_q, d_kind, k, -qs)  # W- -> c-bar s
            q_rem -= q_c
            n_pairs = rng.binomial(1, 0.5)
        elif semileptonic:
            n_pi0_mean = PI0_MEAN_B_SEMILEPTONIC
        else:
            n_pairs = rng.binomial(2, 0.5)
    elif not semileptonic:
        n_pairs = rng.binomial(2, 0.5)
    else:
        n_pi0_mean = 0.3 * PI0_MEAN_C
    if flav == 4 and uniform(rng) < K0_SHARE_C_DECAYS:
        k = _push(d_m, d_pdg, d_q, d_kind, k, M_K_LONG, _neutral_kaon(rng), 0.0, KIND_STABLE)  # c -> s -> K0
    sign = 1 if q_rem > 0 else -1
    for _ in range(int(round(abs(q_rem)))):
        m, pdg_h = _light_charged(rng, sign)
        k = _push(d_m, d_pdg, d_q, d_kind, k, m, pdg_h, float(sign), KIND_STABLE)
    k_fixed = k
    for _ in range(n_pairs):
        for s in (1, -1):
            m, pdg_h = _light_charged(rng, s)
            k = _push(d_m, d_pdg, d_q, d_kind, k, m, pdg_h, float(s), KIND_STABLE)
    for _ in range(rng.poisson(n_pi0_mean)):
        k = _push(d_m, d_pdg, d_q, d_kind, k, M_PI0, 111, 0.0, KIND_PI0)
    k_min = 3 if semileptonic else 2  # a semileptonic decay needs a hadronic system
    while k < k_min:
        k = _push(d_m, d_pdg, d_q, d_kind, k, M_PI0, 111, 0.0, KIND_PI0)
    # drop trailing pi0s, then pairs, until the daughters fit (keeps the charge balance)
    while d_m[:k].sum() > 0.95 * mass and k > max(k_min, k_fixed):
        k -= 2 if d_kind[k - 1] != KIND_PI0 else 1
    return k, DECAY_SEMILEPTONIC if semileptonic else DECAY_HADRONIC


@njit_no_refcount
def va_three_body(rng, mass, m_l, m_x, lepton_with_parent, out):
    """Rest-frame momenta of a weak decay into a charged lepton (out[0], mass `m_l`), a neutrino (out[1]) and a
    system X (out[2], mass `m_x`): three-body phase space times the V-A matrix element |M|^2 ~ (P.p_a)(p_b.p_X).

    The fermion paired with the parent P in that product, a, is the neutrino in b -> c l- nubar and in
    tau- -> nu_tau l- nubar (with X = nu_tau), and the charged lepton in c -> s l+ nu (`lepton_with_parent`), as in
    muon decay, (p_mu.p_nubar_e)(p_e.p_nu_mu). This is the spectator model of a heavy-hadron decay (the hadronic
    system X in the role of the daughter quark), as Pythia's semileptonic matrix element: in b decays the charged
    lepton takes the harder spectrum (mean x = 0.7 of its end point, the antineutrino 0.6), in c decays the
    neutrino does. Drawn by accept-reject: the mass m_lnu of the lepton pair uniform in m_lnu^2 with the weight
    of two successive isotropic two-body decays, then the matrix element against its maximum.
    """
    m2 = mass * mass
    q_lo2 = m_l * m_l
    q_hi = mass - m_x
    q_hi2 = q_hi * q_hi
    if lepton_with_parent:
        m_a, m_b = m_l, 0.0
    else:
        m_a, m_b = 0.0, m_l
    e_a_max = (m2 + m_a * m_a - (m_x + m_b) ** 2) / (2.0 * mass)
    bx_max = 0.5 * (m2 + m_a * m_a - 2.0 * mass * m_a - m_b * m_b - m_x * m_x)
    w_max = 0.5 * kallen_momentum(mass, m_x, m_l) * mass * e_a_max * bx_max
    while True:
        q2 = q_lo2 + (q_hi2 - q_lo2) * uniform(rng)
        q = math.sqrt(q2)
        w_ps = kallen_momentum(mass, m_x, q) * (q2 - q_lo2) / (2.0 * q2)
        xr = two_body(0.0, 0.0, 0.0, mass, mass, m_x, q, 2.0 * uniform(rng) - 1.0, 2.0 * math.pi * uniform(rng))
        lr = two_body(xr[4], xr[5], xr[6], xr[7], q, m_l, 0.0, 2.0 * uniform(rng) - 1.0, 2.0 * math.pi * uniform(rng))
        if lepton_with_parent:
            e_a, bx_, by_, bz_, be_ = lr[3], lr[4], lr[5], lr[6], lr[7]
        else:
            e_a, bx_, by_, bz_, be_ = lr[7], lr[0], lr[1], lr[2], lr[3]
        b_dot_x = be_ * xr[3] - bx_ * xr[0] - by_ * xr[1] - bz_ * xr[2]
        if uniform(rng) * w_max < w_ps * mass * e_a * b_dot_x:
            break
    for c in range(4):
        out[0, c] = lr[c]
        out[1, c] = lr[4 + c]
        out[2, c] = xr[c]


@njit_no_refcount
def semileptonic_momenta(rng, px, py, pz, e, mass, d_m, k, lepton_with_parent, mom):
    """Momenta of a semileptonic decay (lepton, neutrino, hadrons) into mom[:k].

    The hadronic system X (daughters 2..k-1; its mass a little above theirs, so that a charm or strange hadron plus
    pions resembles the D*, D**, K* resonances) recoils against the lepton pair as `va_three_body` draws it in the
    parent rest frame; X then decays into its hadrons with `nbody`. Four-momentum is conserved exactly.
    """
    m_l = d_m[0]
    m_x_min = 0.0
    for j in range(2, k):
        m_x_min += d_m[j]
    m_x = m_x_min
    if k > 3:
        room = mass - m_l - m_x_min
        m_x = m_x_min + min(rng.exponential(X_MASS_EXCESS_GEV), 0.5 * room)
    va_three_body(rng, mass, m_l, m_x, lepton_with_parent, mom)
    bx, by, bz = px / e, py / e, pz / e
    xx, xy, xz, xe = boost(mom[2, 0], mom[2, 1], mom[2, 2], mom[2, 3], bx, by, bz)
    lx, ly, lz, le = boost(mom[0, 0], mom[0, 1], mom[0, 2], mom[0, 3], bx, by, bz)
    mom[0, 0], mom[0, 1], mom[0, 2], mom[0, 3] = lx, ly, lz, le
    mom[1, 0], mom[1, 1], mom[1, 2], mom[1, 3] = px - xx - lx, py - xy - ly, pz - xz - lz, e - xe - le
    if k == 3:
        mom[2, 0], mom[2, 1], mom[2, 2], mom[2, 3] = xx, xy, xz, xe
    else:
        nbody(rng, xx, xy, xz, xe, d_m[2:k], mom[2:k])


#: hadronic tau- decays: daughter masses and charges in units of the tau's charge (global arrays: constants of the
#: compiled code). rho- -> pi- pi0, a1- -> pi- pi- pi+ or pi- pi0 pi0, and pi- pi- pi+ pi0.
TAU_RHO_MASSES = np.array([M_PI_CHARGED, M_PI0])
TAU_RHO_CHARGES = np.array([1.0, 0.0])
TAU_A1_CHARGED_MASSES = np.array([M_PI_CHARGED, M_PI_CHARGED, M_PI_CHARGED])
TAU_A1_CHARGED_CHARGES = np.array([1.0, 1.0, -1.0])
TAU_A1_NEUTRAL_MASSES = np.array([M_PI_CHARGED, M_PI0, M_PI0])
TAU_A1_NEUTRAL_CHARGES = np.array([1.0, 0.0, 0.0])
TAU_FOUR_PION_MASSES = np.array([M_PI_CHARGED, M_PI_CHARGED, M_PI_CHARGED, M_PI0])
TAU_FOUR_PION_CHARGES = np.array([1.0, 1.0, -1.0, 0.0])


@njit_no_refcount
def add_tau(rng, out, n, px, py, pz, e, pdg, vx, vy, vz, origin, hadron_index, scratch):
    """Fly a tau beta*gamma*c*tau*Exp(1) from (vx, vy, vz) and decay it there; returns the new particle count.

    Leptonic decays (tau -> l nu nu) follow the V-A matrix element (`va_three_body`); hadronic ones are
    tau -> X nu_tau, isotropic, with X a pion or a multi-pion system of fixed mass (rho, a1, 4 pi) decaying by
    `nbody`; the tau polarisation is not followed. `scratch` (at least 4 x 4) holds intermediate momenta.
    """
    t = 1 if pdg > 0 else -1  # tau- (pdg 15): its daughters carry the signs written for tau-
    dx, dy, dz = decay_vertex(rng, CTAU_TAU_MM, M_TAU, px, py, pz, vx, vy, vz)
    u = uniform(rng)
    if u < TAU_TO_ELECTRON + TAU_TO_MUON:
        is_e = u < TAU_TO_ELECTRON
        m_l = M_ELECTRON if is_e else M_MUON
        l_pdg = 11 if is_e else 13
        va_three_body(rng, M_TAU, m_l, 0.0, False, scratch)
        bx, by, bz = px / e, py / e, pz / e
        lx, ly, lz, le = boost(scratch[0, 0], scratch[0, 1], scratch[0, 2], scratch[0, 3], bx, by, bz)
        nx, ny, nz, ne = boost(scratch[1, 0], scratch[1, 1], scratch[1, 2], scratch[1, 3], bx, by, bz)
        n = add_particle(out, n, lx, ly, lz, le, l_pdg * t, -float(t), dx, dy, dz, origin, hadron_index)
        n = add_particle(out, n, nx, ny, nz, ne, -(l_pdg + 1) * t, 0.0, dx, dy, dz, origin, hadron_index)
        return add_particle(out, n, px - lx - nx, py - ly - ny, pz - lz - nz, e - le - ne, 16 * t, 0.0,
                            dx, dy, dz, origin, hadron_index)
    u -= TAU_TO_ELECTRON + TAU_TO_MUON
    single_pion = u < TAU_TO_PION
    if single_pion:
        m_x = M_PI_CHARGED
    elif u < TAU_TO_PION + TAU_TO_A1_CHARGED:
        m_x, masses, charges = M_A1, TAU_A1_CHARGED_MASSES, TAU_A1_CHARGED_CHARGES
    elif u < TAU_TO_PION + TAU_TO_A1_CHARGED + TAU_TO_A1_NEUTRAL:
        m_x, masses, charges = M_A1, TAU_A1_NEUTRAL_MASSES, TAU_A1_NEUTRAL_CHARGES
    elif u < TAU_TO_PION + TAU_TO_A1_CHARGED + TAU_TO_A1_NEUTRAL + TAU_TO_THREE_PIONS_PI0:
        m_x, masses, charges = M_THREE_PIONS_PI0, TAU_FOUR_PION_MASSES, TAU_FOUR_PION_CHARGES
    else:
        m_x, masses, charges = M_RHO, TAU_RHO_MASSES, TAU_RHO_CHARGES
    q = two_body(px, py, pz, e, M_TAU, m_x, 0.0, 2.0 * uniform(rng) - 1.0, 2.0 * math.pi * uniform(rng))
    n = add_particle(out, n, q[4], q[5], q[6], q[7], 16 * t, 0.0, dx, dy, dz, origin, hadron_index)
    if single_pion:
        return add_particle(out, n, q[0], q[1], q[2], q[3], -211 * t, -float(t), dx, dy, dz, origin, hadron_index)
    k = masses.shape[0]
    nbody(rng, q[0], q[1], q[2], q[3], masses, scratch[:k])
    for j in range(k):
        charge = -charges[j] * t
        h_pdg = 111 if charge == 0.0 else (211 if charge > 0.0 else -211)
        n = add_stable(rng, out, n, scratch[j, 0], scratch[j, 1], scratch[j, 2], scratch[j, 3], h_pdg, charge,
                       dx, dy, dz, origin, hadron_index)
    return n


@njit_no_refcount
def heavy_ctau_mm(pdg, flav):
    """c*tau [mm] of the heavy hadron species `pdg` (either sign) of flavour `flav` (5 or 4), from its table."""
    table = B_HADRONS if flav == 5 else C_HADRONS
    r = species_row(table, pdg)
    if r < 0:
        raise ValueError("heavy hadron species without a lifetime")
    return table[r, HADRON_CTAU_COLUMN]


@njit_no_refcount
def fly(rng, had, i, ctau_mm):
    """Draw the decay vertex of heavy hadron i: distance beta*gamma*c*tau*Exp(1) along its momentum."""
    had[i, XDECX], had[i, XDECY], had[i, XDECZ] = decay_vertex(
        rng, ctau_mm, had[i, XM], had[i, XPX], had[i, XPY], had[i, XPZ], had[i, XPRODX], had[i, XPRODY], had[i, XPRODZ]
    )


@njit_hot
def decay_heavy_hadrons(rng, had, n_had, params, out, n_out):
    """Fly and decay every heavy hadron in had[:n_had], appending cascade c-hadrons to `had` and the stable daughters to
    `out`. Returns (n_had, n_out)."""
    d_m = np.empty(MAX_DAUGHTERS)
    d_pdg = np.empty(MAX_DAUGHTERS, dtype=np.int64)
    d_q = np.empty(MAX_DAUGHTERS)
    d_kind = np.empty(MAX_DAUGHTERS, dtype=np.int64)
    mom = np.empty((MAX_DAUGHTERS, 4))
    tau_scratch = np.empty((4, 4))
    i = 0
    while i < n_had:
        flav = int(had[i, XFLAV])
        fly(rng, had, i, heavy_ctau_mm(int(had[i, XPDG]), flav))
        k, mode = build_daughters(
            rng, flav, int(had[i, XPDG]), had[i, XQSIGN], had[i, XCHARGE], had[i, XM], params, d_m, d_pdg, d_q, d_kind
        )
        if mode == DECAY_SEMILEPTONIC:
            semileptonic_momenta(
                rng, had[i, XPX], had[i, XPY], had[i, XPZ], had[i, XE], had[i, XM], d_m, k, flav == 4, mom
            )
        else:
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
            elif d_kind[j] == KIND_TAU:
                n_out = add_tau(
                    rng, out, n_out, mom[j, 0], mom[j, 1], mom[j, 2], mom[j, 3], d_pdg[j], vx, vy, vz, origin, i,
                    tau_scratch,
                )
            elif d_kind[j] == KIND_PI0:
                n_out = add_pi0_photons(
                    rng, out, n_out, mom[j, 0], mom[j, 1], mom[j, 2], mom[j, 3], vx, vy, vz, origin, i
                )
            else:
                n_out = add_final(
                    rng,
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
