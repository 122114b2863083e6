"""Secondary-vertex fit: recovers known vertices within errors, unit pulls, no vertex in prompt-only jets, no
two-track vertex at the K0S or Lambda mass."""

import awkward as ak
import numpy as np
import pytest
from toy_tracks import BEAM_SPOT_XY_MM, PION_MASS_GEV, make_jets, make_tracks, to_awkward

from autopruner.kinematics import two_body
from autopruner.reconstruction.vertexing import (
    K0S_MASS_GEV,
    LAMBDA_MASS_GEV,
    PROTON_MASS_GEV,
    VertexFitSettings,
    fit_secondary_vertices,
)

NO_V0_VETO = VertexFitSettings(k0s_window_gev=0.0, lambda_window_gev=0.0)


def _displaced_vertex_jets(rng: np.random.Generator, n_jets: int, n_tracks: int = 4):
    """Jets whose tracks all come from one known vertex 1-5 mm downstream of a beam-spot-smeared PV."""
    eta_j, phi_j = rng.uniform(-1.5, 1.5, n_jets), rng.uniform(-np.pi, np.pi, n_jets)
    pv = np.column_stack([rng.normal(0, BEAM_SPOT_XY_MM, (n_jets, 2)), rng.normal(0, 45.0, n_jets)])
    lxy = rng.uniform(1.0, 5.0, n_jets)
    vertex = pv + np.column_stack([lxy * np.cos(phi_j), lxy * np.sin(phi_j), lxy * np.sinh(eta_j)])
    idx = np.repeat(np.arange(n_jets), n_tracks)
    eta = eta_j[idx] + rng.normal(0, 0.08, idx.size)
    phi = phi_j[idx] + rng.normal(0, 0.08, idx.size)
    pt = rng.uniform(3.0, 20.0, idx.size)
    tracks = to_awkward(make_tracks(rng, vertex[idx], pt, eta, phi), np.full(n_jets, n_tracks))
    jets = ak.zip({"pt": np.full(n_jets, 40.0), "eta": eta_j, "phi": phi_j, "m": np.full(n_jets, 5.0)})
    return tracks, jets, pv, vertex


def _selected(tracks: ak.Array) -> ak.Array:
    """Tracks passing the default displaced-track selection of the fit."""
    settings = VertexFitSettings()
    return (abs(tracks.d0 / tracks.d0_err) > settings.abs_d0_sig_min) & (
        tracks.pt > settings.track_pt_min_gev
    )


def test_fit_recovers_known_vertex_with_unit_pulls():
    rng = np.random.default_rng(11)
    tracks, jets, pv, vertex = _displaced_vertex_jets(rng, 600)
    sv = fit_secondary_vertices(tracks, jets)
    assert sv.has_vertex.mean() > 0.95
    ok = sv.has_vertex
    for axis in range(3):
        pull = (sv.position_mm[ok, axis] - vertex[ok, axis]) / np.sqrt(sv.covariance_mm2[ok, axis, axis])
        assert abs(pull.mean()) < 0.15, axis
        assert 0.85 < pull.std() < 1.15, axis
    lxy_true = np.hypot(*(vertex - pv)[:, :2].T)
    lxy_pull = (sv.lxy_mm[ok] - lxy_true[ok]) / sv.lxy_err_mm[ok]
    assert abs(lxy_pull.mean()) < 0.15
    assert 0.85 < lxy_pull.std() < 1.15
    assert 0.8 < np.mean(sv.chi2[ok] / sv.ndf[ok]) < 1.2
    assert np.all(sv.n_tracks[ok] >= 2)


def test_outlier_track_is_dropped():
    rng = np.random.default_rng(5)
    tracks, jets, _, _ = _displaced_vertex_jets(rng, 200, n_tracks=4)
    # shift the first track of every jet by 40 sigma in d0: it must be removed, the other three kept
    shift = ak.unflatten(np.tile([40.0, 0.0, 0.0, 0.0], 200), np.full(200, 4)) * tracks.d0_err
    tracks = ak.with_field(tracks, tracks.d0 + shift, "d0")
    good_selected = ak.to_numpy(ak.sum(_selected(tracks)[:, 1:], axis=1))
    sv = fit_secondary_vertices(tracks, jets)
    testable = good_selected == 3
    assert testable.sum() > 100
    assert sv.has_vertex[testable].mean() > 0.9
    assert not ak.any(sv.track_in_vertex[testable, 0])
    assert np.mean(sv.n_tracks[testable & sv.has_vertex] == 3) > 0.93


