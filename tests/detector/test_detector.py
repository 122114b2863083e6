"""Detector model: efficiencies, resolutions, impact-parameter significances and calorimeter energy
response."""

import copy
import math

import numpy as np
import pytest
import yaml

from autopruner.arrays import offsets_from_counts
from autopruner.config import DEFAULT_CONFIG
from autopruner.detector.simulation import (
    build_towers,
    em_sigma,
    had_sigma,
    helix_impact_parameters,
    ip_resolution,
    ip_tail_factor,
    lognormal_smear,
    production_radius_mm,
    pt_resolution,
    reconstruct_tracks,
    simulate_detector,
    track_efficiency,
)
from autopruner.generation.toy import generate_events
from autopruner.particles import ParticleTable

CONFIG = yaml.safe_load(DEFAULT_CONFIG.read_text())
DET = CONFIG["detector"]


def _table(px, py, pz, m, pdgid, charge, counts=None, vertex=None):
    """ParticleTable of given particles (one event unless counts), produced at the origin unless vertex."""
    n = px.size
    counts = np.array([n]) if counts is None else counts
    v = np.zeros((3, n)) if vertex is None else vertex
    return ParticleTable(
        px=px,
        py=py,
        pz=pz,
        e=np.sqrt(px**2 + py**2 + pz**2 + m**2),
        pdgid=np.asarray(pdgid, np.int32),
        charge=np.asarray(charge, np.int8),
        vx=v[0],
        vy=v[1],
        vz=v[2],
        origin=np.zeros(n, np.int8),
        hadron_index=np.full(n, -1, np.int32),
        counts=counts,
        pv=np.zeros((counts.size, 3)),
    )


def _pions(rng, n, pt, eta_lo, eta_hi):
    eta = rng.uniform(eta_lo, eta_hi, n) * rng.choice([-1, 1], n)
    phi = rng.uniform(-np.pi, np.pi, n)
    return _table(
        pt * np.cos(phi),
        pt * np.sin(phi),
        pt * np.sinh(eta),
        np.full(n, 0.13957),
        np.full(n, 211),
        np.ones(n),
    )


@pytest.fixture(scope="module")
def hbb():
    gen = generate_events(CONFIG, "hbb", 400, np.random.default_rng(21))
    return gen, simulate_detector(gen.particles, DET, np.random.default_rng(22))


@pytest.mark.parametrize(
    "pt,eta_lo,eta_hi", [(0.7, 0.0, 1.4), (5.0, 0.0, 1.4), (0.7, 1.6, 2.4), (5.0, 1.6, 2.4)]
)
def test_track_efficiency_reproduces_config(pt, eta_lo, eta_hi):
    rng = np.random.default_rng(31)
    n = 20000
    tracks, counts = reconstruct_tracks(_pions(rng, n, pt, eta_lo, eta_hi), DET, rng)
    expected = float(track_efficiency(np.array([pt]), np.array([eta_lo + 0.1]), DET["track_efficiency"])[0])
    assert expected in (*DET["track_efficiency"]["central"], *DET["track_efficiency"]["forward"])
    assert abs(counts[0] / n - expected) < 4 * np.sqrt(expected * (1 - expected) / n)


@pytest.mark.parametrize("pt", [2.0, 50.0, 400.0])
def test_track_pt_and_impact_parameter_resolutions_reproduce_config(pt):
    rng = np.random.default_rng(32)
    tracks, _ = reconstruct_tracks(_pions(rng, 20000, pt, 0.0, 0.45), DET, rng)
    p = tracks["particle_index"]
    assert p.size > 15000
    sigma = pt_resolution(np.array([pt]), np.array([0.2]), DET["track_pt_resolution"])[0]
    assert np.std(tracks["pt"] / pt - 1.0) == pytest.approx(sigma, rel=0.04)
    sig_d0 = np.sqrt(tracks["d0_err"].astype(float) ** 2 - DET["beam_spot_xy_mm"] ** 2)
    expected_d0 = np.hypot(DET["d0_resolution"]["constant_mm"], DET["d0_resolution"]["over_pt_mm_gev"] / pt)
    assert np.median(sig_d0) == pytest.approx(expected_d0, rel=0.05)
    tails = DET["ip_tails"]
    rms_with_tails = np.sqrt(1 - tails["fraction"] + tails["fraction"] * tails["scale"] ** 2)
    for pull in ((tracks["d0"] - tracks["d0_true"]) / sig_d0, (tracks["z0"] - tracks["z0_true"]) / tracks["z0_err"]):
        assert _robust_width(pull) == pytest.approx(1.0, abs=0.04)  # the Gaussian core is the quoted error
        assert np.std(pull) == pytest.approx(rms_with_tails, rel=0.06)  # plus the configured tail


