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
from typing import NamedTuple

import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from autopruner.arrays import grown_capacity
from autopruner.jit import njit_hot, njit_no_refcount
from autopruner.kinematics import pt_eta_phi_scalar
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
    """Tracking efficiency of charged particles (Delphes ATLAS card form: two pT bins x two |eta| bins).

    The detector applies it through `found_tracks`, which compares each candidate's deviate with the same value in
    one compiled pass.
    """
    central = abs_eta <= eff_cfg["abs_eta_split"]
    high_pt = pt_gev > eff_cfg["pt_split_gev"]
    c_lo, c_hi = eff_cfg["central"]
    f_lo, f_hi = eff_cfg["forward"]
    return np.where(central, np.where(high_pt, c_hi, c_lo), np.where(high_pt, f_hi, f_lo))


@njit_hot
def _found_kernel(u, pt_gev, eta, abs_eta_split, pt_split_gev, central, forward):
    """Whether the tracker finds each candidate: its uniform deviate u below `track_efficiency` of its pT and |eta|.

    One pass instead of numpy's nested ``where`` over the candidates (two masks and three temporaries of their
    length); the efficiency of each candidate is the same config value, so the flags are the same.
    """
    found = np.empty(u.shape[0], dtype=np.bool_)
    for j in range(u.shape[0]):
        eff_bins = central if abs(eta[j]) <= abs_eta_split else forward
        found[j] = u[j] < (eff_bins[1] if pt_gev[j] > pt_split_gev else eff_bins[0])
    return found


def found_tracks(u: np.ndarray, pt_gev: np.ndarray, eta: np.ndarray, eff_cfg: dict) -> np.ndarray:
    """``u < track_efficiency(pt_gev, |eta|)``: which candidates the tracker finds, given their uniform deviates."""
    return _found_kernel(
        u, pt_gev, eta, float(eff_cfg["abs_eta_split"]), float(eff_cfg["pt_split_gev"]),
        tuple(float(v) for v in eff_cfg["central"]), tuple(float(v) for v in eff_cfg["forward"]),
    )


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
    of IP taggers. The reported ``d0_err``/``z0_err`` stay the core resolution. The detector computes the same
    factors in place from the same deviates (`_tail_factor`).
    """
    return np.where(rng.random(n_tracks) < tail_cfg["fraction"], tail_cfg["scale"], 1.0)


@njit_hot
def _tail_factor(u, fraction, scale):
    """`ip_tail_factor` from its uniform deviates u, in place: ``scale`` where u < ``fraction``, else 1."""
    for j in range(u.shape[0]):
        u[j] = scale if u[j] < fraction else 1.0
    return u


@njit_hot
def _buffer(n):
    """An uninitialised float64 array of n elements from numba's allocator, for numpy to fill (``out=``).

    numpy advises transparent huge pages for the arrays of 4 MB and more that it allocates itself; the kernel may
    compact memory to fault those in, which cost the detector 0.1-0.2 s per default shard on a busy machine, more
    than the same memory in 4 KiB pages (the track draws and cosh are several such arrays).
    """
    return np.empty(n)


def ip_resolution(pt_gev: np.ndarray, res_cfg: dict) -> np.ndarray:
    """Impact-parameter resolution [mm]: constant (+) over_pt / pT."""
    return np.hypot(res_cfg["constant_mm"], res_cfg["over_pt_mm_gev"] / pt_gev)


@njit_hot(inline="always")
def _helix_ip(x_mm, y_mm, z_mm, px, py, pz, h, b_field_t):
    """(d0, z of the point of closest approach) [mm] of one helix of charge sign h; see `helix_impact_parameters`.

    Written operation for operation as the numpy expressions it replaced, so the values are bit-identical.
    """
    return _helix_ip_pt(x_mm, y_mm, z_mm, px, py, pz, math.hypot(px, py), h, b_field_t)


@njit_hot(inline="always")
def _helix_ip_pt(x_mm, y_mm, z_mm, px, py, pz, pt, h, b_field_t):
    """`_helix_ip` given pt = math.hypot(px, py), for callers that have it already."""
    sin_phi, cos_phi = py / pt, px / pt
    radius_mm = 1000.0 * pt / (C_GEV_PER_T_M * b_field_t)
    cx = x_mm + h * radius_mm * sin_phi
    cy = y_mm - h * radius_mm * cos_phi
    d0 = (2.0 * radius_mm * (y_mm * cos_phi - x_mm * sin_phi) - h * (x_mm * x_mm + y_mm * y_mm)) / (
        radius_mm + math.hypot(cx, cy)
    )
    s_xy = -(x_mm * cos_phi + y_mm * sin_phi)
    return d0, z_mm + s_xy * pz / pt


@njit_hot(inline="always")
def _charge_sign(charge):
    """np.sign of a charge, as a float."""
    return 1.0 if charge > 0 else (-1.0 if charge < 0 else 0.0)


@njit_hot
def _helix_kernel(x_mm, y_mm, z_mm, px, py, pz, charge, b_field_t):
    """`_helix_ip` of every element."""
    n = x_mm.shape[0]
    d0 = np.empty(n)
    z_pca = np.empty(n)
    for i in range(n):
        d0[i], z_pca[i] = _helix_ip(x_mm[i], y_mm[i], z_mm[i], px[i], py[i], pz[i], _charge_sign(charge[i]), b_field_t)
    return d0, z_pca


def helix_impact_parameters(x_mm, y_mm, z_mm, px, py, pz, charge, b_field_t):
    """Transverse (ATLAS sign convention) and longitudinal impact parameters [mm] of helices w.r.t. the z axis.

    d0 = h (R - |c|) with c the helix centre, h the charge sign and R the radius, written in a cancellation-free form;
    d0 -> -x sin(phi) + y cos(phi) for straight tracks. z0 is the z of the point of closest approach (straight-line
    extrapolation, exact to O(L^2 / R)).
    """
    arrays = np.broadcast_arrays(x_mm, y_mm, z_mm, px, py, pz, charge)
    flat = [np.ascontiguousarray(a, dtype=np.float64).ravel() for a in arrays]
    d0, z_pca = _helix_kernel(*flat, float(b_field_t))
    return d0.reshape(arrays[0].shape), z_pca.reshape(arrays[0].shape)


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


@njit_no_refcount
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


@njit_no_refcount
def lognormal_smear(rng, e, sigma):
    """Log-normal value with mean e and standard deviation sigma (positive, as in Delphes).

    Written as exp(log e - s2/2 + s z), the form every stored shard and every result quoted in the README was made
    with. The cheaper e * exp(s z - s2/2) is the same number mathematically but not in its last bits: it moved one
    stored float32 tower energy by an ulp in about one event in 50 000, and that was enough to retrain the toy's
    taggers differently. tests/detector/test_detector.py holds this formula bit for bit.
    """
    if e <= 0.0:
        return 0.0
    s2 = math.log(1.0 + (sigma / e) ** 2)
    return math.exp(math.log(e) - 0.5 * s2 + math.sqrt(s2) * rng.standard_normal())


@njit_no_refcount
def em_sigma(e, stochastic, constant):
    """EM calorimeter resolution [GeV]."""
    return math.sqrt(e * e * constant * constant + e * stochastic * stochastic)


@njit_no_refcount
def had_sigma(e, stochastic, constant, noise):
    """Hadronic calorimeter resolution [GeV]."""
    return math.sqrt(e * e * constant * constant + e * stochastic * stochastic + noise * noise)


@njit_hot
def _cells(eta, phi, grid):
    """Cell index of every deposit."""
    out = np.empty(eta.shape[0], dtype=np.int64)
    for i in range(eta.shape[0]):
        out[i] = cell_index(eta[i], phi[i], grid)
    return out


#: odd polynomial for atan(u) on |u| <= tan(pi/8) (least squares on Chebyshev nodes, degree 9): its error stays
#: below 4e-9 rad (tests/detector: `test_fast_direction_stays_within_its_margins`)
_ATAN_COEFFICIENTS = (
    0.9999999221268933, -0.3333230655637256, 0.19963857298246246, -0.13768326117012192, 0.07767524006913924,
)
_TAN_PI_8 = math.tan(math.pi / 8.0)
#: how far `fast_eta` and `fast_atan2` may lie from `pt_eta_phi_scalar`'s direction, with a wide safety factor:
#: a direction whose cell is the same at both corners of this box is in that cell; the cells are 0.1 wide, so about
#: 2 directions in a million fall back on the exact one
FAST_PHI_MARGIN_RAD = 1e-7
FAST_ETA_MARGIN = 1e-9
#: `cell_from_fast_direction`'s answer for a direction too close to a boundary (`cell_index` gives -1 or a cell)
CELL_UNDECIDED = -2


@njit_hot(inline="always")
def fast_atan2(y, x):
    """atan2(y, x) to within 4e-9 rad: an octant reduction and a degree-9 polynomial, ~5 times cheaper than the C
    library's correctly rounded atan2. Only for binning: `cell_from_fast_direction` checks its margin."""
    ax = abs(x)
    ay = abs(y)
    big = max(ax, ay)
    if big == 0.0:
        return math.atan2(y, x)  # the signed zeros decide: 0 or +-pi
    t = min(ax, ay) / big
    offset = 0.0
    if t > _TAN_PI_8:
        t = (t - 1.0) / (t + 1.0)
        offset = 0.25 * math.pi
    t2 = t * t
    c0, c1, c2, c3, c4 = _ATAN_COEFFICIENTS
    a = offset + t * (c0 + t2 * (c1 + t2 * (c2 + t2 * (c3 + t2 * c4))))
    if ay > ax:
        a = 0.5 * math.pi - a
    if x < 0.0:
        a = math.pi - a
    return -a if y < 0.0 else a


