"""Toy hadronization: independent fragmentation of every final parton into pi, K, p, n, K0L, pi0 and heavy hadrons.

A b (c) quark first becomes a b- (c-) hadron with energy fraction x drawn from a Kartvelishvili spectrum
f(x) ~ x^a (1 - x) tuned to the configured mean. The quark has already radiated in the shower, so this is only the
non-perturbative share (config: <x> = 0.91 for b, 0.85 for c; shower and fragmentation together give Pythia 8's
median p_T(B)/p_T(b) ~ 0.75 for the b from H); the remaining energy, and every light
parton, fragments iteratively with the Field-Feynman function and a Gaussian transverse momentum. A boost-and-rescale
(`conserve_momentum`) then makes the hadrons of each shower sum exactly to the shower's seed parton, so the hadron-level
jet mass is the one the shower generated and the event conserves four-momentum.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from autopruner.fast_random import uniform
from autopruner.jit import njit_no_refcount
from autopruner.kinematics import boost, orthonormal_basis
from autopruner.particles import (
    B_HADRONS,
    C_HADRONS,
    CHARGED_HADRONS,
    LAMBDA,
    M_K_STAR,
    M_OMEGA,
    M_RHO,
    NEUTRAL_HADRONS,
)

# Columns of a primary hadron: px, py, pz, E, m, pdgid, charge, heavy flavour (0, 4, 5), quark sign.
HPX, HPY, HPZ, HE, HM, HPDG, HCHARGE, HFLAV, HQSIGN = range(9)
N_HADRON_COLS = 9


class HadronizationParams(NamedTuple):
    """Hadronization settings (from config generation.hadronization)."""

    charged_fraction: float
    b_kartvelishvili_a: float
    c_kartvelishvili_a: float
    cluster_mass_gev: float
    ff_a: float  # Field-Feynman f(z) = 1 - a + 3 a (1 - z)^2 of a light hadron's energy share z
    e_stop_gev: float  # a chain's remaining energy below which fragmentation ends
    pt_sigma_gev: float  # per-component Gaussian width of a hadron's momentum transverse to its parton
    vector_meson_fraction: float  # share of light mesons made as the vector partner (rho, omega, K*)


def kartvelishvili_exponent(mean_x: float) -> float:
    """Exponent a of f(x) ~ x^a (1 - x) whose mean (a + 1) / (a + 3) equals `mean_x`."""
    if not 1.0 / 3.0 < mean_x < 1.0:
        raise ValueError(f"fragmentation mean must lie in (1/3, 1), got {mean_x}")
    return (3.0 * mean_x - 1.0) / (1.0 - mean_x)


def hadronization_params(had_cfg: dict) -> HadronizationParams:
    """HadronizationParams from the `generation.hadronization` config block."""
    return HadronizationParams(
        float(had_cfg["charged_fraction"]),
        kartvelishvili_exponent(float(had_cfg["b_fragmentation_mean"])),
        kartvelishvili_exponent(float(had_cfg["c_fragmentation_mean"])),
        float(had_cfg["cluster_mass_gev"]),
        float(had_cfg["field_feynman_a"]),
        float(had_cfg["chain_stop_gev"]),
        float(had_cfg["pt_sigma_gev"]),
        float(had_cfg["vector_meson_fraction"]),
    )


@njit_no_refcount
def _pair_mass2(fin, i, j):
    """Squared invariant mass of final partons i and j (px, py, pz, E columns)."""
    e = fin[i, 3] + fin[j, 3]
    x = fin[i, 0] + fin[j, 0]
    y = fin[i, 1] + fin[j, 1]
    z = fin[i, 2] + fin[j, 2]
    return e * e - x * x - y * y - z * z


@njit_no_refcount
def preconfine(fin, f0, f1, cluster_mass_gev):
    """Merge final partons fin[f0:f1] pairwise, lightest pair first, while a pair's invariant mass is below
    `cluster_mass_gev`; returns the new end f1 (the merged partons are fin[f0:f1]).

    Independent fragmentation is not collinear safe: every shower parton, however soft or collinear, starts a chain
    of its own, so a shower with a lower cut-off makes more hadrons. Colour preconfinement says that partons close in
    phase space end in one colour singlet (a cluster or string piece) that hadronizes as a whole. Merging them
    first makes the hadron multiplicity depend on the jet's mass structure, not on how finely the shower resolved
    it. The sum of the four-vectors is kept, and a heavy quark is never merged with another heavy quark (each b or c
    still makes its own heavy hadron); a merged pair carries the heavier flavour, else that of a quark, else gluon.
    """
    m2_max = cluster_mass_gev * cluster_mass_gev
    while f1 - f0 > 1:
        best = m2_max
        bi = -1
        bj = -1
        for i in range(f0, f1):
            hi = abs(fin[i, 4]) == 4 or abs(fin[i, 4]) == 5
            for j in range(i + 1, f1):
                hj = abs(fin[j, 4]) == 4 or abs(fin[j, 4]) == 5
                if hi and hj:
                    continue
                m2 = _pair_mass2(fin, i, j)
                if m2 < best:
                    best = m2
                    bi = i
                    bj = j
        if bi < 0:
            return f1
        pi, pj = fin[bi, 4], fin[bj, 4]
        if abs(pj) == 4 or abs(pj) == 5 or (pi == 21 and pj != 21):
            fin[bi, 4] = pj
        for c in range(4):
            fin[bi, c] += fin[bj, c]
        f1 -= 1
        for c in range(fin.shape[1]):
            fin[bj, c] = fin[f1, c]
    return f1


@njit_no_refcount
def pick(table, u):
    """Row of a species table (column 3: shares adding up to 1) for a uniform number u."""
    return pick_share(table[:, 3], u)


@njit_no_refcount
def pick_share(shares, u):
    """Index of the share (shares adding up to 1, laid end to end) that a uniform number u falls into."""
    acc = 0.0
    for i in range(shares.shape[0] - 1):
        acc += shares[i]
        if u < acc:
            return i
    return shares.shape[0] - 1


@njit_no_refcount
def light_hadron(rng, charged_fraction, vector_fraction):
    """(pdgid, charge, mass) of a light hadron: charged with the configured probability, random sign (a Lambda is
    a Lambda or an anti-Lambda alike); a meson is made as its vector partner (`vector_partner`) with probability
    `vector_fraction`."""
    if uniform(rng) < charged_fraction:
        row = CHARGED_HADRONS[pick(CHARGED_HADRONS, uniform(rng))]
        sign = 1 if uniform(rng) < 0.5 else -1
        pdg, charge, mass = int(row[0]) * sign, float(sign), row[2]
    else:
        row = NEUTRAL_HADRONS[pick(NEUTRAL_HADRONS, uniform(rng))]
        pdg, charge, mass = int(row[0]), 0.0, row[2]
        if pdg == LAMBDA and uniform(rng) < 0.5:
            pdg = -LAMBDA
    if abs(pdg) < 1000 and uniform(rng) < vector_fraction:
        pdg, mass = vector_partner(rng, pdg)
    return pdg, charge, mass


@njit_no_refcount
def vector_partner(rng, pdg):
    """(pdgid, mass) of the vector meson with the quark content of pseudoscalar `pdg`: pi+- -> rho+-, pi0 -> rho0 or
    omega, K+- -> K*+-, K0 -> K*0 or anti-K*0.

    In the string model a third of the light mesons are born as vectors (Pythia 8 Monash: StringFlav:mesonUDvector
    0.5, mesonSvector 0.55 relative to the pseudoscalars); their decays (`decays.add_final`) share a primary hadron's
    momentum among two or three softer ones.
    """
    sign = 1 if pdg > 0 else -1
    apdg = abs(pdg)
    if apdg == 211:
        return 213 * sign, M_RHO
    if apdg == 111:
        return (113, M_RHO) if uniform(rng) < 0.5 else (223, M_OMEGA)
    if apdg == 321:
        return 323 * sign, M_K_STAR
    return (313 if uniform(rng) < 0.5 else -313), M_K_STAR


@njit_no_refcount
def heavy_hadron(rng, quark_pdg):
    """(pdgid, charge, mass) of the heavy hadron a b/c (anti)quark fragments into."""
    sign = 1 if quark_pdg > 0 else -1
    table = B_HADRONS if abs(quark_pdg) == 5 else C_HADRONS
    row = table[pick(table, uniform(rng))]
    return int(row[0]) * sign, row[1] * sign, row[2]


@njit_no_refcount
def ff_z(rng, a):
    """Light-quark longitudinal fraction from the Field-Feynman function with parameter a (rejection sampling)."""
    fmax = 1.0 + 2.0 * a
    while True:
        z = uniform(rng)
        if uniform(rng) * fmax < 1.0 - a + 3.0 * a * (1.0 - z) ** 2:
            return z


@njit_no_refcount
def add_hadron(out, n, rng, e_h, m, pdg, charge, flav, qsign, nx, ny, nz, e1, e2, pt_sigma):
    """Append a hadron of energy e_h along n with a Gaussian transverse kick; returns the new count."""
    if n >= out.shape[0]:
        raise ValueError("primary-hadron buffer full")
    kx = rng.normal(0.0, pt_sigma)
    ky = rng.normal(0.0, pt_sigma)
    pt2 = kx * kx + ky * ky
    pl2 = e_h * e_h - m * m - pt2
    if pl2 <= 0.0:  # too little energy for the kick: emit along the parton
        kx = 0.0
        ky = 0.0
        pl2 = max(e_h * e_h - m * m, 0.0)
    pl = math.sqrt(pl2)
    out[n, HPX] = pl * nx + kx * e1[0] + ky * e2[0]
    out[n, HPY] = pl * ny + kx * e1[1] + ky * e2[1]
    out[n, HPZ] = pl * nz + kx * e1[2] + ky * e2[2]
    out[n, HE] = math.sqrt(pl2 + kx * kx + ky * ky + m * m)
    out[n, HM] = m
    out[n, HPDG] = pdg
    out[n, HCHARGE] = charge
    out[n, HFLAV] = flav
    out[n, HQSIGN] = qsign
    return n + 1


@njit_no_refcount
def fragment(rng, px, py, pz, e, pdg, params, out, n):
    """Fragment one parton into primary hadrons appended to out[n:]; returns the new count."""
    p = math.sqrt(px * px + py * py + pz * pz)
    if p > 0.0:
        nx, ny, nz = px / p, py / p, pz / p
    else:  # a parton at rest has no direction: fragment along z, as `two_body` does
        nx, ny, nz = 0.0, 0.0, 1.0
    b = orthonormal_basis(nx, ny, nz)
    e1 = (b[0], b[1], b[2])
    e2 = (b[3], b[4], b[5])
    e_rem = e
    apdg = abs(pdg)
    if apdg == 5 or apdg == 4:
        a = params.b_kartvelishvili_a if apdg == 5 else params.c_kartvelishvili_a
        x = rng.beta(a + 1.0, 2.0)
        hpdg, hq, hm = heavy_hadron(rng, pdg)
        e_h = max(x * e, 1.02 * hm)
        n = add_hadron(
            out,
            n,
            rng,
            e_h,
            hm,
            hpdg,
            hq,
            float(apdg),  # a float, as the other call sites pass it: one compiled version
            1.0 if pdg > 0 else -1.0,
            nx,
            ny,
            nz,
            e1,
            e2,
            params.pt_sigma_gev,
        )
        e_rem -= e_h
    if pdg == 21:  # a gluon fragments as the q qbar pair it splits into: two chains, more and softer hadrons
        z = gluon_split_fraction(rng)
        n = fragment_chain(rng, z * e_rem, nx, ny, nz, e1, e2, params, out, n)
        return fragment_chain(rng, (1.0 - z) * e_rem, nx, ny, nz, e1, e2, params, out, n)
    return fragment_chain(rng, e_rem, nx, ny, nz, e1, e2, params, out, n)


@njit_no_refcount
def gluon_split_fraction(rng):
    """Energy share of the quark when a final gluon fragments as a q qbar pair: P(z) ~ z^2 + (1 - z)^2."""
    while True:
        z = uniform(rng)
        if uniform(rng) < z * z + (1.0 - z) * (1.0 - z):
            return z


@njit_no_refcount
def fragment_chain(rng, e_rem, nx, ny, nz, e1, e2, params, out, n):
    """Iterative Field-Feynman fragmentation of energy e_rem along (nx, ny, nz) into light hadrons; returns the
    count."""
    while e_rem > params.e_stop_gev:
        hpdg, hq, hm = light_hadron(rng, params.charged_fraction, params.vector_meson_fraction)
        e_h = max(ff_z(rng, params.ff_a) * e_rem, hm + 0.05)
        if e_h > e_rem:
            break
        n = add_hadron(out, n, rng, e_h, hm, hpdg, hq, 0.0, 0.0, nx, ny, nz, e1, e2, params.pt_sigma_gev)
        e_rem -= e_h
    if e_rem > 0.3:  # the leftover becomes one last pion
        hpdg, hq, hm = light_hadron(rng, params.charged_fraction, params.vector_meson_fraction)
        if e_rem > hm:
            n = add_hadron(out, n, rng, e_rem, hm, hpdg, hq, 0.0, 0.0, nx, ny, nz, e1, e2, params.pt_sigma_gev)
    return n


@njit_no_refcount
def conserve_momentum(had, n0, n1, tx, ty, tz, te):
    """Boost and rescale hadrons had[n0:n1] so that they sum exactly to the four-vector (tx, ty, tz, te).

    The hadrons are boosted to their own rest frame, their momenta scaled so the energies add up to the target
    mass (Newton iteration), and boosted with the target's velocity. Needs at least two hadrons and target
    mass > sum of hadron masses (the generator checks both): a lone hadron has no momentum in its rest frame to
    rescale. Should the iteration's derivative vanish all the same, it stops instead of dividing by zero.
    """
    sx = sy = sz = se = 0.0
    for i in range(n0, n1):
        sx += had[i, HPX]
        sy += had[i, HPY]
        sz += had[i, HPZ]
        se += had[i, HE]
    m_target = math.sqrt(max(te * te - tx * tx - ty * ty - tz * tz, 0.0))
    for i in range(n0, n1):
        qx, qy, qz, qe = boost(
            had[i, HPX], had[i, HPY], had[i, HPZ], had[i, HE], -sx / se, -sy / se, -sz / se
        )
        had[i, HPX], had[i, HPY], had[i, HPZ], had[i, HE] = qx, qy, qz, qe
    a = 1.0
    for _ in range(50):
        f = -m_target
        df = 0.0
        for i in range(n0, n1):
            q2 = had[i, HPX] ** 2 + had[i, HPY] ** 2 + had[i, HPZ] ** 2
            ei = math.sqrt(had[i, HM] ** 2 + a * a * q2)
            f += ei
            df += a * q2 / ei
        if abs(f) < 1e-12 * m_target or df <= 0.0:
            break
        a -= f / df
    for i in range(n0, n1):
        qx, qy, qz = a * had[i, HPX], a * had[i, HPY], a * had[i, HPZ]
        qe = math.sqrt(had[i, HM] ** 2 + qx * qx + qy * qy + qz * qz)
        lx, ly, lz, le = boost(qx, qy, qz, qe, tx / te, ty / te, tz / te)
        had[i, HPX], had[i, HPY], had[i, HPZ], had[i, HE] = lx, ly, lz, le