def _pions_at_radius(rng, n_per_radius: int, radii_mm) -> ParticleTable:
    """5 GeV central pi+ (one event), ``n_per_radius`` produced at each transverse radius, flying radially outwards."""
    radius = np.repeat(np.asarray(radii_mm, dtype=float), n_per_radius)
    phi = rng.uniform(-np.pi, np.pi, radius.size)
    eta = rng.uniform(-1.0, 1.0, radius.size)
    vertex = np.stack([radius * np.cos(phi), radius * np.sin(phi), rng.normal(0.0, 40.0, radius.size)])
    pt = 5.0
    return _table(pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), np.full(radius.size, 0.13957),
                  np.full(radius.size, 211), np.ones(radius.size), vertex=vertex)


def test_particles_produced_outside_the_pixel_volume_give_no_track():
    """K0S/Lambda-like daughters produced beyond track_max_production_radius_mm are not tracked; those inside are."""
    r_max = DET["track_max_production_radius_mm"]
    inside_radii, outside_radii = [0.0, 1.0, 10.0, r_max - 0.1], [r_max + 0.1, 50.0, 100.0, 400.0]
    n = 2000
    table = _pions_at_radius(np.random.default_rng(33), n, inside_radii + outside_radii)
    tracks, counts = reconstruct_tracks(table, DET, np.random.default_rng(34))
    radius = production_radius_mm(table)[tracks["particle_index"]]
    assert counts.sum() == tracks["particle_index"].size
    assert np.all(radius < r_max)
    efficiency = DET["track_efficiency"]["central"][1]
    for r in inside_radii:
        found = np.count_nonzero(np.isclose(radius, r)) / n
        assert found == pytest.approx(efficiency, abs=4 * np.sqrt(efficiency * (1 - efficiency) / n)), r


def test_production_radius_cut_only_removes_tracks():
    """Same seed with and without the cut: identical tracks inside the pixel volume, identical towers."""
    gen = generate_events(CONFIG, "hbb", 200, np.random.default_rng(35))
    no_cut = copy.deepcopy(DET)
    no_cut["track_max_production_radius_mm"] = 1e9
    cut = simulate_detector(gen.particles, DET, np.random.default_rng(36))
    full = simulate_detector(gen.particles, no_cut, np.random.default_rng(36))
    inside = production_radius_mm(gen.particles)[full.tracks["particle_index"]] < DET["track_max_production_radius_mm"]
    # daughters of the longest b/c-hadron decays and of K0S decaying beyond the pixel volume (~5 % of tracks)
    assert 0 < np.count_nonzero(~inside) < 0.1 * inside.size
    for name, values in full.tracks.items():
        np.testing.assert_array_equal(cut.tracks[name], values[inside], err_msg=name)
    for name, values in full.towers.items():
        np.testing.assert_array_equal(cut.towers[name], values, err_msg=name)


def _robust_width(x: np.ndarray) -> float:
    """Gaussian-equivalent width from the median absolute deviation: blind to a few % of wide tails."""
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