@njit_hot(inline="always")
def fast_eta(pz, pt):
    """Pseudorapidity asinh(pz / pt) as log(|x| + sqrt(1 + x^2)), within a few 1e-16 of `math.asinh` (which costs
    2.5 times as much) for the same pt; only for binning."""
    x = pz / max(pt, 1e-12)
    eta = math.log(abs(x) + math.sqrt(1.0 + x * x))
    return -eta if x < 0.0 else eta


@njit_hot(inline="always")
def cell_from_fast_direction(eta, phi, grid):
    """The cell of a direction known to within (`FAST_ETA_MARGIN`, `FAST_PHI_MARGIN_RAD`), or `CELL_UNDECIDED` if
    the box of that size around it touches a cell boundary (then the exact direction must decide).

    `cell_index` is monotonic in eta and in phi within a region and its indices are distinct across regions, so
    equal cells at the box's lower and upper corners mean the whole box lies in one cell (or outside); at the
    azimuthal wrap-around the corners differ.
    """
    lo = cell_index(eta - FAST_ETA_MARGIN, phi - FAST_PHI_MARGIN_RAD, grid)
    hi = cell_index(eta + FAST_ETA_MARGIN, phi + FAST_PHI_MARGIN_RAD, grid)
    return lo if lo == hi else CELL_UNDECIDED


def production_radius_mm(particles: ParticleTable) -> np.ndarray:
    """Transverse distance [mm] of each particle's production vertex from the nominal beamline (x = y = 0)."""
    return np.hypot(particles.vx, particles.vy)


class ParticlePass(NamedTuple):
    """What the detector needs from one pass over all particles (`particle_pass`).

    ``track_index`` lists the track candidates (charged, inside the tracker's |eta| and above its pT threshold) in
    particle order, with their true ``track_pt_gev``, ``track_eta``, ``track_phi``. ``cell`` is every particle's
    calorimeter cell (-1: outside, or no deposit) and ``deposit`` its `DEPOSIT_*` kind.
    """

    track_index: np.ndarray
    track_pt_gev: np.ndarray
    track_eta: np.ndarray
    track_phi: np.ndarray
    cell: np.ndarray
    deposit: np.ndarray


