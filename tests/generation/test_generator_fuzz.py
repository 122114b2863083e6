"""Fuzz and edge-case tests of the generator and detector kernels: no exception and no NaN at any scale, and
four-momentum conserved wherever the code conserves it.

The many-shard tests run a few hundred thousand events through the same seeding path as the pipeline (the
first events of many shards) and check every event; the full-scale shards that once crashed are regenerated up
to the event that crashed; the edge cases put partons and hadrons at rest, splittings and decays collinear,
and particles exactly on tower and acceptance edges.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from four_vectors import invariant_mass

from autopruner import seeding
from autopruner.config import REPO_ROOT, load_config
from autopruner.detector.shards import generate_shard
from autopruner.detector.simulation import TowerGrid, _cells, simulate_detector
from autopruner.generation.decays import (
    N_HEAVY_COLS,
    N_PARTICLE_COLS,
    XE,
    XFLAV,
    XM,
    XPARENT,
    XPDG,
    XPRODX,
    XQSIGN,
    add_pi0_photons,
    decay_numpy,
)
from autopruner.generation.events import GeneratedEvents
from autopruner.generation.hadronization import N_HADRON_COLS, conserve_momentum, fragment
from autopruner.generation.shower import N_COLS, N_FINAL_COLS, shower_numpy, split
from autopruner.generation.toy import (
    SINGLET_FRAGMENTATION,
    SINGLET_NONE,
    SINGLET_REST_FRAME,
    generate_events,
    generator_params,
    hadronize_seeds,
)
from autopruner.kinematics import boost, nbody, two_body
from autopruner.particles import (
    B_HADRONS,
    C_HADRONS,
    M_B_QUARK,
    M_PI0,
    ORIGIN_SOFT,
    ParticleTable,
)

CONFIG = load_config()
FULL_CONFIG = load_config(REPO_ROOT / "config" / "full.yaml")
DET = CONFIG["detector"]
_, SHOWER_PARAMS, HAD_PARAMS, DECAY_PARAMS, _ = generator_params(CONFIG)

EVENTS_PER_SHARD = 500  # the first events of each shard: many independent streams, each call cheap
# per kind (analysis, calibration): 300k events in all; indices past the configured shard counts are streams
# as good as any
SHARDS = {"hbb": 150, "qcd": 150}
# Full-scale shards (config/full.yaml) that crashed with ZeroDivisionError: the events up to and including the
# one in which a b-hadron was the only hadron of its shower group and conserve_momentum divided by zero.
CRASHED_SHARDS = [("hbb", "shard094", 2232), ("hbb", "shard030", 13579)]


def _p4(d: dict) -> np.ndarray:
    """(n, 4) array of the px, py, pz, e fields of a dict of arrays."""
    return np.stack([d["px"], d["py"], d["pz"], d["e"]], axis=1)


def _assert_finite(arrays: dict, what: str) -> None:
    """Every numeric array in `arrays` is finite."""
    for name, a in arrays.items():
        a = np.asarray(a)
        if a.dtype.kind == "f":
            assert np.all(np.isfinite(a)), f"non-finite {what} {name}"


def _check_particles(p: ParticleTable) -> None:
    """Finite particles on or above the light cone, whose non-soft particles balance in transverse momentum.

    The hard process recoils against the ISR gluon, so the shower seeds of an event sum to zero transverse
    momentum; showers, hadronization (groups rescaled to their seeds) and decays conserve four-momentum, so
    the prompt, b and c particles (neutrinos included) must balance as well, to rounding.
    """
    fields = {k: getattr(p, k) for k in ("px", "py", "pz", "e", "vx", "vy", "vz")}
    _assert_finite(fields | {"pv": p.pv}, "particle")
    p3 = np.sqrt(p.px**2 + p.py**2 + p.pz**2)
    assert np.all(p.e >= p3 * (1.0 - 1e-9) - 1e-9), "particle below the light cone"
    event = p.event_index()
    hard = p.origin != ORIGIN_SOFT
    sx = np.bincount(event[hard], weights=p.px[hard], minlength=p.n_events)
    sy = np.bincount(event[hard], weights=p.py[hard], minlength=p.n_events)
    scale = np.bincount(event[hard], weights=np.hypot(p.px, p.py)[hard], minlength=p.n_events)
    imbalance = np.hypot(sx, sy)
    bad = np.flatnonzero(imbalance > 1e-9 * scale + 1e-9)  # rounding of boosts by large gamma: ~1e-10 relative
    assert bad.size == 0, f"events {bad[:5]} do not conserve pT: imbalance {imbalance[bad[:5]]} GeV"


def _check_decays(gen: GeneratedEvents) -> None:
    """Every heavy hadron equals the sum of its daughters: stable particles (photons of its pi0s included)
    and cascade hadrons."""
    p, h = gen.particles, gen.hadrons
    n_had = h["px"].size
    first = np.cumsum(gen.hadron_counts) - gen.hadron_counts  # first hadron of every event
    daughter = p.hadron_index >= 0
    owner = np.repeat(first, p.counts)[daughter] + p.hadron_index[daughter]
    cascade = np.flatnonzero(h["parent"] >= 0)
    parent = np.repeat(first, gen.hadron_counts)[cascade] + h["parent"][cascade]
    hadron_p4 = _p4(h)
    particle_p4 = np.stack([p.px, p.py, p.pz, p.e], axis=1)
    sums = np.stack(
        [
            np.bincount(owner, weights=particle_p4[daughter, k], minlength=n_had)
            + np.bincount(parent, weights=hadron_p4[cascade, k], minlength=n_had)
            for k in range(4)
        ],
        axis=1,
    )
    np.testing.assert_allclose(sums, hadron_p4, rtol=0, atol=1e-9 * np.max(hadron_p4[:, 3], initial=1.0))


def _check_generated(gen: GeneratedEvents) -> None:
    """Finite truth, particles and hadrons; pT balance; exact heavy-hadron decays; H = b + bbar."""
    _assert_finite(gen.partons, "parton")
    _assert_finite(gen.hadrons, "hadron")
    _check_particles(gen.particles)
    _check_decays(gen)
    role = gen.partons["role"]
    if np.any(role == 1):
        higgs = _p4(gen.partons)[role == 1]
        b_pair = _p4(gen.partons)[role == 2].reshape(-1, 2, 4).sum(axis=1)
        np.testing.assert_allclose(b_pair, higgs, rtol=1e-9, atol=1e-7)


def _check_detector(det, particles: ParticleTable, det_cfg: dict) -> None:
    """Finite tracks and towers inside the acceptance, counts consistent with the flat arrays."""
    _assert_finite(det.tracks, "track")
    _assert_finite(det.towers, "tower")
    assert det.track_counts.sum() == det.tracks["pt"].size
    assert det.tower_counts.sum() == det.towers["e"].size
    assert det.track_counts.size == det.tower_counts.size == particles.n_events
    assert np.all(np.abs(det.tracks["eta"]) <= det_cfg["tracker_abs_eta_max"])  # float32 may round up to it
    assert np.all((det.tracks["d0_err"] > 0) & (det.tracks["z0_err"] > 0))
    n_cells = TowerGrid(
        det_cfg["tower_size_central"], det_cfg["tower_size_forward"], det_cfg["calo_abs_eta_max"]
    ).n_cells
    assert np.all((det.towers["cell"] >= 0) & (det.towers["cell"] < n_cells))
    assert np.all(det.towers["e"] >= det_cfg["tower_threshold_gev"] * (1 - 1e-6))
    assert np.all(np.abs(det.towers["eta"]) < det_cfg["calo_abs_eta_max"])


@pytest.mark.parametrize("process", ["hbb", "qcd"])
@pytest.mark.parametrize("kind", ["analysis", "calibration"])
def test_first_events_of_many_shards_are_finite_and_conserve_momentum(process, kind):
    """The first events of hundreds of shards, through the pipeline's seeding path, generator and detector."""
    n_events = 0
    for index in range(SHARDS[process]):
        gen_rng, det_rng = seeding.stream(FULL_CONFIG["seed"], process, kind, index).spawn(2)
        gen = generate_events(FULL_CONFIG, process, EVENTS_PER_SHARD, gen_rng)
        _check_generated(gen)
        _check_detector(simulate_detector(gen.particles, DET, det_rng), gen.particles, DET)
        n_events += gen.particles.n_events
    assert n_events == SHARDS[process] * EVENTS_PER_SHARD


