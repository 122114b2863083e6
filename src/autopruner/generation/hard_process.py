"""Hard processes at the LHC (toy): g b -> H b with H -> b bbar, and QCD 2 -> 2 (gluons, light, c and b quarks).

Each process fills shower seeds (evolved parton records, see `autopruner.generation.shower`) and truth partons
(px, py, pz, E, pdgid, role). The hard system recoils against the initial-state-radiation gluons (a Poisson number of
them, with the double-logarithmic pT spectrum of a parton cascade); secondary semi-hard scatterings (multiparton
interactions) add pT-balanced pairs of gluons or heavy quarks. Every outgoing parton's virtuality is drawn from its
Sudakov before its four-vector is built, so the event conserves four-momentum from the hard partons down to the final
partons.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from autopruner.fast_random import uniform
from autopruner.generation.shower import N_COLS, evolve, evolve_pair, fill_record, quark_mass
from autopruner.jit import njit_hot, njit_no_refcount
from autopruner.kinematics import boost, cos_theta_for_energy_fraction, from_pt_y_phi_m, two_body

ROLE_HARD = 0
ROLE_HIGGS = 1
ROLE_HIGGS_B = 2
N_TRUTH_COLS = 6  # px, py, pz, E, pdgid, role

THETA_MAX_HARD = (
    1.2  # largest opening angle of a hard parton's first branching (colour coherence with the event)
)
ISR_RAPIDITY_SIGMA = 2.2
MAX_ISR_EMISSIONS = 12  # cap of the Poisson count (P > 12 is 1e-4 at a mean of 4); sizes the seed buffers
MAX_MPI_SCATTERINGS = 16  # cap of the Poisson count of secondary scatterings
MPI_PT_MAX_FRACTION = 0.25  # a secondary scattering's pT stays below this fraction of the hard pT
MPI_X_MAX = 0.05  # each incoming parton of a secondary scattering carries at most this momentum fraction
MAX_SEEDS = 4 + MAX_ISR_EMISSIONS + 2 * MAX_MPI_SCATTERINGS  # shower seeds of one event


class HardParams(NamedTuple):
    """Hard-process settings (from config generation)."""

    sqrt_s_gev: float
    higgs_mass_gev: float
    pt_min_gev: float
    pt_spectrum_power: float
    qcd_gluon_fraction: float
    excitation_b: float
    excitation_c: float
    hbb_system_y_sigma: float  # Gaussian width of the H + b system's rapidity
    hbb_half_dy_sigma: float  # Gaussian width of half the rapidity difference between the H and the b
    qcd_system_y_sigma: float
    qcd_half_dy_sigma: float
    isr_mean_emissions: float
    isr_pt_min_gev: float
    isr_pt_max_fraction: float  # an ISR gluon's pT lies in [isr_pt_min_gev, isr_pt_max_fraction * pT_hard]
    mpi_mean_scatterings: float
    mpi_pt0_gev: float
    mpi_spectrum_power: float
    mpi_pt_min_gev: float
    mpi_fraction_b: float
    mpi_fraction_c: float


def hard_params(gen_cfg: dict) -> HardParams:
    """HardParams from the `generation` config block."""
    fe = gen_cfg["flavour_excitation"]
    return HardParams(
        float(gen_cfg["sqrt_s_gev"]),
        float(gen_cfg["higgs_mass_gev"]),
        float(gen_cfg["pt_min_gev"]),
        float(gen_cfg["pt_spectrum_power"]),
        float(gen_cfg["qcd_gluon_fraction"]),
        float(fe["b"]),
        float(fe["c"]),
        float(gen_cfg["hard_rapidity"]["hbb"]["system_sigma"]),
        float(gen_cfg["hard_rapidity"]["hbb"]["half_separation_sigma"]),
        float(gen_cfg["hard_rapidity"]["qcd"]["system_sigma"]),
        float(gen_cfg["hard_rapidity"]["qcd"]["half_separation_sigma"]),
        float(gen_cfg["isr"]["mean_emissions"]),
        float(gen_cfg["isr"]["pt_min_gev"]),
        float(gen_cfg["isr"]["pt_max_fraction"]),
        float(gen_cfg["mpi"]["mean_scatterings"]),
        float(gen_cfg["mpi"]["pt0_gev"]),
        float(gen_cfg["mpi"]["spectrum_power"]),
        float(gen_cfg["mpi"]["pt_min_gev"]),
        float(gen_cfg["mpi"]["heavy_flavour"]["b"]),
        float(gen_cfg["mpi"]["heavy_flavour"]["c"]),
    )


@njit_no_refcount
def sample_pt(rng, pt_min, power, pt_max):
    """pT from dsigma/dpT ~ pT^-power above pt_min (inverse transform), below pt_max."""
    while True:
        pt = pt_min * uniform(rng) ** (-1.0 / (power - 1.0))
        if pt < pt_max:
            return pt


@njit_no_refcount
def add_truth(truth, n, px, py, pz, e, pdg, role):
    """Append one truth parton."""
    truth[n, 0] = px
    truth[n, 1] = py
    truth[n, 2] = pz
    truth[n, 3] = e
    truth[n, 4] = pdg
    truth[n, 5] = role
    return n + 1


@njit_no_refcount
def seed_parton(rng, seeds, n, pt, y, phi, pdg, shower_p):
    """Evolve a hard parton from its maximal virtuality, build its four-vector and append it as a shower seed."""
    m0 = quark_mass(pdg)
    e_est = math.sqrt(pt * pt + m0 * m0) * math.cosh(y)
    t_start = 0.25 * e_est * e_est * THETA_MAX_HARD * THETA_MAX_HARD
    t, z, f = evolve(rng, e_est, pdg, t_start, THETA_MAX_HARD, shower_p)
    px, py, pz, e = from_pt_y_phi_m(pt, y, phi, math.sqrt(m0 * m0 + t))
    fill_record(seeds[n], px, py, pz, e, m0, pdg, t, z, f, THETA_MAX_HARD)
    return n + 1


@njit_no_refcount
def massive_decay_to_seeds(rng, seeds, n, px, py, pz, e, m, pdg1, pdg2, cos_theta, phi, z, shower_p):
    """Decay a massive parent into two partons that are then showered, with exact kinematics.

    The daughters' virtualities are drawn first (angular ordering inside their opening angle, their masses fitting in
    the parent mass), then the two-body decay is built with the helicity angle `cos_theta`, or, if z > 0, with the angle
    that gives daughter 1 the energy fraction z. Returns the new seed count and both daughter four-vectors.
    """
    p = math.sqrt(px * px + py * py + pz * pz)
    if z > 0.0:
        e1_est, e2_est = z * e, (1.0 - z) * e
        theta = math.sqrt((m * m) / (z * (1.0 - z))) / e
    else:  # massless estimate of the daughters' energies and opening angle
        a = two_body(px, py, pz, e, m, 0.0, 0.0, cos_theta, phi)
        e1_est, e2_est = a[3], a[7]
        dot = a[0] * a[4] + a[1] * a[5] + a[2] * a[6]
        theta = math.acos(max(-1.0, min(1.0, dot / (a[3] * a[7]))))
    theta = min(theta, math.pi)
    t1, z1, f1, t2, z2, f2 = evolve_pair(rng, m, e1_est, pdg1, e2_est, pdg2, theta, shower_p)
    m01, m02 = quark_mass(pdg1), quark_mass(pdg2)
    m1, m2 = math.sqrt(m01 * m01 + t1), math.sqrt(m02 * m02 + t2)
    if z > 0.0:
        cos_theta = cos_theta_for_energy_fraction(e, p, m, m1, m2, z)
    q = two_body(px, py, pz, e, m, m1, m2, cos_theta, phi)
    fill_record(seeds[n], q[0], q[1], q[2], q[3], m01, pdg1, t1, z1, f1, theta)
    fill_record(seeds[n + 1], q[4], q[5], q[6], q[7], m02, pdg2, t2, z2, f2, theta)
    return n + 2, q


@njit_hot
def isr_emissions(rng, hp, pt_hard, kicks):
    """Fill kicks[:n] with (pT, rapidity, azimuth) of n initial-state-radiation gluons; returns n.

    n is Poisson with mean `hp.isr_mean_emissions` (capped at MAX_ISR_EMISSIONS). Each pT follows the
    double-logarithmic spectrum of a parton cascade, dN/dln pT ~ ln(pT_max / pT) between `hp.isr_pt_min_gev` and
    hp.isr_pt_max_fraction * pT_hard: soft emissions dominate, and a hard one is rare but present. Several gluons, not
    one, are what puts heavy flavour (their own g -> Q Qbar) and jet activity all over the event, as a dipole or
    pT-ordered initial-state shower does.
    """
    n = min(rng.poisson(hp.isr_mean_emissions), MAX_ISR_EMISSIONS)
    log_range = math.log(max(hp.isr_pt_max_fraction * pt_hard / hp.isr_pt_min_gev, 1.0))
    for i in range(n):
        kicks[i, 0] = hp.isr_pt_min_gev * math.exp(log_range * (1.0 - math.sqrt(uniform(rng))))
        kicks[i, 1] = rng.normal(0.0, ISR_RAPIDITY_SIGMA)
        kicks[i, 2] = 2.0 * math.pi * uniform(rng) - math.pi
    return n


@njit_no_refcount
def _recoil(px, py, pz, e, nx, ny, beta_gamma, gamma):
    """(pT, rapidity, azimuth) of a four-vector after the transverse boost of the hard system along (nx, ny)."""
    p_par = px * nx + py * ny
    e_new = gamma * e + beta_gamma * p_par
    shift = beta_gamma * e + (gamma - 1.0) * p_par  # change of the momentum along (nx, ny)
    qx, qy = px + shift * nx, py + shift * ny
    return math.hypot(qx, qy), 0.5 * math.log((e_new + pz) / (e_new - pz)), math.atan2(qy, qx)


@njit_hot
def hard_kinematics(rng, hp, m1, m2, kicks, system_y_sigma, half_dy_sigma):
    """pT, rapidities and azimuths of two recoiling objects, and the ISR gluons (kicks[:n]) they recoil against, inside
    the collider's energy; returns (pt1, y1, phi1, pt2, y2, phi2, n, pt_hard).

    The 2 -> 2 scattering is drawn back to back in the transverse plane, with pT_hard above the generator cut (as
    Pythia's pTHatMin cuts the hard process in its own frame), at rapidities y = Y +- y* with the system's rapidity Y
    and half their difference y* Gaussian: the two are correlated, and each process has its own widths (the
    t-channel gluon exchange of QCD scatters to larger y* than b g -> H b). The ISR gluons then give the hard system
    as a whole the opposite of their summed transverse momentum: a transverse boost of both objects, which keeps the
    system's mass and longitudinal momentum, as the recoil of Pythia's initial-state shower does. Each object takes a
    share of the recoil (the Higgs boson too, so its pT falls below the cut in some events), not the second object
    alone.
    """
    while True:
        pt_hard = sample_pt(rng, hp.pt_min_gev, hp.pt_spectrum_power, 0.45 * hp.sqrt_s_gev)
        phi1 = 2.0 * math.pi * uniform(rng) - math.pi
        y_system = rng.normal(0.0, system_y_sigma)
        y_star = rng.normal(0.0, half_dy_sigma)
        y1, y2 = y_system + y_star, y_system - y_star
        n = isr_emissions(rng, hp, pt_hard, kicks)
        kx = ky = 0.0  # summed transverse momentum of the ISR gluons
        ep = 0.0  # E + pz and E - pz of the ISR gluons (massless)
        em = 0.0
        for i in range(n):
            kx += kicks[i, 0] * math.cos(kicks[i, 2])
            ky += kicks[i, 0] * math.sin(kicks[i, 2])
            ep += kicks[i, 0] * math.exp(kicks[i, 1])
            em += kicks[i, 0] * math.exp(-kicks[i, 1])
        p1x, p1y, p1z, e1 = from_pt_y_phi_m(pt_hard, y1, phi1, m1)
        p2x, p2y, p2z, e2 = from_pt_y_phi_m(pt_hard, y2, phi1 + math.pi, m2)
        q_t = math.hypot(kx, ky)
        e_sys = e1 + e2
        nx, ny = (-kx / q_t, -ky / q_t) if q_t > 0.0 else (1.0, 0.0)
        beta_gamma = q_t / e_sys
        gamma = math.sqrt(1.0 + beta_gamma * beta_gamma)
        pt1, y1, phi1 = _recoil(p1x, p1y, p1z, e1, nx, ny, beta_gamma, gamma)
        pt2, y2, phi2 = _recoil(p2x, p2y, p2z, e2, nx, ny, beta_gamma, gamma)
        e_new = gamma * e_sys  # the system's momentum along (nx, ny) was zero
        pz_sys = p1z + p2z
        x1 = (e_new + pz_sys + ep) / hp.sqrt_s_gev
        x2 = (e_new - pz_sys + em) / hp.sqrt_s_gev
        if x1 < 1.0 and x2 < 1.0:
            return pt1, y1, phi1, pt2, y2, phi2, n, pt_hard


@njit_no_refcount
def isr_seeds(rng, seeds, n_s, kicks, n_isr, shower_p):
    """Append the ISR gluons kicks[:n_isr] as shower seeds; returns the new seed count."""
    for i in range(n_isr):
        n_s = seed_parton(rng, seeds, n_s, kicks[i, 0], kicks[i, 1], kicks[i, 2], 21, shower_p)
    return n_s


@njit_no_refcount
def mpi_pt(rng, pt0, power, pt_min, pt_max):
    """pT of a secondary scattering from the regularized spectrum dsigma/dpT^2 ~ (pT^2 + pT0^2)^-power between
    pt_min and pt_max (inverse transform).

    power = 2 is the t-channel gluon exchange of the 2 -> 2 cross section, Pythia's multiparton-interaction form
    before the running of alpha_s and the fall of the parton luminosities with x = 2 pT / sqrt(s); those two steepen
    the spectrum, so the config's power and pT0 are the effective values that describe Pythia's own secondary
    scatterings (Info::pTMPI) above pt_min.
    """
    a = pt0 * pt0
    e = 1.0 - power
    lo = (a + pt_min * pt_min) ** e
    hi = (a + pt_max * pt_max) ** e
    return math.sqrt((lo - uniform(rng) * (lo - hi)) ** (1.0 / e) - a)


@njit_no_refcount
def mpi_flavour(rng, hp):
    """PDG id of the first parton of a secondary scattering's pair: b or c (g g -> Q Qbar and flavour excitation,
    with fractions from the config), else a gluon."""
    u = uniform(rng)
    if u < hp.mpi_fraction_b:
        return 5
    if u < hp.mpi_fraction_b + hp.mpi_fraction_c:
        return 4
    return 21


@njit_no_refcount
def mpi_rapidities(rng, pt, sqrt_s_gev):
    """Rapidities of the two partons of a secondary scattering of transverse momentum pt: Gaussian, redrawn until
    both incoming momentum fractions x = pt (e^{+-y1} + e^{+-y2}) / sqrt(s) stay below MPI_X_MAX, so that no
    secondary parton takes more energy than a proton gives it."""
    x_max = MPI_X_MAX * sqrt_s_gev / pt
    while True:
        y1 = rng.normal(0.0, ISR_RAPIDITY_SIGMA)
        y2 = rng.normal(0.0, ISR_RAPIDITY_SIGMA)
        if math.exp(y1) + math.exp(y2) < x_max and math.exp(-y1) + math.exp(-y2) < x_max:
            return y1, y2


@njit_hot
def mpi_seeds(rng, hp, shower_p, seeds, n_s, pt_hard):
    """Append the partons of secondary semi-hard scatterings (the perturbative part of the underlying event) as shower
    seeds: a Poisson number of 2 -> 2 scatterings, each a pair balanced in pT with independent rapidities, g g or a
    heavy-quark pair Q Qbar. Their showers spread jet activity and low-pT heavy flavour over the whole event, as
    multiparton interactions do in Pythia 8. Returns the new seed count."""
    n = min(rng.poisson(hp.mpi_mean_scatterings), MAX_MPI_SCATTERINGS)
    # below MPI_X_MAX * sqrt(s) / 4 a pair at central rapidities takes at most half its x bound, so
    # `mpi_rapidities` always finds rapidities (above sqrt(s) MPI_X_MAX / 2 it could never stop)
    pt_max = min(max(MPI_PT_MAX_FRACTION * pt_hard, 2.0 * hp.mpi_pt_min_gev), 0.25 * MPI_X_MAX * hp.sqrt_s_gev)
    for _ in range(n):
        pt = mpi_pt(rng, hp.mpi_pt0_gev, hp.mpi_spectrum_power, hp.mpi_pt_min_gev, pt_max)
        phi = 2.0 * math.pi * uniform(rng) - math.pi
        pdg = mpi_flavour(rng, hp)
        partner = 21 if pdg == 21 else -pdg
        y1, y2 = mpi_rapidities(rng, pt, hp.sqrt_s_gev)
        n_s = seed_parton(rng, seeds, n_s, pt, y1, phi, pdg, shower_p)
        phi2 = phi + math.pi if phi < 0.0 else phi - math.pi
        n_s = seed_parton(rng, seeds, n_s, pt, y2, phi2, partner, shower_p)
    return n_s


@njit_hot
def higgs_event(rng, hp, shower_p, singlet_shower_p, seeds, truth, kicks, decay_in_rest_frame):
    """g b -> H b, H -> b bbar (isotropic), plus ISR gluons: returns (n_seeds, n_truth).

    The H -> b bbar pair takes its first branchings with `singlet_shower_p`, everything else with `shower_p`.

    With `decay_in_rest_frame` the two b seeds (seeds[0:2]) are left in the Higgs rest frame, where the colour
    singlet showers with the whole angle between its back-to-back b's open to it, as a dipole shower radiates from
    a b bbar pair; the caller boosts what they make by the Higgs velocity (truth row 0). Otherwise they are in the
    lab frame, each showering inside the lab angle between the b's (angular ordering). The truth b's are always in
    the lab frame.
    """
    m_h = hp.higgs_mass_gev
    b_sign = 1 if uniform(rng) < 0.5 else -1
    pt1, y1, phi1, pt2, y2, phi2, n_isr, pt_hard = hard_kinematics(
        rng, hp, m_h, quark_mass(5), kicks, hp.hbb_system_y_sigma, hp.hbb_half_dy_sigma
    )
    hx, hy, hz, he = from_pt_y_phi_m(pt1, y1, phi1, m_h)
    n_t = add_truth(truth, 0, hx, hy, hz, he, 25, ROLE_HIGGS)
    cos_theta = 2.0 * uniform(rng) - 1.0
    phi = 2.0 * math.pi * uniform(rng)
    if decay_in_rest_frame:
        n_s, q = massive_decay_to_seeds(rng, seeds, 0, 0.0, 0.0, 0.0, m_h, m_h, 5, -5, cos_theta, phi, 0.0,
                                        singlet_shower_p)
        bx, by, bz = hx / he, hy / he, hz / he
        q1x, q1y, q1z, q1e = boost(q[0], q[1], q[2], q[3], bx, by, bz)
        q2x, q2y, q2z, q2e = boost(q[4], q[5], q[6], q[7], bx, by, bz)
    else:
        n_s, q = massive_decay_to_seeds(rng, seeds, 0, hx, hy, hz, he, m_h, 5, -5, cos_theta, phi, 0.0,
                                        singlet_shower_p)
        q1x, q1y, q1z, q1e = q[0], q[1], q[2], q[3]
        q2x, q2y, q2z, q2e = q[4], q[5], q[6], q[7]
    n_t = add_truth(truth, n_t, q1x, q1y, q1z, q1e, 5, ROLE_HIGGS_B)
    n_t = add_truth(truth, n_t, q2x, q2y, q2z, q2e, -5, ROLE_HIGGS_B)
    n_s = seed_parton(rng, seeds, n_s, pt2, y2, phi2, 5 * b_sign, shower_p)
    s = seeds[n_s - 1]
    n_t = add_truth(truth, n_t, s[0], s[1], s[2], s[3], 5 * b_sign, ROLE_HARD)
    n_s = isr_seeds(rng, seeds, n_s, kicks, n_isr, shower_p)
    return mpi_seeds(rng, hp, shower_p, seeds, n_s, pt_hard), n_t


@njit_no_refcount
def qcd_flavour(rng, hp):
    """PDG id of a QCD hard parton: gluon, light quark, or (flavour excitation) c / b quark."""
    if uniform(rng) < hp.qcd_gluon_fraction:
        return 21
    sign = 1 if uniform(rng) < 0.5 else -1
    u = uniform(rng)
    if u < hp.excitation_b:
        return 5 * sign
    if u < hp.excitation_b + hp.excitation_c:
        return 4 * sign
    return sign * (1 + int(3.0 * uniform(rng)))


@njit_hot
def qcd_event(rng, hp, shower_p, seeds, truth, kicks):
    """QCD 2 -> 2 plus ISR gluons; heavy flavour comes from flavour excitation and the shower's g -> Q Qbar (in the
    hard partons and in the ISR gluons)."""
    pt1, y1, phi1, pt2, y2, phi2, n_isr, pt_hard = hard_kinematics(
        rng, hp, 0.0, 0.0, kicks, hp.qcd_system_y_sigma, hp.qcd_half_dy_sigma
    )
    n_s = 0
    n_t = 0
    for k in range(2):
        pt, y, phi = (pt1, y1, phi1) if k == 0 else (pt2, y2, phi2)
        pdg = qcd_flavour(rng, hp)
        n_s = seed_parton(rng, seeds, n_s, pt, y, phi, pdg, shower_p)
        s = seeds[n_s - 1]
        n_t = add_truth(truth, n_t, s[0], s[1], s[2], s[3], pdg, ROLE_HARD)
    n_s = isr_seeds(rng, seeds, n_s, kicks, n_isr, shower_p)
    return mpi_seeds(rng, hp, shower_p, seeds, n_s, pt_hard), n_t


__all__ = [
    "MAX_ISR_EMISSIONS",
    "MAX_MPI_SCATTERINGS",
    "MAX_SEEDS",
    "MPI_X_MAX",
    "N_COLS",
    "N_TRUTH_COLS",
    "HardParams",
    "hard_params",
    "higgs_event",
    "isr_emissions",
    "mpi_flavour",
    "mpi_pt",
    "mpi_rapidities",
    "mpi_seeds",
    "qcd_event",
]