# what a particle leaves in the calorimeter: nothing (neutrinos, charged particles that curl up before it), its
# energy in the EM part (electrons, photons), a MIP in the hadronic part (muons), its energy in the hadronic part
DEPOSIT_NONE, DEPOSIT_EM, DEPOSIT_HAD, DEPOSIT_MUON = 0, 1, 2, 3


@njit_hot(inline="always")
def _deposit_kind(abs_pdgid, reaches):
    """The `DEPOSIT_*` kind of a particle of |PDG id| `abs_pdgid` that does or does not reach the calorimeter."""
    if not reaches:
        return DEPOSIT_NONE
    for nu in NEUTRINO_PDGIDS:
        if abs_pdgid == nu:
            return DEPOSIT_NONE
    if abs_pdgid == 11 or abs_pdgid == 22:
        return DEPOSIT_EM
    if abs_pdgid == 13:
        return DEPOSIT_MUON
    return DEPOSIT_HAD


#: relative margin of the x^2 + y^2 comparisons that spare a hypot: far above their rounding (a few ulp) and that of
#: math.hypot (below 1 ulp), so they decide only where math.hypot would decide the same
SQUARED_MARGIN = 1e-12


@njit_hot(inline="always")
def _surely_below(x, y, threshold):
    """Whether math.hypot(x, y) < threshold is certain from x^2 + y^2 alone (False: undecided, or not below)."""
    return x * x + y * y < threshold * threshold * (1.0 - SQUARED_MARGIN)


@njit_hot(inline="always")
def _hypot_sign(x, y, threshold):
    """The sign (-1, 0, 1) of math.hypot(x, y) - threshold, decided from x^2 + y^2 where that lies clearly on one
    side of threshold^2 (the hypot costs as much as the rest of a track), by math.hypot itself in the narrow band
    between (and for NaN, which gives 0: neither below nor above)."""
    if _surely_below(x, y, threshold):
        return -1
    if x * x + y * y > threshold * threshold * (1.0 + SQUARED_MARGIN):
        return 1
    r = math.hypot(x, y)
    return -1 if r < threshold else (1 if r > threshold else 0)


@njit_hot(inline="always")
def _inside_radius(x, y, radius):
    """``math.hypot(x, y) < radius`` (`_hypot_sign`)."""
    return _hypot_sign(x, y, radius) < 0


@njit_hot(inline="always")
def _hypot_above(x, y, threshold):
    """``math.hypot(x, y) > threshold`` (`_hypot_sign`)."""
    return _hypot_sign(x, y, threshold) > 0


@njit_hot(inline="always")
def _calo_phi(phi, charge, pt, pt_curl_gev):
    """Azimuth at the calorimeter of a particle of azimuth phi: a charged one is bent by the field, by
    asin(pt_curl / pt) against the sign of its charge."""
    if charge == 0:
        return phi
    bend = math.asin(pt_curl_gev / max(pt, pt_curl_gev))
    return phi - bend if charge > 0 else phi + bend


@njit_hot(inline="always")
def _visit_particle(x, y, z, abs_pdgid, q, trk_abs_eta_max, trk_pt_min_gev, pt_curl_gev, grid):
    """What the detector needs of one particle of momentum (x, y, z) [GeV], |PDG id| and charge q: its `DEPOSIT_*`
    kind, its calorimeter cell (-1: outside, or no deposit), whether it is a track candidate, and then its true pt,
    eta, phi (else 0).

    The direction, most of the detector's cost, is computed only for particles that need it, and exactly only where
    it is kept: a track candidate's pt, eta and phi come from `pt_eta_phi_scalar`, bit for bit as `pt_eta_phi`
    gives them. A particle that only deposits energy needs no more than its cell: that comes from the
    cheap `fast_eta` and `fast_atan2` (and a square root for pt), unless the direction lies within their error margin
    of a cell boundary (a few particles in a million), where the exact direction decides. The cells are those of
    the exact directions: the tests compare them with the numpy detector's. (The bend of a charged particle is
    `math.asin`, where the numpy detector took numpy's SIMD arcsine, which may differ in the last bit: that moves a
    particle only within 1e-16 of a boundary.) Charged particles that curl up before the calorimeter and are too
    soft for a track are left out at once where x^2 + y^2 shows it (`_surely_below`).
    """
    charged = q != 0
    if charged and _surely_below(x, y, min(pt_curl_gev, trk_pt_min_gev)):
        return DEPOSIT_NONE, -1, False, 0.0, 0.0, 0.0  # curls up before the calorimeter and too soft for a track
    kind = _deposit_kind(abs_pdgid, not charged or _hypot_above(x, y, pt_curl_gev))
    maybe_track = charged and _hypot_above(x, y, trk_pt_min_gev)
    if kind == DEPOSIT_NONE and not maybe_track:
        return kind, -1, False, 0.0, 0.0, 0.0
    pt_fast = math.sqrt(x * x + y * y)  # within an ulp of math.hypot
    eta_fast = fast_eta(z, pt_fast)
    if maybe_track and abs(eta_fast) < trk_abs_eta_max + FAST_ETA_MARGIN:
        pt, eta, phi = pt_eta_phi_scalar(x, y, z)
        cell = cell_index(eta, _calo_phi(phi, q, pt, pt_curl_gev), grid) if kind != DEPOSIT_NONE else -1
        if abs(eta) < trk_abs_eta_max:
            return kind, cell, True, pt, eta, phi
        return kind, cell, False, 0.0, 0.0, 0.0
    if kind == DEPOSIT_NONE:
        return kind, -1, False, 0.0, 0.0, 0.0
    cell = cell_from_fast_direction(eta_fast, _calo_phi(fast_atan2(y, x), q, pt_fast, pt_curl_gev), grid)
    if cell == CELL_UNDECIDED:  # at a cell boundary: the exact direction decides
        pt, eta, phi = pt_eta_phi_scalar(x, y, z)
        cell = cell_index(eta, _calo_phi(phi, q, pt, pt_curl_gev), grid)
    return kind, cell, False, 0.0, 0.0, 0.0