@pytest.mark.parametrize("process,shard,n_events", CRASHED_SHARDS)
def test_full_scale_shards_that_crashed_now_generate(process, shard, n_events, tmp_path):
    """hbb shard094 and shard030 of config/full.yaml divided by zero in the generator; now they are whole."""
    path = tmp_path / f"{shard}.root"
    stats = generate_shard(FULL_CONFIG, process, shard, path, n_events=n_events)
    assert stats["events"] == n_events and path.is_file()
    kind, index = seeding.parse_shard(shard)
    gen_rng, det_rng = seeding.stream(FULL_CONFIG["seed"], process, kind, index).spawn(2)  # as generate_shard
    gen = generate_events(FULL_CONFIG, process, n_events, gen_rng)
    _check_generated(gen)
    _check_detector(simulate_detector(gen.particles, DET, det_rng), gen.particles, DET)


def _seed_record(p3, e, pdg, t=0.0, z=0.5, theta_max=1.0):
    """A shower seed record (autopruner.shower columns) of a quark or gluon with virtuality t."""
    m0 = M_B_QUARK if abs(pdg) == 5 else 0.0
    return np.array([*p3, e, m0, pdg, t, z, 0, theta_max], dtype=np.float64)


def _on_shell_seed(direction, e, m, pdg, z):
    """A seed of energy e and mass m along `direction` (virtuality m^2 - m0^2)."""
    n = np.asarray(direction, dtype=np.float64) / np.linalg.norm(direction)
    m0 = M_B_QUARK if abs(pdg) == 5 else 0.0
    return _seed_record(n * math.sqrt(e * e - m * m), e, pdg, m * m - m0 * m0, z)


