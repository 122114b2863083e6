"""Four-vector helpers: coordinate conversions (vectorized) and exact two-body / N-body decays (numba).

Four-vectors are (px, py, pz, E) in GeV. The numba kernels work on scalars and small arrays so that the shower,
hadronization and decay loops can call them without allocating.
"""

from __future__ import annotations

import math

import numpy as np

from autopruner.fast_random import uniform
from autopruner.jit import njit_hot, njit_no_refcount


def pt_eta_phi(px: np.ndarray, py: np.ndarray, pz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Transverse momentum, pseudorapidity and azimuth of 3-momenta (vectorized; eta finite for pt=0)."""
    px, py, pz = (np.ascontiguousarray(a, dtype=np.float64) for a in (px, py, pz))
    return _pt_eta_phi_kernel(px, py, pz)


@njit_hot(inline="always")
def eta_phi_scalar(px, py, pz, pt):
    """Pseudorapidity and azimuth of one 3-momentum of transverse momentum pt (from `math.hypot(px, py)`)."""
    return math.asinh(pz / max(pt, 1e-12)), math.atan2(py, px)


@njit_hot(inline="always")
def pt_eta_phi_scalar(px, py, pz):
    """Transverse momentum, pseudorapidity and azimuth of one 3-momentum, as `pt_eta_phi` computes them; the
    detector's particle kernel takes it for every direction it keeps, so the two give bit-identical values."""
    pt = math.hypot(px, py)
    eta, phi = eta_phi_scalar(px, py, pz, pt)
    return pt, eta, phi


@njit_hot
def _pt_eta_phi_kernel(px, py, pz):
    """One pass over the arrays (numpy would make several temporaries on millions of particles)."""
    n = px.shape[0]
    pt = np.empty(n)
    eta = np.empty(n)
    phi = np.empty(n)
    for i in range(n):
        pt[i], eta[i], phi[i] = pt_eta_phi_scalar(px[i], py[i], pz[i])
    return pt, eta, phi


def invariant_mass(px: np.ndarray, py: np.ndarray, pz: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Invariant mass, with m^2 < 0 from rounding clipped to 0."""
    m2 = e * e - px * px - py * py - pz * pz
    return np.sqrt(np.maximum(m2, 0.0))


def from_pt_eta_phi_m(pt, eta, phi, m):
    """(px, py, pz, E) from (pt, eta, phi, m) (vectorized)."""
    px = pt * np.cos(phi)
    py = pt * np.sin(phi)
    pz = pt * np.sinh(eta)
    return px, py, pz, np.sqrt(px * px + py * py + pz * pz + m * m)


def delta_r(eta1, phi1, eta2, phi2):
    """Distance in (eta, phi) with the azimuth wrapped into [-pi, pi]."""
    dphi = np.mod(phi1 - phi2 + np.pi, 2.0 * np.pi) - np.pi
    return np.hypot(eta1 - eta2, dphi)


@njit_hot(inline="always")
def from_pt_y_phi_m(pt, y, phi, m):
    """(px, py, pz, E) of a particle given its rapidity y (not pseudorapidity)."""
    mt = math.sqrt(pt * pt + m * m)
    return pt * math.cos(phi), pt * math.sin(phi), mt * math.sinh(y), mt * math.cosh(y)


@njit_hot
def orthonormal_basis(nx, ny, nz):
    """Two unit vectors perpendicular to the unit vector n (right-handed with n)."""
    if abs(nz) < 0.9:
        ax, ay, az = 0.0, 0.0, 1.0
    else:
        ax, ay, az = 1.0, 0.0, 0.0
    # e1 = a x n normalised, e2 = n x e1
    e1x = ay * nz - az * ny
    e1y = az * nx - ax * nz
    e1z = ax * ny - ay * nx
    norm = math.sqrt(e1x * e1x + e1y * e1y + e1z * e1z)
    e1x /= norm
    e1y /= norm
    e1z /= norm
    e2x = ny * e1z - nz * e1y
    e2y = nz * e1x - nx * e1z
    e2z = nx * e1y - ny * e1x
    return e1x, e1y, e1z, e2x, e2y, e2z


@njit_hot
def boost(px, py, pz, e, bx, by, bz):
    """Lorentz-boost (px, py, pz, E) by velocity (bx, by, bz) (from the rest frame of a system moving with b)."""
    b2 = bx * bx + by * by + bz * bz
    if b2 <= 0.0:
        return px, py, pz, e
    gamma = 1.0 / math.sqrt(1.0 - b2)
    bp = bx * px + by * py + bz * pz
    g2 = (gamma - 1.0) / b2
    f = g2 * bp + gamma * e
    return px + f * bx, py + f * by, pz + f * bz, gamma * (e + bp)


@njit_hot
def kallen_momentum(m, m1, m2):
    """Daughter momentum in the rest frame of a two-body decay m -> m1 m2 (0 if closed)."""
    s = m * m
    lam = (s - (m1 + m2) ** 2) * (s - (m1 - m2) ** 2)
    if lam <= 0.0:
        return 0.0
    return math.sqrt(lam) / (2.0 * m)


@njit_hot
def two_body(px, py, pz, e, m, m1, m2, cos_theta, phi):
    """Exact decay of (px, py, pz, E; mass m) into masses m1, m2; returns daughter 1 and daughter 2 four-vectors.

    ``cos_theta``, ``phi`` give daughter 1's direction in the parent rest frame relative to the parent's flight
    direction (helicity frame). Daughter 2 = parent - daughter 1, so 4-momentum is conserved to rounding.
    """
    pstar = kallen_momentum(m, m1, m2)
    e1star = (m * m + m1 * m1 - m2 * m2) / (2.0 * m)
    sin_theta = math.sqrt(max(0.0, 1.0 - cos_theta * cos_theta))
    p_long = pstar * cos_theta
    p_t1 = pstar * sin_theta * math.cos(phi)
    p_t2 = pstar * sin_theta * math.sin(phi)
    p = math.sqrt(px * px + py * py + pz * pz)
    if p > 0.0:
        nx, ny, nz = px / p, py / p, pz / p
    else:
        nx, ny, nz = 0.0, 0.0, 1.0
    gamma = e / m
    beta_gamma = p / m
    # boost along n
    p_long_lab = gamma * p_long + beta_gamma * e1star
    e1 = gamma * e1star + beta_gamma * p_long
    e1x, e1y, e1z, e2x, e2y, e2z = orthonormal_basis(nx, ny, nz)
    q1x = p_long_lab * nx + p_t1 * e1x + p_t2 * e2x
    q1y = p_long_lab * ny + p_t1 * e1y + p_t2 * e2y
    q1z = p_long_lab * nz + p_t1 * e1z + p_t2 * e2z
    return q1x, q1y, q1z, e1, px - q1x, py - q1y, pz - q1z, e - e1


@njit_hot
def cos_theta_for_energy_fraction(e, p, m, m1, m2, z):
    """Rest-frame helicity angle that gives daughter 1 the lab energy z*E (clipped to the physical range)."""
    pstar = kallen_momentum(m, m1, m2)
    e1star = (m * m + m1 * m1 - m2 * m2) / (2.0 * m)
    gamma = e / m
    beta_gamma = p / m
    if beta_gamma * pstar <= 0.0:
        return 0.0
    c = (z * e - gamma * e1star) / (beta_gamma * pstar)
    return min(1.0, max(-1.0, c))


@njit_no_refcount
def nbody(rng, px, py, pz, e, masses, out):
    """Decay (px, py, pz, E) into len(masses) particles, filling out[i] = (px, py, pz, E); exact conservation.

    Toy phase space: isotropic rest-frame momenta with exponential magnitudes, shifted to zero total momentum and scaled
    so the energies add up to the parent mass (Newton iteration), then boosted to the lab. Requires sum(masses) < parent
    mass.
    """
    n = masses.shape[0]
    m = math.sqrt(max(e * e - px * px - py * py - pz * pz, 0.0))
    sx = 0.0
    sy = 0.0
    sz = 0.0
    for i in range(n):
        c = 2.0 * uniform(rng) - 1.0
        s = math.sqrt(1.0 - c * c)
        ph = 2.0 * math.pi * uniform(rng)
        q = rng.standard_exponential()
        out[i, 0] = q * s * math.cos(ph)
        out[i, 1] = q * s * math.sin(ph)
        out[i, 2] = q * c
        sx += out[i, 0]
        sy += out[i, 1]
        sz += out[i, 2]
    for i in range(n):
        out[i, 0] -= sx / n
        out[i, 1] -= sy / n
        out[i, 2] -= sz / n
    # solve sum sqrt(m_i^2 + a^2 q_i^2) = m for the scale a
    q2max = 0.0
    for i in range(n):
        q2 = out[i, 0] ** 2 + out[i, 1] ** 2 + out[i, 2] ** 2
        q2max = max(q2max, q2)
    a = m / math.sqrt(q2max) if q2max > 0.0 else 0.0
    for _ in range(60):
        f = -m
        df = 0.0
        for i in range(n):
            q2 = out[i, 0] ** 2 + out[i, 1] ** 2 + out[i, 2] ** 2
            ei = math.sqrt(masses[i] ** 2 + a * a * q2)
            f += ei
            df += a * q2 / ei
        if abs(f) < 1e-13 * m or df <= 0.0:
            break
        a -= f / df
        if a < 0.0:
            a = 0.0
    bx, by, bz = px / e, py / e, pz / e
    # the last daughter takes parent - sum(others) so that conservation is exact to rounding
    tx, ty, tz, te = 0.0, 0.0, 0.0, 0.0
    for i in range(n - 1):
        qx, qy, qz = a * out[i, 0], a * out[i, 1], a * out[i, 2]
        ei = math.sqrt(masses[i] ** 2 + qx * qx + qy * qy + qz * qz)
        lx, ly, lz, le = boost(qx, qy, qz, ei, bx, by, bz)
        out[i, 0], out[i, 1], out[i, 2], out[i, 3] = lx, ly, lz, le
        tx += lx
        ty += ly
        tz += lz
        te += le
    out[n - 1, 0], out[n - 1, 1], out[n - 1, 2], out[n - 1, 3] = px - tx, py - ty, pz - tz, e - te