@njit_hot
def _particle_kernel(px, py, pz, pdgid, charge, trk_abs_eta_max, trk_pt_min_gev, pt_curl_gev, grid):
    """`_visit_particle` of every particle: the track candidates' indices and (pt, eta, phi), every particle's cell
    and deposit kind."""
    n = px.shape[0]
    trk = np.empty(n, dtype=np.int64)
    trk_kin = np.empty((3, n))
    cell = np.empty(n, dtype=np.int32)
    deposit = np.empty(n, dtype=np.int8)
    n_trk = 0
    for i in range(n):
        kind, c, is_track, pt, eta, phi = _visit_particle(px[i], py[i], pz[i], abs(pdgid[i]), charge[i],
                                                          trk_abs_eta_max, trk_pt_min_gev, pt_curl_gev, grid)
        deposit[i] = kind
        cell[i] = c
        if is_track:
            trk[n_trk] = i
            trk_kin[0, n_trk], trk_kin[1, n_trk], trk_kin[2, n_trk] = pt, eta, phi
            n_trk += 1
    # slices, not copies: the unused tails of the buffers were never written, so they cost address space only
    return trk[:n_trk], trk_kin[:, :n_trk], cell, deposit


def tower_grid(det_cfg: dict) -> TowerGrid:
    """The calorimeter's eta-phi cells from the detector config."""
    return TowerGrid(det_cfg["tower_size_central"], det_cfg["tower_size_forward"], det_cfg["calo_abs_eta_max"])


def pt_curl_gev(det_cfg: dict) -> float:
    """The pT [GeV] below which a charged particle curls up before the calorimeter radius."""
    return float(0.5 * C_GEV_PER_T_M * det_cfg["magnetic_field_t"] * det_cfg["calo_radius_m"])


def particle_pass(particles: ParticleTable, det_cfg: dict) -> ParticlePass:
    """Track candidates and calorimeter cells of every particle (`_visit_particle`), as arrays over the table.

    The detector itself (`DetectorSimulation`) visits each particle in the same way but keeps only what it needs; this
    form is what the tests compare with the numpy detector.
    """
    p = particles
    trk, trk_kin, cell, deposit = _particle_kernel(
        *(np.ascontiguousarray(a, dtype=np.float64) for a in (p.px, p.py, p.pz)),
        np.ascontiguousarray(p.pdgid),
        np.ascontiguousarray(p.charge),
        float(det_cfg["tracker_abs_eta_max"]),
        float(det_cfg["track_pt_min_gev"]),
        pt_curl_gev(det_cfg),
        tower_grid(det_cfg).as_tuple(),
    )
    return ParticlePass(trk, trk_kin[0], trk_kin[1], trk_kin[2], cell, deposit)


#: the track arrays `_track_kernel` returns, in its order
TRACK_KERNEL_FIELDS = (
    "pt", "eta", "phi", "charge", "d0", "z0", "d0_err", "z0_err", "pdgid", "origin", "hadron_index", "e",
    "particle_index", "d0_true", "z0_true",
)


class TrackResolution(NamedTuple):
    """The tracker's resolution and acceptance settings as plain numbers and arrays, for `_track_kernel`."""

    pt_abs_eta_edges: np.ndarray
    pt_constant: np.ndarray
    pt_per_gev: np.ndarray
    d0_constant_mm: float
    d0_over_pt_mm_gev: float
    z0_constant_mm: float
    z0_over_pt_mm_gev: float
    beam_spot_xy_mm: float
    max_production_radius_mm: float
    magnetic_field_t: float


def track_resolution(det_cfg: dict) -> TrackResolution:
    """`TrackResolution` from the detector config."""
    res = det_cfg["track_pt_resolution"]
    return TrackResolution(
        np.asarray(res["abs_eta_edges"], dtype=np.float64),
        np.asarray(res["constant"], dtype=np.float64),
        np.asarray(res["per_gev"], dtype=np.float64),
        float(det_cfg["d0_resolution"]["constant_mm"]),
        float(det_cfg["d0_resolution"]["over_pt_mm_gev"]),
        float(det_cfg["z0_resolution"]["constant_mm"]),
        float(det_cfg["z0_resolution"]["over_pt_mm_gev"]),
        float(det_cfg["beam_spot_xy_mm"]),
        float(det_cfg["track_max_production_radius_mm"]),
        float(det_cfg["magnetic_field_t"]),
    )


@njit_hot(inline="always")
def _pt_resolution(pt_gev, abs_eta, edges, constant, per_gev):
    """`pt_resolution` of one track: np.searchsorted's bin (side left), capped at the last one."""
    ibin = 0
    while ibin < edges.shape[0] and edges[ibin] < abs_eta:
        ibin += 1
    ibin = min(ibin, constant.shape[0] - 1)
    return math.hypot(constant[ibin], per_gev[ibin] * pt_gev)




class TrackCandidates(NamedTuple):
    """Track candidates, one row each in particle order, with all that `_track_kernel` reads of their particles: the
    true ``pt_gev``, ``eta``, ``phi`` (`_visit_particle`), the particle's momentum, energy, production vertex, charge,
    pdgid, origin and heavy-hadron index, its ``event`` and its row in the flat particle table
    (``particle_index``), both counted from the shard's first. Keeping these, not the particle table, is what lets a
    shard's particles be simulated and dropped a chunk of events at a time (`DetectorSimulation`)."""

    pt_gev: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    e: np.ndarray
    vx: np.ndarray
    vy: np.ndarray
    vz: np.ndarray
    charge: np.ndarray
    pdgid: np.ndarray
    origin: np.ndarray
    hadron_index: np.ndarray
    event: np.ndarray
    particle_index: np.ndarray