@pytest.mark.parametrize("mode", [SINGLET_NONE, SINGLET_FRAGMENTATION, SINGLET_REST_FRAME])
def test_soft_b_seed_whose_hadron_stands_alone_still_conserves_momentum(mode):
    """A soft, massive b seed (7 GeV, m = 6.2 GeV: like the b of a backward H decay in the crashed shards)
    fragments into a lone b-hadron about once in a hundred showers. One hadron cannot be rescaled to the
    seed's mass, so it must join the next shower's group; the hadrons still sum exactly to the seeds, in every
    treatment of the colour singlet (with SINGLET_REST_FRAME the seeds are handed over in the singlet's rest frame
    and the hadrons must sum to the lab-frame seeds)."""
    seeds = np.stack(
        [_on_shell_seed([0.3, 0.8, 0.2], 7.0, 6.2, 5, 0.9), _on_shell_seed([-0.1, -0.2, -1.0], 200.0, 30.0, -5, 0.6)]
    )
    target = seeds[:, :4].sum(axis=0)
    velocity = target[:3] / target[3]
    if mode == SINGLET_REST_FRAME:
        for row in seeds:
            row[:4] = boost(*row[:4], *(-velocity))
    fin = np.empty((8 * (int(SHOWER_PARAMS.max_emissions) + 1) + 16, N_FINAL_COLS))
    prim = np.empty((8192, N_HADRON_COLS))
    rng = np.random.default_rng(2231)
    sums = np.empty((2000, 4))
    for k in range(sums.shape[0]):
        n = hadronize_seeds(rng, seeds, 2, 2, mode, *velocity, SHOWER_PARAMS, SHOWER_PARAMS, HAD_PARAMS, fin, prim)
        assert np.all(np.isfinite(prim[:n, :5]))
        sums[k] = prim[:n, :4].sum(axis=0)
    np.testing.assert_allclose(sums, np.broadcast_to(target, sums.shape), rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("mode", [SINGLET_FRAGMENTATION, SINGLET_REST_FRAME])
def test_colour_singlet_seeds_shower_with_the_singlet_parameters(mode):
    """The first n_singlet seeds (H -> b bbar) shower with the singlet's parameters, the others with the event's:
    hadronizing two b seeds as a singlet gives the same hadrons whatever the event's angular-ordering factor, and
    other hadrons when the singlet itself is given the wide factor."""
    seeds = np.stack(
        [_on_shell_seed([0.3, 0.8, 0.2], 300.0, 60.0, 5, 0.9), _on_shell_seed([0.2, 0.9, 0.1], 200.0, 40.0, -5, 0.6)]
    )
    velocity = seeds[:, :3].sum(axis=0) / seeds[:, 3].sum()
    strict = SHOWER_PARAMS._replace(angular_ordering_factor=1.0)
    wide = SHOWER_PARAMS._replace(angular_ordering_factor=3.0)
    fin = np.empty((8 * (int(SHOWER_PARAMS.max_emissions) + 1) + 16, N_FINAL_COLS))

    def hadrons(event_params, singlet_params):
        prim = np.empty((8192, N_HADRON_COLS))
        rng = np.random.default_rng(77)
        n = sum(hadronize_seeds(rng, seeds, 2, 2, mode, *velocity, event_params, singlet_params, HAD_PARAMS, fin,
                                prim) for _ in range(50))
        return n, prim[:8].copy()

    n_ref, first_ref = hadrons(strict, strict)
    n_event_wide, first_event_wide = hadrons(wide, strict)
    assert n_event_wide == n_ref
    np.testing.assert_array_equal(first_event_wide, first_ref)
    n_singlet_wide, first_singlet_wide = hadrons(wide, wide)
    assert n_singlet_wide != n_ref or not np.array_equal(first_singlet_wide, first_ref)


def test_lone_hadron_at_rest_is_boosted_not_divided_by_zero():
    """conserve_momentum on one hadron at rest (no momentum to rescale) must not raise; it keeps its mass."""
    had = np.zeros((1, N_HADRON_COLS))
    had[0, 3] = had[0, 4] = 5.27966
    conserve_momentum(had, 0, 1, 0.0, 0.0, 50.0, 60.0)
    assert np.all(np.isfinite(had[0]))
    assert invariant_mass(had[0, :4]) == pytest.approx(5.27966, rel=1e-9)


@pytest.mark.parametrize("pdg", [21, 1, -2, 4, -5])
@pytest.mark.parametrize("e", [0.2, 1.9, 6.0, 50.0])
def test_parton_at_rest_fragments(pdg, e):
    """A parton with no momentum (a zero-momentum splitting product) fragments along z without dividing by
    zero."""
    out = np.empty((512, N_HADRON_COLS))
    rng = np.random.default_rng(int(10 * e) + abs(pdg))
    for _ in range(50):
        n = fragment(rng, 0.0, 0.0, 0.0, e, pdg, HAD_PARAMS, out, 0)
        assert np.all(np.isfinite(out[:n]))
        assert np.all(out[:n, 3] >= out[:n, 4] * (1 - 1e-12))


@pytest.mark.parametrize("pdg", [21, 2, 5])
def test_splitting_and_shower_of_a_parton_at_rest_conserve_momentum(pdg):
    """A massive parton at rest splits into back-to-back daughters; its whole shower sums to it."""
    rng = np.random.default_rng(abs(pdg))
    d1, d2 = np.empty(N_COLS), np.empty(N_COLS)
    m0 = M_B_QUARK if pdg == 5 else 0.0
    for m in (m0 + 1.2, 20.0, 300.0):  # just above the lightest splitting, to far above it
        for z in (0.02, 0.5, 0.98):
            row = _seed_record((0.0, 0.0, 0.0), m, pdg, m * m - m0 * m0, z, math.pi)
            split(rng, row, SHOWER_PARAMS, d1, d2)
            assert np.all(np.isfinite(d1)) and np.all(np.isfinite(d2))
            np.testing.assert_allclose(d1[:4] + d2[:4], row[:4], atol=1e-9 * m)
            out = shower_numpy(rng, row, SHOWER_PARAMS)
            assert np.all(np.isfinite(out))
            np.testing.assert_allclose(out[:, :4].sum(axis=0), row[:4], atol=1e-9 * m)


DIRECTIONS = [
    (0.0, 0.0, 1.0),
    (0.0, 0.0, -1.0),
    (1.0, 0.0, 0.0),
    (0.0, -1.0, 0.0),
    (0.0, math.sqrt(1 - 0.9**2), 0.9),  # where orthonormal_basis switches its reference axis
    (1e-300, 0.0, 1.0),
]


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("cos_theta", [-1.0, -0.999999, 0.0, 1.0])
def test_collinear_two_body_decays_conserve_momentum(direction, cos_theta):
    """Daughters along (or against) the parent's flight, for parents along the axes and in the basis switch,
    from at rest to a Lorentz factor of 10^5."""
    for m, m1, m2 in ((M_PI0, 0.0, 0.0), (125.1, M_B_QUARK, M_B_QUARK), (10.0, 4.9, 5.0999999)):
        for p in (0.0, 1.0, 1e3, 1e5 * m):
            p3 = p * np.asarray(direction) / np.linalg.norm(direction)
            e = math.sqrt(p * p + m * m)
            q = np.array(two_body(*p3, e, m, m1, m2, cos_theta, 1.0))
            assert np.all(np.isfinite(q))
            np.testing.assert_allclose(q[:4] + q[4:], [*p3, e], rtol=1e-12, atol=1e-12 * e)
            np.testing.assert_allclose(invariant_mass(q.reshape(2, 4)), [m1, m2], atol=1e-6 * max(e, 1.0) / m)


def test_splittings_at_the_edges_of_z_conserve_momentum():
    """Splittings with the energy fraction at the cut-off limits (nearly all energy in one daughter), for
    partons from 1 GeV to 7 TeV along and against the beam."""
    rng = np.random.default_rng(12)
    d1, d2 = np.empty(N_COLS), np.empty(N_COLS)
    q02 = SHOWER_PARAMS.cutoff_gev**2
    for pdg in (21, 1, 5):
        m0 = M_B_QUARK if pdg == 5 else 0.0
        for e in (6.0, 40.0, 7000.0):
            for t in (4.0001 * q02, 0.01 * e * e):
                if t <= 4.0 * q02:  # evolve branches only above four times the cut-off
                    continue
                eps = q02 / t
                for z in (eps, 1.0 - eps, 0.5):
                    for sign in (1.0, -1.0):
                        m = math.sqrt(m0 * m0 + t)
                        if m >= e:
                            continue
                        row = _seed_record((0.0, 0.0, sign * math.sqrt(e * e - m * m)), e, pdg, t, z, 1.0)
                        split(rng, row, SHOWER_PARAMS, d1, d2)
                        assert np.all(np.isfinite(d1)) and np.all(np.isfinite(d2))
                        np.testing.assert_allclose(d1[:4] + d2[:4], row[:4], rtol=1e-12, atol=1e-9)


HEAVY = [(row, 5) for row in B_HADRONS] + [(row, 4) for row in C_HADRONS]


@pytest.mark.parametrize("hadron,flavour", HEAVY, ids=[str(int(r[0])) for r, _ in HEAVY])
@pytest.mark.parametrize("p", [0.0, 1e-9, 30.0, 5000.0])
def test_heavy_hadron_decays_at_rest_and_boosted_conserve_momentum(hadron, flavour, p):
    """b- and c-hadron decays (and cascades) at rest, nearly at rest and at a TeV: exact four-momentum and
    charge, decay vertex at the production vertex for a hadron at rest."""
    rng = np.random.default_rng(int(abs(hadron[0])) + int(p))
    for k in range(100):
        rec = np.zeros(N_HEAVY_COLS)
        rec[0:3] = p * np.array([math.sin(k), math.cos(k), 0.3]) / math.hypot(1.0, 0.3)
        rec[XM] = hadron[2]
        rec[XE] = math.sqrt(rec[0] ** 2 + rec[1] ** 2 + rec[2] ** 2 + hadron[2] ** 2)
        rec[XPDG], rec[6], rec[XFLAV], rec[XQSIGN], rec[XPARENT] = hadron[0], hadron[1], flavour, 1, -1
        rec[XPRODX : XPRODX + 3] = (0.01, -0.02, 3.0)
        had, out = decay_numpy(rng, rec, DECAY_PARAMS)
        assert np.all(np.isfinite(had)) and np.all(np.isfinite(out))
        for i in range(had.shape[0]):
            daughters = out[out[:, 10] == i, :4].sum(axis=0) + had[had[:, XPARENT] == i, :4].sum(axis=0)
            np.testing.assert_allclose(daughters, had[i, :4], rtol=1e-10, atol=1e-9)
        assert out[:, 5].sum() == pytest.approx(hadron[1])
        if p == 0.0:
            np.testing.assert_array_equal(had[0, XPRODX + 3 : XPRODX + 6], had[0, XPRODX : XPRODX + 3])


def test_pi0_and_nbody_decays_at_rest_conserve_momentum():
    """pi0 -> gamma gamma and N-body decays of a parent at rest or with a Lorentz factor of 10^4."""
    rng = np.random.default_rng(13)
    out = np.empty((2, N_PARTICLE_COLS))
    for p in (0.0, 1e-12, 1.35e3):
        e = math.sqrt(p * p + M_PI0 * M_PI0)
        add_pi0_photons(rng, out, 0, 0.0, 0.0, p, e, 0.0, 0.0, 0.0, 0, -1)
        assert np.all(np.isfinite(out))
        np.testing.assert_allclose(out[:, :4].sum(axis=0), [0.0, 0.0, p, e], rtol=1e-12, atol=1e-12)
        for masses in (np.array([0.13957, 0.13957]), np.full(8, 0.13957), np.array([1.86484, 0.49368, 0.0])):
            m = 5.27934
            mom = np.empty((masses.size, 4))
            nbody(rng, 0.0, p, 0.0, math.sqrt(p * p + m * m), masses, mom)
            assert np.all(np.isfinite(mom))
            np.testing.assert_allclose(mom.sum(axis=0), [0.0, p, 0.0, math.sqrt(p * p + m * m)], atol=1e-9)


def _edge_values(edges: np.ndarray) -> np.ndarray:
    """Every edge and its two floating-point neighbours."""
    return np.unique(np.concatenate([edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf)]))


