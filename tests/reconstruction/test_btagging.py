"""b-tagging inputs: lifetime sign convention, IP templates, per-jet features, b vs light on toy and generated jets."""

import awkward as ak
import numpy as np
import pytest
from toy_tracks import make_jets, make_tracks, to_awkward

from autopruner.io_utils import CorruptInputError
from autopruner.reconstruction.btagging import (
    BTAG_FEATURE_KEYS,
    SD0_MISSING,
    SV_EFRAC_DEFAULT,
    SV_LXY_SIG_DEFAULT,
    SV_MASS_DEFAULT_GEV,
    IPTemplates,
    TrackSelection,
    estimate_pv_z,
    estimate_pv_z_batch,
    select_tracks,
    signed_d0_significance,
    signed_z0_significance,
    track_jet_btag_features,
    track_selection_cuts,
)

TEMPLATE_CFG = {"sd0_bins": 60, "sd0_range": [-30.0, 30.0], "sz0_bins": 40, "sz0_range": [-30.0, 30.0]}


def _hand_built(vertex_sign: float):
    """One jet (eta 0.5, phi 0.3), four unsmeared tracks from a vertex 2 mm up- or downstream of the PV."""
    eta_j, phi_j, pv_z = 0.5, 0.3, 12.0
    axis = np.array([np.cos(phi_j), np.sin(phi_j), np.sinh(eta_j)])
    origin = np.tile(np.array([0.0, 0.0, pv_z]) + vertex_sign * 2.0 * axis, (4, 1))
    eta = eta_j + np.array([0.05, -0.05, 0.03, -0.03])
    phi = phi_j + np.array([0.05, -0.05, -0.04, 0.04])
    cols = make_tracks(np.random.default_rng(0), origin, np.full(4, 10.0), eta, phi)
    d0_true = np.cos(phi) * origin[:, 1] - np.sin(phi) * origin[:, 0]
    z0_true = origin[:, 2] - (origin[:, 0] * np.cos(phi) + origin[:, 1] * np.sin(phi)) * np.sinh(eta)
    cols["d0"], cols["z0"] = d0_true, z0_true
    jets = ak.zip({"pt": [40.0], "eta": [eta_j], "phi": [phi_j], "m": [5.0]})
    return to_awkward(cols, np.array([4])), jets, np.array([pv_z])


@pytest.mark.parametrize("vertex_sign", [1.0, -1.0])
def test_lifetime_sign_convention(vertex_sign):
    tracks, jets, pv_z = _hand_built(vertex_sign)
    sd0 = ak.to_numpy(ak.flatten(signed_d0_significance(tracks, jets)))
    sz0 = ak.to_numpy(ak.flatten(signed_z0_significance(tracks, jets, pv_z)))
    assert np.all(np.sign(sd0) == vertex_sign) and np.all(np.abs(sd0) > 3)
    assert np.all(np.sign(sz0) == vertex_sign) and np.all(np.abs(sz0) > 1)
    # magnitudes are the plain significances: the sign is the only thing the jet axis changes
    np.testing.assert_allclose(np.abs(sd0), np.abs(ak.flatten(tracks.d0 / tracks.d0_err)))