@njit_hot
def _candidate_buffers(capacity):
    """Empty `TrackCandidates` with room for `capacity` rows (numba's allocator: no huge pages, `_buffer`)."""
    return TrackCandidates(
        np.empty(capacity), np.empty(capacity), np.empty(capacity), np.empty(capacity), np.empty(capacity),
        np.empty(capacity), np.empty(capacity), np.empty(capacity), np.empty(capacity), np.empty(capacity),
        np.empty(capacity, dtype=np.int8), np.empty(capacity, dtype=np.int32), np.empty(capacity, dtype=np.int8),
        np.empty(capacity, dtype=np.int32), np.empty(capacity, dtype=np.int64), np.empty(capacity, dtype=np.int64),
    )


class CellDeposits(NamedTuple):
    """The calorimeter cells that events touched, before smearing: event by event, in increasing cell order, each
    ``cell`` with the summed EM and hadronic energies ``e_em_gev``, ``e_had_gev`` of its particles (both 0 where
    only particles without a deposit of that kind pointed at it). Nothing random: `tower_kernel` smears them."""

    cell: np.ndarray
    e_em_gev: np.ndarray
    e_had_gev: np.ndarray


@njit_hot
def _deposit_buffers(capacity):
    """Empty `CellDeposits` with room for `capacity` cells."""
    return CellDeposits(np.empty(capacity, dtype=np.int32), np.empty(capacity), np.empty(capacity))


@njit_hot
def _reserve_candidates(c, n_used, need, events_done, events_expected):
    """`c`, or a copy of its first n_used rows with room for `need` (`grown_capacity`)."""
    capacity = c.pt_gev.shape[0]
    if need <= capacity:
        return c
    new = _candidate_buffers(grown_capacity(capacity, need, events_done, events_expected))
    new.pt_gev[:n_used] = c.pt_gev[:n_used]
    new.eta[:n_used] = c.eta[:n_used]
    new.phi[:n_used] = c.phi[:n_used]
    new.px[:n_used] = c.px[:n_used]
    new.py[:n_used] = c.py[:n_used]
    new.pz[:n_used] = c.pz[:n_used]
    new.e[:n_used] = c.e[:n_used]
    new.vx[:n_used] = c.vx[:n_used]
    new.vy[:n_used] = c.vy[:n_used]
    new.vz[:n_used] = c.vz[:n_used]
    new.charge[:n_used] = c.charge[:n_used]
    new.pdgid[:n_used] = c.pdgid[:n_used]
    new.origin[:n_used] = c.origin[:n_used]
    new.hadron_index[:n_used] = c.hadron_index[:n_used]
    new.event[:n_used] = c.event[:n_used]
    new.particle_index[:n_used] = c.particle_index[:n_used]
    return new


@njit_hot
def _reserve_deposits(d, n_used, need, events_done, events_expected):
    """`d`, or a copy of its first n_used rows with room for `need` (`grown_capacity`)."""
    capacity = d.cell.shape[0]
    if need <= capacity:
        return d
    new = _deposit_buffers(grown_capacity(capacity, need, events_done, events_expected))
    new.cell[:n_used] = d.cell[:n_used]
    new.e_em_gev[:n_used] = d.e_em_gev[:n_used]
    new.e_had_gev[:n_used] = d.e_had_gev[:n_used]
    return new


@njit_hot(inline="always")
def _accumulate(acc_em, acc_had, c, kind, e, muon_mip_gev):
    """Add one particle's deposit of energy `e` and `DEPOSIT_*` kind to cell c."""
    if kind == DEPOSIT_EM:
        acc_em[c] += e
    elif kind == DEPOSIT_MUON:
        acc_had[c] += min(e, muon_mip_gev)
    elif kind == DEPOSIT_HAD:
        acc_had[c] += e


@njit_no_refcount
def _event_cells(acc_em, acc_had, touched, dep, n_dep):
    """Append the cells an event touched (set in the bitset `touched`), in increasing cell order, with their sums
    to `dep` (`CellDeposits`) from n_dep on; returns the new n_dep and leaves the sums and the bitset cleared."""
    for w in range(touched.shape[0]):
        bits = touched[w]
        touched[w] = 0
        while bits != 0:
            c = 64 * w + int(trailing_zeros(bits))
            bits &= bits - np.uint64(1)
            dep.cell[n_dep] = c
            dep.e_em_gev[n_dep] = acc_em[c]
            dep.e_had_gev[n_dep] = acc_had[c]
            acc_em[c] = 0.0
            acc_had[c] = 0.0
            n_dep += 1
    return n_dep