def _edge_directions(det_cfg: dict) -> tuple[np.ndarray, np.ndarray]:
    """(eta, phi) of directions exactly on (and one ulp off) every tower edge and acceptance limit."""
    grid = TowerGrid(det_cfg["tower_size_central"], det_cfg["tower_size_forward"], det_cfg["calo_abs_eta_max"])
    eta_edges = np.concatenate(
        [
            np.linspace(-grid.eta_central, grid.eta_central, grid.n_eta_c + 1),
            grid.eta_central + np.arange(grid.n_eta_f + 1) * (grid.eta_max - grid.eta_central) / grid.n_eta_f,
            [det_cfg["tracker_abs_eta_max"], det_cfg["track_efficiency"]["abs_eta_split"], 0.0],
            det_cfg["track_pt_resolution"]["abs_eta_edges"],
        ]
    )
    eta_edges = np.concatenate([eta_edges, -eta_edges])
    phi_edges = np.concatenate(
        [np.linspace(-np.pi, np.pi, grid.n_phi_c + 1), np.linspace(-np.pi, np.pi, grid.n_phi_f + 1)]
    )
    eta, phi = np.meshgrid(_edge_values(eta_edges), _edge_values(phi_edges)[::7], indexing="ij")
    return eta.ravel(), phi.ravel()