def test_helix_impact_parameter_sign_and_straight_line_limit():
    # a track through (0, 1 mm) flying along +x: ATLAS d0 = -x sin(phi) + y cos(phi) = +1 mm
    x, y, z = np.array([0.0, 0.0]), np.array([1.0, 1.0]), np.array([5.0, 5.0])
    px, py, pz = np.array([1000.0, 1000.0]), np.array([0.0, 0.0]), np.array([0.0, 1000.0])
    d0, z_pca = helix_impact_parameters(x, y, z, px, py, pz, np.array([1, -1]), 2.0)
    np.testing.assert_allclose(d0, [1.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(z_pca, [5.0, 5.0])
    # a 1 GeV track from (5 mm, 0) at phi = 45 deg: straight-line d0 = -5 sin(45) mm; the field bends opposite
    # charges to opposite sides by ~ L^2 / 2R = 25 / (2 * 1668) mm
    x, y, z = np.array([5.0, 5.0]), np.array([0.0, 0.0]), np.array([0.0, 0.0])
    px = py = np.array([np.sqrt(0.5), np.sqrt(0.5)])
    d0, _ = helix_impact_parameters(x, y, z, px, py, np.zeros(2), np.array([1, -1]), 2.0)
    straight = -5.0 * np.sqrt(0.5)
    assert d0.mean() == pytest.approx(straight, abs=1e-4)
    assert abs(d0[0] - d0[1]) == pytest.approx(12.5 / (1000 / (0.299792458 * 2.0)), rel=0.05)


def test_prompt_tracks_have_unit_width_d0_significance(hbb):
    gen, det = hbb
    t = det.tracks
    # origin 0 from the primary vertex: the pions of a K0S that decays in flight are origin 0 too, but displaced
    event = gen.particles.event_index()[t["particle_index"]]
    at_pv = (gen.particles.vx[t["particle_index"]] == gen.particles.pv[event, 0]) & (
        gen.particles.vy[t["particle_index"]] == gen.particles.pv[event, 1]
    )
    prompt = (t["origin"] == 0) & at_pv
    assert np.count_nonzero(prompt) > 5000
    significance = t["d0"][prompt] / t["d0_err"][prompt]
    from scipy.optimize import brentq
    from scipy.stats import norm

    tails = CONFIG["detector"]["ip_tails"]
    # unit-width Gaussian core: the robust width equals that of the unit Gaussian plus the configured tail
    # (1.026 for 3 % at 4x); tracks in events come out ~4 % wider than the quoted error, hence 0.06
    f, k = tails["fraction"], tails["scale"]
    half = brentq(lambda m: (1 - f) * (2 * norm.cdf(m) - 1) + f * (2 * norm.cdf(m / k) - 1) - 0.5, 0.1, 5.0)
    assert _robust_width(significance) == pytest.approx(half / norm.ppf(0.75), abs=0.06)
    # the non-Gaussian tail beyond 3 sigma is what the configured fraction and scale predict
    beyond_3 = (1 - tails["fraction"]) * 2 * norm.sf(3.0) + tails["fraction"] * 2 * norm.sf(3.0 / tails["scale"])
    assert np.mean(np.abs(significance) > 3) == pytest.approx(beyond_3, rel=0.25)


def test_b_hadron_tracks_have_positive_lifetime_signed_d0_tail(hbb):
    gen, det = hbb
    t = det.tracks
    from_b = t["origin"] == 1
    assert np.count_nonzero(from_b) > 1000
    event = np.searchsorted(np.cumsum(det.track_counts), np.flatnonzero(from_b), side="right")
    hadron = np.concatenate([[0], np.cumsum(gen.hadron_counts)[:-1]])[event] + t["hadron_index"][from_b]
    phi, d0 = t["phi"][from_b].astype(float), t["d0"][from_b].astype(float)
    # ATLAS lifetime sign: sign(sin(phi_axis - phi_track) * d0), here with the b-hadron flight as the axis
    phi_b = np.arctan2(gen.hadrons["py"][hadron], gen.hadrons["px"][hadron])
    sign = np.sign(np.sin(phi_b - phi) * d0)
    sd0 = sign * np.abs(d0) / t["d0_err"][from_b]
    assert np.mean(sd0 > 3) > 0.3
    assert np.count_nonzero(sd0 > 3) > 8 * np.count_nonzero(sd0 < -3)


def test_tower_energies_sum_to_visible_energy_within_resolution():
    rng = np.random.default_rng(41)
    det = copy.deepcopy(DET)
    det["tower_threshold_gev"] = 0.0
    n_ev, per_ev = 3000, 4
    # per event: a photon, a pi+, a neutron in separate cells, and an invisible neutrino
    eta = np.tile([0.3, -1.2, 3.5, 0.0], n_ev)
    phi = np.tile([0.5, 2.0, -2.0, -0.5], n_ev)
    e = rng.uniform(5, 200, n_ev * per_ev)
    pdg = np.tile([22, 211, 2112, 12], n_ev)
    m = np.tile([0.0, 0.13957, 0.93957, 0.0], n_ev)
    p = np.sqrt(e**2 - m**2)
    pt = p / np.cosh(eta)
    table = _table(
        pt * np.cos(phi),
        pt * np.sin(phi),
        pt * np.sinh(eta),
        m,
        pdg,
        np.tile([0, 1, 0, 0], n_ev),
        counts=np.full(n_ev, per_ev),
    )
    towers, counts = build_towers(table, det, rng)
    assert np.all(counts == 3)  # the neutrino is invisible
    sums = np.add.reduceat(towers["e"].astype(float), np.arange(0, 3 * n_ev, 3))
    e3 = e.reshape(n_ev, per_ev)
    em, hr = det["em_resolution"], det["had_resolution"]
    em_sig, had_sig = np.vectorize(em_sigma), np.vectorize(had_sigma)
    var = (
        em_sig(e3[:, 0], em["stochastic"], em["constant"]) ** 2
        + had_sig(e3[:, 1], hr["stochastic"], hr["constant"], hr["noise_gev"]) ** 2
        + had_sig(e3[:, 2], hr["stochastic"], hr["constant"], hr["noise_gev"]) ** 2
    )
    pull = (sums - e3[:, :3].sum(axis=1)) / np.sqrt(var)
    assert abs(pull.mean()) < 4 / np.sqrt(n_ev)
    assert pull.std() == pytest.approx(1.0, abs=0.05)


def test_muon_deposits_a_mip_and_events_have_realistic_towers(hbb):
    rng = np.random.default_rng(42)
    det = copy.deepcopy(DET)
    det["tower_threshold_gev"] = 0.0
    det["had_resolution"] = {"stochastic": 0.0, "constant": 0.0, "noise_gev": 0.0}
    table = _table(np.array([50.0]), np.array([0.0]), np.array([0.0]), np.array([0.10566]), [13], [-1])
    towers, _ = build_towers(table, det, rng)
    assert towers["e"].sum() == pytest.approx(DET["muon_mip_gev"], rel=1e-6)
    _, response = hbb
    assert 40 < response.tower_counts.mean() < 400
    assert 20 < response.track_counts.mean() < 150


def _numpy_tracks(p, det_cfg, rng):
    """The numpy track simulation the compiled `reconstruct_tracks` replaced (same draws, same formulas)."""
    from autopruner.kinematics import invariant_mass, pt_eta_phi

    pt, eta, phi = pt_eta_phi(p.px, p.py, p.pz)
    cand = (p.charge != 0) & (np.abs(eta) < det_cfg["tracker_abs_eta_max"]) & (pt > det_cfg["track_pt_min_gev"])
    idx = np.flatnonzero(cand)
    idx = idx[rng.random(idx.size) < track_efficiency(pt[idx], np.abs(eta[idx]), det_cfg["track_efficiency"])]
    pt_t, eta_t = pt[idx], eta[idx]
    res = pt_resolution(pt_t, np.abs(eta_t), det_cfg["track_pt_resolution"])
    pt_meas = np.abs(pt_t * (1.0 + res * rng.standard_normal(idx.size)))
    pt_p = np.hypot(p.px[idx], p.py[idx])
    sin_phi, cos_phi = p.py[idx] / pt_p, p.px[idx] / pt_p
    h = np.sign(p.charge[idx]).astype(np.float64)
    x, y = p.vx[idx], p.vy[idx]
    radius = 1000.0 * pt_p / (0.299792458 * det_cfg["magnetic_field_t"])
    cx, cy = x + h * radius * sin_phi, y - h * radius * cos_phi
    d0_true = (2.0 * radius * (y * cos_phi - x * sin_phi) - h * (x**2 + y**2)) / (radius + np.hypot(cx, cy))
    event = np.searchsorted(np.cumsum(p.counts), idx, side="right")
    z0_true = p.vz[idx] + -(x * cos_phi + y * sin_phi) * p.pz[idx] / pt_p - p.pv[event, 2]
    sig_d0 = ip_resolution(pt_meas, det_cfg["d0_resolution"])
    sig_z0 = ip_resolution(pt_meas, det_cfg["z0_resolution"])
    tail = ip_tail_factor(idx.size, det_cfg["ip_tails"], rng)
    d0 = d0_true + tail * sig_d0 * rng.standard_normal(idx.size)
    z0 = z0_true + tail * sig_z0 * rng.standard_normal(idx.size)
    mass = invariant_mass(p.px[idx], p.py[idx], p.pz[idx], p.e[idx])
    tracks = {
        "pt": pt_meas.astype(np.float32), "eta": eta_t.astype(np.float32), "phi": phi[idx].astype(np.float32),
        "charge": p.charge[idx], "d0": d0.astype(np.float32), "z0": z0.astype(np.float32),
        "d0_err": np.hypot(sig_d0, det_cfg["beam_spot_xy_mm"]).astype(np.float32),
        "z0_err": sig_z0.astype(np.float32), "pdgid": p.pdgid[idx], "origin": p.origin[idx],
        "hadron_index": p.hadron_index[idx], "e": np.sqrt((pt_meas * np.cosh(eta_t)) ** 2 + mass**2).astype(np.float32),
        "particle_index": idx, "d0_true": d0_true, "z0_true": z0_true,
    }
    inside = np.hypot(x, y) < det_cfg["track_max_production_radius_mm"]
    return {k: v[inside] for k, v in tracks.items()}, np.bincount(event[inside], minlength=p.n_events)


def _numpy_deposits(p, det_cfg):
    """Per particle (cell, E_em, E_had) as the numpy calorimeter computed them before `particle_pass`."""
    from autopruner.detector.simulation import TowerGrid, _cells
    from autopruner.kinematics import pt_eta_phi

    pt, eta, phi = pt_eta_phi(p.px, p.py, p.pz)
    apdg = np.abs(p.pdgid)
    charged = p.charge != 0
    pt_curl = 0.5 * 0.299792458 * det_cfg["magnetic_field_t"] * det_cfg["calo_radius_m"]
    reaches = ~charged | (pt > pt_curl)
    bend = np.arcsin(np.clip(pt_curl / np.maximum(pt, pt_curl), -1.0, 1.0))
    phi_calo = np.where(charged & reaches, phi - np.sign(p.charge) * bend, phi)
    em_like = (apdg == 11) | (apdg == 22)
    invisible = np.isin(apdg, (12, 14, 16)) | ~reaches
    e_em = np.where(em_like & ~invisible, p.e, 0.0)
    e_had = np.where(em_like | invisible, 0.0, np.where(apdg == 13, np.minimum(p.e, det_cfg["muon_mip_gev"]), p.e))
    grid = TowerGrid(det_cfg["tower_size_central"], det_cfg["tower_size_forward"], det_cfg["calo_abs_eta_max"])
    return _cells(eta, phi_calo, grid.as_tuple()), e_em, e_had


def test_compiled_detector_equals_the_numpy_formulas_bit_for_bit(hbb):
    """The compiled particle pass and track kernel give exactly the tracks and calorimeter deposits of the numpy
    expressions they replaced, so event files stay byte-identical for a seed."""
    from autopruner.detector.simulation import DEPOSIT_EM, DEPOSIT_HAD, DEPOSIT_MUON, particle_pass

    gen, _ = hbb
    p = gen.particles
    tracks, counts = reconstruct_tracks(p, DET, np.random.default_rng(7))
    ref, ref_counts = _numpy_tracks(p, DET, np.random.default_rng(7))
    np.testing.assert_array_equal(counts, ref_counts)
    assert tracks.keys() == ref.keys()
    for name, values in ref.items():
        assert tracks[name].dtype == values.dtype, name
        np.testing.assert_array_equal(tracks[name], values, err_msg=name)
    passed = particle_pass(p, DET)
    cell, e_em, e_had = _numpy_deposits(p, DET)
    visible = (e_em > 0) | (e_had > 0)
    np.testing.assert_array_equal(passed.cell[visible], cell[visible])
    np.testing.assert_array_equal(np.where(passed.deposit == DEPOSIT_EM, p.e, 0.0), e_em)
    mip = np.minimum(p.e, DET["muon_mip_gev"])
    had = np.where(passed.deposit == DEPOSIT_HAD, p.e, np.where(passed.deposit == DEPOSIT_MUON, mip, 0.0))
    np.testing.assert_array_equal(had, e_had)


def _events(p: ParticleTable, first: int, stop: int) -> ParticleTable:
    """Events first:stop of a particle table."""
    ends = offsets_from_counts(p.counts)
    rows = slice(ends[first], ends[stop])
    columns = {name: getattr(p, name)[rows] for name in ("px", "py", "pz", "e", "pdgid", "charge", "vx", "vy", "vz",
                                                          "origin", "hadron_index")}
    return ParticleTable(**columns, counts=p.counts[first:stop], pv=p.pv[first:stop])


def test_detector_response_is_the_same_however_the_events_are_chunked(hbb):
    """`DetectorSimulation` takes a shard's events a chunk at a time and draws only at the end: any chunking, an
    empty chunk, an event without particles, and buffers grown many times over (``events_expected`` 1) give the
    response of the whole table at once, bit for bit."""
    from autopruner.detector.simulation import DetectorSimulation

    gen, whole = hbb
    p = gen.particles
    no_particles = _events(p, 0, 0)
    no_particles = ParticleTable(**{**no_particles.__dict__, "counts": np.zeros(1, np.int64), "pv": np.ones((1, 3))})
    reference = simulate_detector(_concat_tables([p, no_particles]), DET, np.random.default_rng(22))
    for key in whole.tracks:  # the table with an empty event appended: the same tracks and towers, one more event
        np.testing.assert_array_equal(reference.tracks[key], whole.tracks[key], key)
    assert reference.track_counts[-1] == reference.tower_counts[-1] == 0
    for bounds, expected in (((0, 1, 1, 60, 400), 400), ((0, 399, 400), 1), ((0, 200, 400), 0)):
        simulation = DetectorSimulation(DET, expected)
        for first, stop in zip(bounds[:-1], bounds[1:], strict=True):
            simulation.add(_events(p, first, stop))
        simulation.add(no_particles)
        chunked = simulation.finish(np.random.default_rng(22))
        for part in ("tracks", "towers"):
            for key, values in getattr(reference, part).items():
                np.testing.assert_array_equal(getattr(chunked, part)[key], values, f"{bounds} {part}.{key}")
        np.testing.assert_array_equal(chunked.track_counts, reference.track_counts)
        np.testing.assert_array_equal(chunked.tower_counts, reference.tower_counts)


def _concat_tables(tables: list[ParticleTable]) -> ParticleTable:
    return ParticleTable(**{name: np.concatenate([getattr(t, name) for t in tables])
                            for name in ParticleTable.__dataclass_fields__})


def test_lognormal_smear_keeps_the_stored_formula_bit_for_bit():
    """The calorimeter's smearing is exp(log e - s2/2 + s z), s2 = log(1 + (sigma/e)^2), to the last bit: the
    form the stored shards were made with. The mathematically equal e * exp(s z - s2/2) differs in the last bits of
    ~60 % of these values, and in one float32 tower per ~50 000 events; this fails if the formula is rewritten so."""
    rng = np.random.default_rng(11)
    energies = np.concatenate([rng.uniform(0.01, 2.0, 2000), rng.exponential(40.0, 2000) + 0.5, [0.0, -1.0]])
    sigmas = energies.clip(0.01) * rng.uniform(0.02, 1.5, energies.size)
    draws = np.random.default_rng(5).standard_normal(energies.size)
    compiled_rng = np.random.default_rng(5)
    smeared = np.array([lognormal_smear(compiled_rng, e, s) for e, s in zip(energies, sigmas, strict=True)])
    expected = []
    k = 0
    for e, s in zip(energies, sigmas, strict=True):
        if e <= 0.0:
            expected.append(0.0)
            continue
        s2 = math.log(1.0 + (s / e) ** 2)
        expected.append(math.exp(math.log(e) - 0.5 * s2 + math.sqrt(s2) * draws[k]))
        k += 1
    np.testing.assert_array_equal(smeared, np.array(expected))
    positive = energies > 0
    assert np.mean(smeared[positive] / energies[positive]) == pytest.approx(1.0, abs=0.03)


def test_fast_direction_stays_within_its_margins():
    """`fast_atan2` and `fast_eta`, which place energy deposits in cells, lie well inside the margins within which
    `cell_from_fast_direction` trusts them, over random directions and the special ones (axes, diagonals, signed
    zeros, pT near zero)."""
    import numba as nb

    from autopruner.detector.simulation import FAST_ETA_MARGIN, FAST_PHI_MARGIN_RAD, fast_atan2, fast_eta

    @nb.njit
    def both(px, py, pz):
        phi = np.empty(px.size)
        eta = np.empty(px.size)
        for i in range(px.size):
            phi[i] = fast_atan2(py[i], px[i])
            eta[i] = fast_eta(pz[i], np.sqrt(px[i] * px[i] + py[i] * py[i]))
        return phi, eta

    rng = np.random.default_rng(5)
    n = 400_000
    pt = 10.0 ** rng.uniform(-3, 3, n)
    phi_true = rng.uniform(-np.pi, np.pi, n)
    px, py = pt * np.cos(phi_true), pt * np.sin(phi_true)
    pz = pt * np.sinh(rng.uniform(-6, 6, n))
    special = np.array([1.0, 0.0, -1.0, -0.0, 1e-300, 3.0, -3.0, 1e-9])
    sx, sy = np.meshgrid(special, special)
    px = np.concatenate([px, sx.ravel()])
    py = np.concatenate([py, sy.ravel()])
    pz = np.concatenate([pz, rng.uniform(-5, 5, sx.size)])
    phi, eta = both(px, py, pz)
    dphi = np.abs(np.angle(np.exp(1j * (phi - np.arctan2(py, px)))))
    assert dphi.max() < FAST_PHI_MARGIN_RAD / 10
    eta_exact = np.arcsinh(pz / np.maximum(np.hypot(px, py), 1e-12))  # as `eta_phi_scalar`
    assert np.abs(eta - eta_exact).max() < FAST_ETA_MARGIN / 10


def test_cells_at_cell_boundaries_are_those_of_the_exact_direction():
    """Photons and charged pions placed at, and within 1e-12 to 1e-6 of, every kind of cell boundary (between eta
    and phi cells, at the central/forward split, at the calorimeter's edge, at the azimuthal wrap-around) land in
    the cell of their exact direction, as the numpy calorimeter put them: the fast direction hands these to the
    exact one."""
    from autopruner.detector.simulation import particle_pass, tower_grid

    grid = tower_grid(DET)
    size_c = 2 * grid.eta_central / grid.n_eta_c
    size_f = (grid.eta_max - grid.eta_central) / grid.n_eta_f
    eta_edges = np.concatenate([
        -grid.eta_central + size_c * np.arange(grid.n_eta_c + 1),
        grid.eta_central + size_f * np.arange(grid.n_eta_f + 1),
        -grid.eta_central - size_f * np.arange(grid.n_eta_f + 1),
    ])
    phi_edges = -np.pi + 2 * np.pi / grid.n_phi_c * np.arange(grid.n_phi_c + 1)
    offsets = np.array([0.0, 1e-12, -1e-12, 1e-9, -1e-9, 1e-6, -1e-6])
    rng = np.random.default_rng(9)
    eta = np.concatenate([
        np.repeat(eta_edges, offsets.size) + np.tile(offsets, eta_edges.size),
        rng.uniform(-4, 4, phi_edges.size * offsets.size),
    ])
    phi = np.concatenate([
        rng.uniform(-np.pi, np.pi, eta_edges.size * offsets.size),
        np.repeat(phi_edges, offsets.size) + np.tile(offsets, phi_edges.size),
    ])
    n = eta.size
    pt = np.full(n, 20.0)
    pt_curl = 0.5 * 0.299792458 * DET["magnetic_field_t"] * DET["calo_radius_m"]
    pions = pt > 0
    pions[::2] = False
    charge = np.where(pions, np.where(np.arange(n) % 4 == 1, 1, -1), 0)
    # the charged pions are aimed so that the field bends them onto the boundary
    phi_at_origin = phi + np.sign(charge) * np.arcsin(pt_curl / pt)
    table = _table(
        pt * np.cos(phi_at_origin), pt * np.sin(phi_at_origin), pt * np.sinh(eta), np.where(pions, 0.13957, 0.0),
        np.where(pions, 211, 22), charge,
    )
    cell_exact, _, _ = _numpy_deposits(table, DET)
    np.testing.assert_array_equal(particle_pass(table, DET).cell, cell_exact)