@njit_hot
def _chunk_kernel(px, py, pz, e, vx, vy, vz, pdgid, charge, origin, hadron_index, counts, first_event,
                  first_particle, events_expected, trk_abs_eta_max, trk_pt_min_gev, pt_curl_gev, grid, n_cells,
                  muon_mip_gev, cand, n_cand, dep, n_dep):
    """The detector's random-free work on a chunk of events, in one pass over its particles (`_visit_particle`):
    each track candidate's `TrackCandidates` row is appended to `cand` from n_cand on, and each event's touched
    cells with their summed deposits to `dep` from n_dep on (`CellDeposits`: a particle in a cell deposits its
    energy in the EM or the hadronic part, or a muon's MIP, at most `muon_mip_gev`, in the hadronic part, as its
    kind says; each sum adds the event's particles in their order). The chunk's events and particles are numbered
    from `first_event` and `first_particle`. Returns the buffers (grown if they had to be), their new fill and the
    touched cells per event.
    """
    acc_em = np.zeros(n_cells)
    acc_had = np.zeros(n_cells)
    touched = np.zeros((n_cells + 63) // 64, dtype=np.uint64)
    dep_counts = np.zeros(counts.shape[0], dtype=np.int64)
    start = 0
    for ev in range(counts.shape[0]):
        stop = start + counts[ev]
        done = first_event + ev + 1
        cand = _reserve_candidates(cand, n_cand, n_cand + counts[ev], done, events_expected)
        dep = _reserve_deposits(dep, n_dep, n_dep + counts[ev], done, events_expected)
        for i in range(start, stop):
            kind, c, is_track, pt, eta, phi = _visit_particle(px[i], py[i], pz[i], abs(pdgid[i]), charge[i],
                                                              trk_abs_eta_max, trk_pt_min_gev, pt_curl_gev, grid)
            if is_track:
                cand.pt_gev[n_cand], cand.eta[n_cand], cand.phi[n_cand] = pt, eta, phi
                cand.px[n_cand], cand.py[n_cand], cand.pz[n_cand], cand.e[n_cand] = px[i], py[i], pz[i], e[i]
                cand.vx[n_cand], cand.vy[n_cand], cand.vz[n_cand] = vx[i], vy[i], vz[i]
                cand.charge[n_cand], cand.pdgid[n_cand] = charge[i], pdgid[i]
                cand.origin[n_cand], cand.hadron_index[n_cand] = origin[i], hadron_index[i]
                cand.event[n_cand] = first_event + ev
                cand.particle_index[n_cand] = first_particle + i
                n_cand += 1
            if c >= 0:
                touched[c >> 6] |= np.uint64(1) << np.uint64(c & 63)
                _accumulate(acc_em, acc_had, c, kind, e[i], muon_mip_gev)
        n_before = n_dep
        n_dep = _event_cells(acc_em, acc_had, touched, dep, n_dep)
        dep_counts[ev] = n_dep - n_before
        start = stop
    return cand, n_cand, dep, n_dep, dep_counts


@njit_hot
def _track_kernel(found, pt_gev, eta, phi, cosh_eta, gauss_pt, tail, gauss_d0, gauss_z0, px, py, pz, e, vx, vy, vz,
                  charge, pdgid, origin, hadron_index, event, particle_index, n_events, pv_z_mm, res):
    """Smeared tracks of the candidates (their true pt, eta, phi, numpy's cosh(eta), and their particles' columns,
    `TrackCandidates`) that the tracker `found`, from the normal deviates and IP tail factors drawn for them in order;
    only those produced inside the pixel volume are kept.

    Returns the `TRACK_KERNEL_FIELDS` arrays and the per-event track counts. Every value is computed operation for
    operation as the numpy detector computed it, so the tracks are bit-identical.
    """
    n = gauss_pt.shape[0]
    f4 = np.empty((8, n), dtype=np.float32)  # pt, eta, phi, d0, z0, d0_err, z0_err, e
    q_out = np.empty(n, dtype=np.int8)
    pdg_out = np.empty(n, dtype=np.int32)
    origin_out = np.empty(n, dtype=np.int8)
    hadron_out = np.empty(n, dtype=np.int32)
    index_out = np.empty(n, dtype=np.int64)
    true_out = np.empty((2, n))
    counts_out = np.zeros(n_events, dtype=np.int64)
    k = 0
    g = -1  # the found candidate's row in the drawn arrays
    for j in range(found.shape[0]):
        if not found[j]:
            continue
        g += 1
        if not _inside_radius(vx[j], vy[j], res.max_production_radius_mm):
            continue
        ev = event[j]
        pt_t = pt_gev[j]  # math.hypot(px, py), from the particle pass
        pt_res = _pt_resolution(pt_t, abs(eta[j]), res.pt_abs_eta_edges, res.pt_constant, res.pt_per_gev)
        pt_meas = abs(pt_t * (1.0 + pt_res * gauss_pt[g]))
        d0_true, z_pca = _helix_ip_pt(vx[j], vy[j], vz[j], px[j], py[j], pz[j], pt_t, _charge_sign(charge[j]),
                                      res.magnetic_field_t)
        z0_true = z_pca - pv_z_mm[ev]
        sig_d0 = math.hypot(res.d0_constant_mm, res.d0_over_pt_mm_gev / pt_meas)
        sig_z0 = math.hypot(res.z0_constant_mm, res.z0_over_pt_mm_gev / pt_meas)
        m2 = e[j] * e[j] - px[j] * px[j] - py[j] * py[j] - pz[j] * pz[j]
        mass = math.sqrt(max(m2, 0.0))
        p_meas = pt_meas * cosh_eta[j]
        f4[0, k] = pt_meas
        f4[1, k] = eta[j]
        f4[2, k] = phi[j]
        f4[3, k] = d0_true + tail[g] * sig_d0 * gauss_d0[g]
        f4[4, k] = z0_true + tail[g] * sig_z0 * gauss_z0[g]
        f4[5, k] = math.hypot(sig_d0, res.beam_spot_xy_mm)
        f4[6, k] = sig_z0
        f4[7, k] = math.sqrt(p_meas * p_meas + mass * mass)
        q_out[k] = charge[j]
        pdg_out[k] = pdgid[j]
        origin_out[k] = origin[j]
        hadron_out[k] = hadron_index[j]
        index_out[k] = particle_index[j]
        true_out[0, k] = d0_true
        true_out[1, k] = z0_true
        counts_out[ev] += 1
        k += 1
    return (  # slices of buffers sized for the found tracks, nearly all of which are kept: no copies
        f4[0, :k], f4[1, :k], f4[2, :k], q_out[:k], f4[3, :k], f4[4, :k], f4[5, :k], f4[6, :k], pdg_out[:k],
        origin_out[:k], hadron_out[:k], f4[7, :k], index_out[:k], true_out[0, :k], true_out[1, :k], counts_out,
    )


def draw_tracks(candidates: TrackCandidates, pv_z_mm: np.ndarray, det_cfg: dict, rng: np.random.Generator):
    """Tracks of the `candidates` of ``pv_z_mm.size`` events whose true primary-vertex z is ``pv_z_mm``.

    A particle produced at a transverse radius of ``track_max_production_radius_mm`` or more leaves no hit in the
    innermost pixel layer and gives no track. That cut is applied after every random draw, so for a given seed the
    remaining tracks (and the towers, which draw from the same stream afterwards) are exactly those the detector gives
    without it: the cut only removes tracks.

    The random numbers are drawn with numpy, in bulk and in a fixed order (efficiency, pT smearing, IP tail, d0, z0
    smearing), into `_buffer` arrays; one compiled pass then builds the tracks. Returns (dict of flat track arrays,
    per-event counts); `particle_index` points into the flat particle table.
    """
    c = candidates
    n_cand = c.pt_gev.size
    found = found_tracks(rng.random(out=_buffer(n_cand)), c.pt_gev, c.eta, det_cfg["track_efficiency"])
    n_found = int(np.count_nonzero(found))
    gauss_pt = rng.standard_normal(out=_buffer(n_found))
    tail = _tail_factor(rng.random(out=_buffer(n_found)), float(det_cfg["ip_tails"]["fraction"]),
                        float(det_cfg["ip_tails"]["scale"]))
    gauss_d0 = rng.standard_normal(out=_buffer(n_found))
    gauss_z0 = rng.standard_normal(out=_buffer(n_found))
    *arrays, counts = _track_kernel(
        found, c.pt_gev, c.eta, c.phi, np.cosh(c.eta, out=_buffer(n_cand)), gauss_pt, tail, gauss_d0, gauss_z0,
        *c[3:], int(pv_z_mm.shape[0]), np.ascontiguousarray(pv_z_mm, dtype=np.float64), track_resolution(det_cfg),
    )
    return dict(zip(TRACK_KERNEL_FIELDS, arrays, strict=True)), counts


class TowerOutput(NamedTuple):
    """Buffers the tower kernels fill: in the event files' float32, the tower's energy, pT, eta and phi (of the cell
    centre) and its EM and hadronic energies; and the cell index. The order is the event files' branch order."""

    e: np.ndarray
    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    e_em: np.ndarray
    e_had: np.ndarray
    cell: np.ndarray


@njit_hot
def _tower_output(capacity):
    """Empty `TowerOutput` with room for `capacity` towers."""
    return TowerOutput(
        np.empty(capacity, dtype=np.float32),
        np.empty(capacity, dtype=np.float32),
        np.empty(capacity, dtype=np.float32),
        np.empty(capacity, dtype=np.float32),
        np.empty(capacity, dtype=np.float32),
        np.empty(capacity, dtype=np.float32),
        np.empty(capacity, dtype=np.int64),
    )


@njit_no_refcount
def _event_towers(rng, dep, start, stop, em_res, had_res, threshold, centres, out, n_out):
    """The towers of the event whose touched cells are dep[start:stop] (`CellDeposits`), appended to `out`
    (`TowerOutput`) from n_out on; returns the new n_out.

    The per-cell work of `tower_kernel`, compiled without numba's reference counting (`njit_no_refcount`: it
    allocates nothing), which would otherwise count the random generator in and out around every cell's two
    smearings. `centres` holds, per cell, cosh(eta) and the float32 eta and phi of its centre.
    """
    cosh_eta, eta32, phi32 = centres
    for k in range(start, stop):
        c = dep.cell[k]
        e_em, e_had = dep.e_em_gev[k], dep.e_had_gev[k]
        em = lognormal_smear(rng, e_em, em_sigma(e_em, em_res[0], em_res[1]))
        had = lognormal_smear(rng, e_had, had_sigma(e_had, had_res[0], had_res[1], had_res[2]))
        e_tower = em + had
        if e_tower > 0.0 and e_tower >= threshold:
            out.cell[n_out] = c
            out.e[n_out] = np.float32(e_tower)
            out.pt[n_out] = np.float32(e_tower / cosh_eta[c])
            out.eta[n_out] = eta32[c]
            out.phi[n_out] = phi32[c]
            out.e_em[n_out] = np.float32(em)
            out.e_had[n_out] = np.float32(had)
            n_out += 1
    return n_out


@njit_hot
def tower_kernel(rng, dep, counts, em_res, had_res, threshold, centres):
    """Smear the EM and hadronic sums of each touched cell (`CellDeposits`, `counts` per event), event by event in
    increasing cell order as they are listed, and drop cells under threshold.

    Returns the kept towers (`TowerOutput`), ordered by event then cell, and per-event counts. Each float32 value is
    rounded from the same float64 as numpy's astype rounded it, when the towers were finished with numpy, so they
    are bit-identical.
    """
    out = _tower_output(dep.cell.shape[0] + 1)
    out_counts = np.zeros(counts.shape[0], dtype=np.int64)
    n_out = 0
    start = 0
    for ev in range(counts.shape[0]):
        n_before = n_out
        n_out = _event_towers(rng, dep, start, start + counts[ev], em_res, had_res, threshold, centres, out, n_out)
        out_counts[ev] = n_out - n_before
        start += counts[ev]
    # slices, not copies: the unwritten tails cost no memory
    return TowerOutput(out.e[:n_out], out.pt[:n_out], out.eta[:n_out], out.phi[:n_out], out.e_em[:n_out],
                       out.e_had[:n_out], out.cell[:n_out]), out_counts


def smear_towers(deposits: CellDeposits, counts: np.ndarray, det_cfg: dict, rng: np.random.Generator):
    """Calorimeter towers (e, pt, eta, phi at the cell centre, e_em, e_had, cell) of the touched cells, `counts` per
    event, and their per-event counts: each cell's EM and hadronic sums smeared log-normally (`lognormal_smear`),
    then the tower threshold."""
    grid = tower_grid(det_cfg)
    em_res = (det_cfg["em_resolution"]["stochastic"], det_cfg["em_resolution"]["constant"])
    hr = det_cfg["had_resolution"]
    had_res = (hr["stochastic"], hr["constant"], hr["noise_gev"])
    eta_c, phi_c = grid.centres()
    towers, tower_counts = tower_kernel(
        rng, deposits, np.asarray(counts, dtype=np.int64), em_res, had_res, float(det_cfg["tower_threshold_gev"]),
        (np.cosh(eta_c), eta_c.astype(np.float32), phi_c.astype(np.float32)),
    )
    return towers._asdict(), tower_counts


class DetectorSimulation:
    """The detector over a shard's events, taken a chunk at a time: `add` each chunk's particle table in event order,
    then draw from the shard's random stream: `draw_tracks` first, then `smear_towers` (or both: `finish`).

    `add` does all of the detector's work that draws no random number, in one compiled pass over the chunk's
    particles (`_chunk_kernel`): it keeps the track candidates with what they need of their particles
    (`TrackCandidates`) and the calorimeter cells' summed deposits (`CellDeposits`), a small part of the table. So a
    generator can hand its events over a chunk at a time and drop each chunk's particle table before it makes the
    next: the shard's particles never exist all at once, and each chunk reuses the memory of the one before, still
    mapped and in the cache. The draws then come as the detector has always made them, all of the shard's track
    deviates first and the towers' after them, so the response is the same, bit for bit, however the events were
    chunked (tested). ``events_expected`` (the shard's size, if known) sizes the buffers after the first event.
    """

    def __init__(self, det_cfg: dict, events_expected: int = 0) -> None:
        self.det_cfg = det_cfg
        self.events_expected = int(events_expected)
        self.grid = tower_grid(det_cfg)
        self._candidates = _candidate_buffers(0)
        self._deposits = _deposit_buffers(0)
        self.n_candidates = 0
        self.n_deposits = 0
        self.deposit_counts: list[np.ndarray] = []
        self.pv_z_mm: list[np.ndarray] = []
        self.n_events = 0
        self.n_particles = 0

    def add(self, particles: ParticleTable) -> None:
        """The random-free part of the detector's response to the next chunk of events."""
        p = particles
        cfg = self.det_cfg
        self._candidates, self.n_candidates, self._deposits, self.n_deposits, deposit_counts = _chunk_kernel(
            *(np.ascontiguousarray(a, dtype=np.float64) for a in (p.px, p.py, p.pz, p.e, p.vx, p.vy, p.vz)),
            *(np.ascontiguousarray(a) for a in (p.pdgid, p.charge, p.origin, p.hadron_index)),
            np.asarray(p.counts, dtype=np.int64), self.n_events, self.n_particles,
            max(self.events_expected, self.n_events + p.n_events), float(cfg["tracker_abs_eta_max"]),
            float(cfg["track_pt_min_gev"]), pt_curl_gev(cfg), self.grid.as_tuple(), self.grid.n_cells,
            float(cfg["muon_mip_gev"]), self._candidates, self.n_candidates, self._deposits, self.n_deposits,
        )
        self.deposit_counts.append(deposit_counts)
        self.pv_z_mm.append(np.array(np.asarray(p.pv)[:, 2], dtype=np.float64))
        self.n_events += p.n_events
        self.n_particles += int(np.sum(p.counts))

    @property
    def candidates(self) -> TrackCandidates:
        """The track candidates of every event added (`TrackCandidates`; views of the buffers)."""
        return TrackCandidates(*(column[: self.n_candidates] for column in self._candidates))

    @property
    def deposits(self) -> tuple[CellDeposits, np.ndarray]:
        """The touched cells of every event added (`CellDeposits`; views of the buffers) and their count per event."""
        counts = np.concatenate(self.deposit_counts) if self.deposit_counts else np.zeros(0, dtype=np.int64)
        return CellDeposits(*(column[: self.n_deposits] for column in self._deposits)), counts

    def draw_tracks(self, rng: np.random.Generator):
        """Tracks of every event added, drawn from `rng` (`draw_tracks`); (dict of flat arrays, per-event counts)."""
        pv_z_mm = np.concatenate(self.pv_z_mm) if self.pv_z_mm else np.zeros(0)
        return draw_tracks(self.candidates, pv_z_mm, self.det_cfg, rng)

    def smear_towers(self, rng: np.random.Generator):
        """Towers of every event added, drawn from `rng` (`smear_towers`); (dict of flat arrays, per-event counts)."""
        deposits, counts = self.deposits
        return smear_towers(deposits, counts, self.det_cfg, rng)

    def finish(self, rng: np.random.Generator) -> DetectorResponse:
        """Tracks and towers of every event added (tracks draw from `rng` first, then towers)."""
        tracks, track_counts = self.draw_tracks(rng)
        towers, tower_counts = self.smear_towers(rng)
        return DetectorResponse(tracks, track_counts, towers, tower_counts)


def reconstruct_tracks(particles: ParticleTable, det_cfg: dict, rng: np.random.Generator):
    """Tracks of the charged particles inside the tracker, with efficiency and smearing (`draw_tracks`): what
    `simulate_detector` gives, without the towers. Returns (dict of flat track arrays, per-event counts);
    `particle_index` points into the flat particle table."""
    simulation = DetectorSimulation(det_cfg)
    simulation.add(particles)
    return simulation.draw_tracks(rng)


def build_towers(particles: ParticleTable, det_cfg: dict, rng: np.random.Generator):
    """Calorimeter towers (e, pt, eta, phi at the cell centre, e_em, e_had, cell) and per-event counts: what
    `simulate_detector` gives, without the tracks.

    Neutrinos are invisible, electrons and photons go to the EM part, muons leave a MIP in the hadronic part, hadrons
    deposit all their energy in the hadronic part; charged particles are bent by the field and those that curl up before
    the calorimeter radius deposit nothing (`_visit_particle`).
    """
    simulation = DetectorSimulation(det_cfg)
    simulation.add(particles)
    return simulation.smear_towers(rng)


def simulate_detector(particles: ParticleTable, det_cfg: dict, rng: np.random.Generator) -> DetectorResponse:
    """Tracks and towers of every event in the particle table (tracks draw from `rng` first, then towers)."""
    simulation = DetectorSimulation(det_cfg)
    simulation.add(particles)
    return simulation.finish(rng)