def test_directions_on_tower_edges_land_in_the_cell_that_holds_them():
    """Every direction on (or one ulp beside) a tower edge gets a valid cell whose bounds contain it, and
    exactly those beyond the calorimeter get none."""
    grid = TowerGrid(DET["tower_size_central"], DET["tower_size_forward"], DET["calo_abs_eta_max"])
    eta, phi = _edge_directions(DET)
    cells = _cells(eta, phi, grid.as_tuple())
    outside = np.abs(eta) >= grid.eta_max
    np.testing.assert_array_equal(cells < 0, outside)
    assert np.all(cells[~outside] < grid.n_cells)
    eta_c, phi_c = grid.centres()
    size = np.where(np.abs(eta_c) < grid.eta_central, DET["tower_size_central"], DET["tower_size_forward"])
    inside = ~outside
    c = cells[inside]
    assert np.all(np.abs(eta[inside] - eta_c[c]) <= 0.5 * size[c] * (1 + 1e-9))
    dphi = np.mod(phi[inside] - phi_c[c] + np.pi, 2 * np.pi) - np.pi
    n_phi = np.where(np.abs(eta_c[c]) < grid.eta_central, grid.n_phi_c, grid.n_phi_f)
    assert np.all(np.abs(dphi) <= np.pi / n_phi * (1 + 1e-9))