def test_prompt_only_jets_give_no_vertex():
    rng = np.random.default_rng(3)
    tracks, jets, _ = make_jets(rng, 3000, "light")
    sv = fit_secondary_vertices(tracks, jets)
    assert sv.has_vertex.mean() < 0.01
    # the same jets with perfectly measured prompt tracks (|d0| below the selection): never a vertex
    exact = ak.with_field(tracks, tracks.d0 * 0.0, "d0")
    assert not fit_secondary_vertices(exact, jets).has_vertex.any()


def test_vertex_mass_and_energy_fraction_use_the_pion_hypothesis():
    rng = np.random.default_rng(8)
    tracks, jets, _, _ = _displaced_vertex_jets(rng, 50, n_tracks=3)
    # add one prompt, well-measured track per jet: in E_all, never in the vertex
    prompt = ak.zip({k: ak.values_astype(tracks[k][:, :1], np.float64) for k in tracks.fields})
    prompt = ak.with_field(prompt, prompt.d0 * 0.0, "d0")
    all_tracks = ak.concatenate([tracks, prompt], axis=1)
    sv = fit_secondary_vertices(all_tracks, jets)
    testable = ak.to_numpy(ak.all(_selected(tracks), axis=1))
    ok = testable & sv.has_vertex & (sv.n_tracks == 3)
    assert ok.sum() > 0.9 * testable.sum() > 25
    p = tracks.pt * np.cosh(tracks.eta)
    e = np.sqrt(p**2 + PION_MASS_GEV**2)
    px, py, pz = (
        tracks.pt * np.cos(tracks.phi),
        tracks.pt * np.sin(tracks.phi),
        tracks.pt * np.sinh(tracks.eta),
    )
    mass = np.sqrt(
        ak.sum(e, axis=1) ** 2 - ak.sum(px, axis=1) ** 2 - ak.sum(py, axis=1) ** 2 - ak.sum(pz, axis=1) ** 2
    )
    e_prompt = np.sqrt((prompt.pt * np.cosh(prompt.eta)) ** 2 + PION_MASS_GEV**2)
    efrac = ak.sum(e, axis=1) / (ak.sum(e, axis=1) + ak.sum(e_prompt, axis=1))
    np.testing.assert_allclose(sv.mass_gev[ok], ak.to_numpy(mass)[ok], rtol=1e-5)  # E^2 - p^2 cancels
    np.testing.assert_allclose(sv.energy_fraction[ok], ak.to_numpy(efrac)[ok], rtol=1e-9)


@pytest.mark.parametrize("bad", [0.0, np.nan])
def test_unusable_errors_do_not_crash_or_fake_vertices(bad):
    rng = np.random.default_rng(2)
    tracks, jets, _, _ = _displaced_vertex_jets(rng, 20)
    tracks = ak.with_field(tracks, tracks.d0_err * 0.0 + bad, "d0_err")
    sv = fit_secondary_vertices(tracks, jets, VertexFitSettings())
    assert not sv.has_vertex.any()
    assert np.all(np.isfinite(sv.lxy_significance))


def test_empty_batch():
    tracks = to_awkward(
        {k: np.zeros(0) for k in ("pt", "eta", "phi", "charge", "d0", "z0", "d0_err", "z0_err")},
        np.zeros(0, dtype=np.int64),
    )
    jets = ak.zip({"pt": np.zeros(0), "eta": np.zeros(0), "phi": np.zeros(0), "m": np.zeros(0)})
    assert fit_secondary_vertices(tracks, jets).has_vertex.size == 0