def test_track_selection_removes_tracks_failing_each_cut():
    """Jet 0: tracks failing one cut each (and one passing all), z0 w.r.t. its primary vertex; jet 1: none pass."""
    pv_z = np.array([20.0, -5.0])
    # d0 [mm], z0 - z_PV [mm], eta, pT [GeV]; z0 sin(theta) = (z0 - z_PV) / cosh(eta)
    rows = [
        (0.5, 1.0, 0.0, 5.0),  # passes every cut
        (-0.99, 2.0, 1.5, 1.01),  # passes: |z0| sin(theta) = 2 / cosh(1.5) = 0.85 mm
        (1.2, 0.0, 0.0, 5.0),  # fails |d0| < 1 mm
        (-1.2, 0.0, 0.0, 5.0),  # fails |d0| < 1 mm (negative d0)
        (0.0, 1.6, 0.0, 5.0),  # fails |z0 sin(theta)| < 1.5 mm
        (0.0, -4.0, 1.0, 5.0),  # fails: |z0| sin(theta) = 4 / cosh(1) = 2.6 mm
        (0.0, 0.0, 0.0, 0.9),  # fails pT > 1 GeV
        (2.0, 3.0, 0.0, 0.5),  # fails all three
    ]
    d0, dz0, eta, pt = (np.array(col) for col in zip(*rows, strict=True))
    n0 = len(rows)
    columns = {"d0": np.append(d0, 5.0), "z0": np.append(dz0 + pv_z[0], pv_z[1] + 3.0), "eta": np.append(eta, 0.0),
               "pt": np.append(pt, 0.5), "phi": np.zeros(n0 + 1), "d0_err": np.full(n0 + 1, 0.02)}
    tracks = to_awkward(columns, np.array([n0, 1]))
    cuts = track_selection_cuts(tracks, pv_z, TrackSelection())
    assert list(cuts) == ["d0", "z0_sin_theta", "pt"]
    np.testing.assert_array_equal(cuts["d0"], [1, 1, 0, 0, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(cuts["z0_sin_theta"], [1, 1, 1, 1, 0, 0, 1, 0, 0])
    np.testing.assert_array_equal(cuts["pt"], [1, 1, 1, 1, 1, 1, 0, 0, 0])
    selected = select_tracks(tracks, pv_z, TrackSelection())
    assert ak.to_list(ak.num(selected, axis=1)) == [2, 0]
    np.testing.assert_array_equal(ak.to_numpy(selected.d0[0]), [0.5, -0.99])
    # the cut values come from the config; looser cuts keep more
    loose = TrackSelection.from_config({"btag_track_selection": {"d0_max_mm": 10.0, "z0_sin_theta_max_mm": 5.0,
                                                                 "pt_min_gev": 0.1}})
    assert ak.to_list(ak.num(select_tracks(tracks, pv_z, loose), axis=1)) == [n0, 1]


def test_jets_without_selected_tracks_get_the_defaults():
    rng = np.random.default_rng(12)
    templates = _fitted_templates(rng, n_jets=300)
    tracks, jets, pv_z = make_jets(rng, 50, "b")
    none = select_tracks(tracks, pv_z, TrackSelection(pt_min_gev=1e6))
    features = track_jet_btag_features(none, jets, pv_z, templates)
    assert np.all(features["ip2d_llr"] == 0.0) and np.all(features["ip3d_llr"] == 0.0)
    assert np.all(features["sd0_1"] == SD0_MISSING) and np.all(features["sv_mass"] == SV_MASS_DEFAULT_GEV)


def _fitted_templates(rng: np.random.Generator, n_jets: int = 3000) -> IPTemplates:
    """Templates from toy b and light jets (every track of a b jet counts as b, as for labelled jets)."""
    sd0, sz0, is_b = [], [], []
    for flavour in ("b", "light"):
        tracks, jets, pv_z = make_jets(rng, n_jets, flavour)
        sd0.append(ak.to_numpy(ak.flatten(signed_d0_significance(tracks, jets))))
        sz0.append(ak.to_numpy(ak.flatten(signed_z0_significance(tracks, jets, pv_z))))
        is_b.append(np.full(sd0[-1].size, flavour == "b"))
    return IPTemplates.fit(np.concatenate(sd0), np.concatenate(sz0), np.concatenate(is_b), TEMPLATE_CFG)


def test_templates_positive_for_b_like_negative_for_light_like_and_finite():
    templates = _fitted_templates(np.random.default_rng(21))
    assert templates.llr_2d(np.array([10.0]))[0] > 1.0
    assert templates.llr_2d(np.array([0.0]))[0] < 0.0
    assert templates.llr_3d(np.array([10.0]), np.array([5.0]))[0] > 1.0
    assert templates.llr_3d(np.array([0.0]), np.array([0.0]))[0] < 0.0
    extreme = np.array([-1e12, -31.0, 31.0, 1e12, np.inf, -np.inf, np.nan])
    assert np.all(np.isfinite(templates.llr_2d(extreme)))
    assert np.all(np.isfinite(templates.llr_3d(extreme, extreme[::-1])))
    # beyond the range the edge bin is used
    assert templates.llr_2d(np.array([1e6]))[0] == templates.llr_2d(np.array([29.9]))[0]


def test_templates_need_both_classes():
    with pytest.raises(ValueError, match="b and light"):
        IPTemplates.fit(np.zeros(5), np.zeros(5), np.ones(5, bool), TEMPLATE_CFG)


def test_template_save_load_round_trip_and_errors(tmp_path):
    templates = _fitted_templates(np.random.default_rng(4), n_jets=300)
    path = tmp_path / "ip_templates.npz"
    templates.save(path)
    loaded = IPTemplates.load(path)
    values = np.linspace(-40, 40, 101)
    np.testing.assert_array_equal(loaded.llr_2d(values), templates.llr_2d(values))
    np.testing.assert_array_equal(loaded.llr_3d(values, -values), templates.llr_3d(values, -values))
    assert loaded.n_b_tracks == templates.n_b_tracks
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        IPTemplates.load(tmp_path / "missing.npz")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CorruptInputError, match="truncated.npz"):
        IPTemplates.load(truncated)


def test_features_shapes_defaults_and_finiteness():
    rng = np.random.default_rng(9)
    templates = _fitted_templates(rng, n_jets=500)
    tracks, jets, pv_z = make_jets(rng, 400, "light")
    # make the first jet a two-track jet, and the second a jet with an unusable error
    two = tracks[:1][:, :2]
    tracks = ak.concatenate([two, tracks[1:]], axis=0)
    broken = ak.with_field(tracks, ak.where(ak.local_index(tracks) == 0, 0.0, tracks.d0_err), "d0_err")
    features = track_jet_btag_features(broken, jets, pv_z, templates)
    assert tuple(features) == BTAG_FEATURE_KEYS
    for name, values in features.items():
        assert values.dtype == np.float32 and values.shape == (400,), name
        assert np.all(np.isfinite(values)), name
    assert features["sd0_3"][0] == SD0_MISSING and features["sd0_2"][0] != SD0_MISSING
    assert np.all(features["sd0_1"] >= features["sd0_2"]) and np.all(features["sd0_2"] >= features["sd0_3"])
    none = features["sv_mass"] == SV_MASS_DEFAULT_GEV
    assert none.mean() > 0.9
    assert np.all(features["sv_efrac"][none] == SV_EFRAC_DEFAULT)
    assert np.all(features["sv_lxy_sig"][none] == SV_LXY_SIG_DEFAULT)
    assert np.all(features["sv_lxy_sig"][~none] > 3.0)


def test_b_jets_have_larger_positive_sd0_tail_more_vertices_and_higher_llr():
    rng = np.random.default_rng(17)
    templates = _fitted_templates(rng, n_jets=1500)
    stats = {}
    for flavour in ("b", "light"):
        tracks, jets, pv_z = make_jets(rng, 2000, flavour)
        sd0 = ak.to_numpy(ak.flatten(signed_d0_significance(tracks, jets)))
        features = track_jet_btag_features(tracks, jets, pv_z, templates)
        stats[flavour] = {
            "tail": np.mean(sd0 > 3.0),
            "neg_tail": np.mean(sd0 < -3.0),
            "sv": np.mean(features["sv_mass"] > 0),
            "ip3d": np.median(features["ip3d_llr"]),
        }
    b, light = stats["b"], stats["light"]
    assert b["tail"] > 10 * light["tail"]
    assert b["tail"] > 10 * b["neg_tail"]  # the b tail is a lifetime (positive) tail
    assert abs(light["tail"] - light["neg_tail"]) < 0.01  # light jets are symmetric
    assert b["sv"] > 0.5 and light["sv"] < 0.02
    assert b["ip3d"] > 0 > light["ip3d"]


def test_generated_b_tracks_have_a_positive_lifetime_tail(generated_template_tracks):
    """Template tracks of generated events (track-jet labels from ghost-associated hadrons): b vs light."""
    sd0, sz0, is_b = generated_template_tracks
    assert is_b.sum() > 3000 and (~is_b).sum() > 3000
    tail = {name: (np.mean(sd0[m] > 3.0), np.mean(sd0[m] < -3.0)) for name, m in (("b", is_b), ("light", ~is_b))}
    assert tail["b"][0] > 0.1 and tail["b"][0] > 10 * tail["light"][0]
    assert tail["b"][0] > 5 * tail["b"][1]  # the b tail is on the lifetime (positive) side
    assert abs(tail["light"][0] - tail["light"][1]) < 0.01  # light: resolution only, nearly symmetric
    assert np.mean(sz0[is_b] > 3.0) > 5 * np.mean(sz0[~is_b] > 3.0)


def test_generated_b_track_jets_have_larger_sd0_tail_and_more_vertices(generated_candidates):
    """The two leading track jets of all generated candidates, split by their b / light label."""
    jets = {f: np.concatenate([cols[f"tj{k}_{f}"] for cols, _ in generated_candidates.values() for k in (1, 2)])
            for f in ("flavour", "sd0_1", "sv_mass", "sv_lxy_sig", "ip3d_llr")}
    b, light = jets["flavour"] == 5, jets["flavour"] == 0
    assert b.sum() > 100 and light.sum() > 100
    frac = lambda x, m: float(np.mean(x[m]))  # noqa: E731
    assert frac(jets["sd0_1"] > 3.0, b) > frac(jets["sd0_1"] > 3.0, light) + 0.5
    has_sv = jets["sv_mass"] != SV_MASS_DEFAULT_GEV
    assert np.all((jets["sv_lxy_sig"] != SV_LXY_SIG_DEFAULT) == has_sv)
    assert frac(has_sv, b) > 0.5 and frac(has_sv, b) > frac(has_sv, light) + 0.4
    assert np.median(jets["ip3d_llr"][b]) > 0 > np.median(jets["ip3d_llr"][light])


def test_pv_z_estimate_resists_displaced_tracks():
    rng = np.random.default_rng(1)
    z0 = np.concatenate([rng.normal(-20.0, 0.05, 20), rng.normal(-17.0, 0.5, 5)])
    pt = np.concatenate([rng.uniform(1, 20, 20), rng.uniform(1, 40, 5)])
    assert abs(estimate_pv_z(z0, pt) + 20.0) < 0.05
    batch = estimate_pv_z_batch(ak.Array([z0, [], z0[:3] + 5.0]), ak.Array([pt, [], pt[:3]]))
    assert batch[1] == 0.0 and abs(batch[0] + 20.0) < 0.05 and abs(batch[2] + 15.0) < 0.2