def test_particles_on_tower_and_acceptance_edges_simulate_cleanly():
    """Particles exactly on tower edges, the tracker and calorimeter acceptance, the track pT threshold, the
    curling pT, along the beam and at rest, of every species: finite tracks and towers, each within the
    acceptance."""
    eta, phi = _edge_directions(DET)
    pt_curl = 0.5 * 0.299792458 * DET["magnetic_field_t"] * DET["calo_radius_m"]
    pts = np.array([0.0, DET["track_pt_min_gev"], pt_curl, DET["track_efficiency"]["pt_split_gev"], 7.0, 3000.0])
    species = [
        (211, 1, 0.13957),
        (-211, -1, 0.13957),
        (22, 0, 0.0),
        (11, -1, 0.000511),
        (13, -1, 0.10566),
        (2112, 0, 0.93957),
        (12, 0, 0.0),
    ]
    rng = np.random.default_rng(14)
    n = eta.size
    for pt in pts:
        pdg, charge, m = (
            np.array(x) for x in zip(*(species[k] for k in rng.integers(0, len(species), n)), strict=True)
        )
        px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
        if pt == 0.0:  # along the beam, and at rest
            pz = np.where(np.arange(n) % 2 == 0, 0.0, 50.0 * np.sign(eta + 0.5))
        counts = np.full(n // 50, 50)
        counts[-1] += n - counts.sum()
        table = ParticleTable(
            px=px,
            py=py,
            pz=pz,
            e=np.sqrt(px**2 + py**2 + pz**2 + m**2),
            pdgid=pdg.astype(np.int32),
            charge=charge.astype(np.int8),
            vx=np.zeros(n),
            vy=np.zeros(n),
            vz=np.zeros(n),
            origin=np.zeros(n, np.int8),
            hadron_index=np.full(n, -1, np.int32),
            counts=counts,
            pv=np.zeros((counts.size, 3)),
        )
        for threshold in (0.0, DET["tower_threshold_gev"]):
            det_cfg = copy.deepcopy(DET)
            det_cfg["tower_threshold_gev"] = threshold
            _check_detector(simulate_detector(table, det_cfg, rng), table, det_cfg)