def _two_body_vertex_jets(rng: np.random.Generator, n_jets: int, parent_mass_gev: float, daughter_masses_gev,
                          charges=(1, -1)):
    """Jets holding only the two charged daughters of a parent decaying 2-10 mm downstream of the beamline.

    The parent (pT 8-30 GeV) flies along the jet axis and decays isotropically; daughter 1 gets ``charges[0]``.
    """
    eta_j, phi_j = rng.uniform(-1.5, 1.5, n_jets), rng.uniform(-np.pi, np.pi, n_jets)
    pt_parent = rng.uniform(8.0, 30.0, n_jets)
    px, py, pz = pt_parent * np.cos(phi_j), pt_parent * np.sin(phi_j), pt_parent * np.sinh(eta_j)
    e = np.sqrt(px**2 + py**2 + pz**2 + parent_mass_gev**2)
    cos_theta, phi_star = rng.uniform(-1.0, 1.0, n_jets), rng.uniform(0.0, 2 * np.pi, n_jets)
    m1, m2 = daughter_masses_gev
    daughters = np.array([two_body(*args, parent_mass_gev, m1, m2, c, f)
                          for *args, c, f in zip(px, py, pz, e, cos_theta, phi_star, strict=True)])
    p = daughters.reshape(n_jets, 2, 4)[:, :, :3].reshape(-1, 3)  # daughter 1, daughter 2 of jet 0, then jet 1...
    pt = np.hypot(p[:, 0], p[:, 1])
    lxy = rng.uniform(2.0, 10.0, n_jets)
    vertex = np.column_stack([lxy * np.cos(phi_j), lxy * np.sin(phi_j), lxy * np.sinh(eta_j)])
    columns = make_tracks(rng, np.repeat(vertex, 2, axis=0), pt, np.arcsinh(p[:, 2] / pt), np.arctan2(p[:, 1], p[:, 0]))
    columns["charge"] = np.tile(np.asarray(charges, dtype=np.int8), n_jets)
    tracks = to_awkward(columns, np.full(n_jets, 2))
    jets = ak.zip({"pt": pt_parent, "eta": eta_j, "phi": phi_j, "m": np.full(n_jets, parent_mass_gev)})
    return tracks, jets


@pytest.mark.parametrize(
    "parent_mass_gev,daughter_masses_gev",
    [(K0S_MASS_GEV, (PION_MASS_GEV, PION_MASS_GEV)), (LAMBDA_MASS_GEV, (PROTON_MASS_GEV, PION_MASS_GEV))],
    ids=["K0S", "Lambda"],
)
def test_two_track_vertex_at_a_v0_mass_is_rejected(parent_mass_gev, daughter_masses_gev):
    rng = np.random.default_rng(19)
    tracks, jets = _two_body_vertex_jets(rng, 600, parent_mass_gev, daughter_masses_gev)
    testable = ak.to_numpy(ak.all(_selected(tracks), axis=1))  # both daughters enter the fit
    assert testable.sum() > 150
    assert fit_secondary_vertices(tracks, jets, NO_V0_VETO).has_vertex[testable].mean() > 0.9  # a good vertex
    sv = fit_secondary_vertices(tracks, jets)
    assert not sv.has_vertex.any()
    assert np.all(sv.n_tracks == 0) and not ak.any(sv.track_in_vertex)


def test_b_like_two_track_vertex_is_kept():
    """Opposite-charge pairs far from the V0 masses, and same-charge pairs at the K0S mass, keep their vertex."""
    rng = np.random.default_rng(23)
    for mass_gev, charges in ((2.0, (1, -1)), (K0S_MASS_GEV, (1, 1))):
        tracks, jets = _two_body_vertex_jets(rng, 400, mass_gev, (PION_MASS_GEV, PION_MASS_GEV), charges)
        sv = fit_secondary_vertices(tracks, jets)
        testable = ak.to_numpy(ak.all(_selected(tracks), axis=1))
        assert testable.sum() > 150 and sv.has_vertex[testable].mean() > 0.9, mass_gev
        np.testing.assert_array_equal(sv.has_vertex, fit_secondary_vertices(tracks, jets, NO_V0_VETO).has_vertex)
        np.testing.assert_allclose(sv.mass_gev[sv.has_vertex], mass_gev, rtol=1e-5)


def test_v0_veto_leaves_vertices_with_more_tracks_alone():
    """A three-track b-like vertex is never vetoed, whatever the masses of its track pairs."""
    rng = np.random.default_rng(29)
    tracks, jets, _, _ = _displaced_vertex_jets(rng, 300, n_tracks=3)
    tracks = ak.with_field(tracks, ak.unflatten(np.tile(np.array([1, -1, 1], np.int8), 300), np.full(300, 3)),
                           "charge")
    reference = fit_secondary_vertices(tracks, jets, NO_V0_VETO)
    three = reference.n_tracks == 3
    assert three.sum() > 150
    sv = fit_secondary_vertices(tracks, jets)
    np.testing.assert_array_equal(sv.n_tracks[three], 3)
    np.testing.assert_array_equal(sv.position_mm[three], reference.position_mm[three])
