"""Feature orchestration: the 39 columns, finite values, physics sanity, I/O errors naming the file."""

from __future__ import annotations

import copy

import awkward as ak
import numpy as np
import pytest
import yaml
from toy_events import make_events

from autopruner.config import DEFAULT_CONFIG
from autopruner.io_utils import CorruptInputError
from autopruner.reconstruction import btagging, features

RECO = yaml.safe_load(DEFAULT_CONFIG.read_text())["reconstruction"]
ISSUE_FEATURES = (
    "fj_pt fj_eta fj_mass fj_tau21 fj_tau32 fj_c2 fj_d2 fj_split12 fj_split23 fj_zcut12 fj_n_constituents "
    "fj_n_tracks fj_n_trackjets tj_dr12 tj_mass12"
).split() + [
    f"tj{k}_{n}" for k in (1, 2) for n in (
        "pt_frac dr_fj mass n_tracks ip2d_llr ip3d_llr sd0_1 sd0_2 sd0_3 sv_mass sv_efrac sv_lxy_sig".split())
]


@pytest.fixture(scope="module")
def reconstructed():
    """Templates from one toy sample, candidates from an independent one (signal and background)."""
    rng = np.random.default_rng(2024)
    calib = [make_events(rng, 120, True), make_events(rng, 120, False, first_id=1000)]
    sd0, sz0, is_b = (np.concatenate(p) for p in zip(*(features.template_tracks(e, RECO) for e in calib),
                                                        strict=True))
    templates = btagging.IPTemplates.fit(sd0, sz0, is_b, RECO["ip_templates"])
    out = {}
    for name, signal, first in (("hbb", True, 5000), ("qcd", False, 9000)):
        out[name] = features.reconstruct_chunk(make_events(rng, 150, signal, first_id=first), templates, RECO)
    return out


def test_feature_names_are_the_39_of_the_issue():
    assert features.FEATURE_NAMES == tuple(ISSUE_FEATURES)
    assert len(features.FEATURE_NAMES) == 39


def test_columns_types_and_finiteness(reconstructed):
    for columns, _ in reconstructed.values():
        assert list(columns) == [*features.FEATURE_NAMES, *features.EXTRA_BRANCHES]
        n = columns["label"].size
        assert n > 30
        for name in features.FEATURE_NAMES:
            assert columns[name].dtype == np.float32 and columns[name].shape == (n,)
            assert np.all(np.isfinite(columns[name])), name
        for name, dtype in features.EXTRA_BRANCHES.items():
            assert columns[name].dtype == dtype


def test_cutflow_is_monotonic_and_matches_candidates(reconstructed):
    for columns, flow in reconstructed.values():
        counts = [flow[k] for k in features.CUTFLOW_STEPS]
        assert counts == sorted(counts, reverse=True)
        assert flow["candidates"] == columns["label"].size
        assert flow["events"] == 150


def test_labels_and_truth(reconstructed):
    sig, _ = reconstructed["hbb"]
    bkg, _ = reconstructed["qcd"]
    assert np.all(sig["label"] == 1) and np.all(bkg["label"] == 0)
    assert np.all(sig["higgs_matched"]) and not np.any(bkg["higgs_matched"])
    assert np.mean(sig["n_b_hadrons"] == 2) > 0.9 and np.all(bkg["n_b_hadrons"] == 0)
    assert np.mean(sig["tj1_flavour"] == 5) > 0.8 and np.all(bkg["tj1_flavour"] == 0)
    assert np.all(sig["fj_n_trackjets"] >= 2) and np.all(sig["tj1_pt_frac"] >= sig["tj2_pt_frac"])


def test_signal_mass_peaks_near_the_higgs_and_background_does_not(reconstructed):
    edges = np.arange(50.0, 250.0, 10.0)
    sig_hist, _ = np.histogram(reconstructed["hbb"][0]["fj_mass"], edges)
    bkg_hist, _ = np.histogram(reconstructed["qcd"][0]["fj_mass"], edges)
    assert 100.0 <= edges[np.argmax(sig_hist)] < 130.0
    assert not 100.0 <= edges[np.argmax(bkg_hist)] < 130.0


def test_b_jets_have_a_larger_sd0_tail_and_more_vertices(reconstructed):
    sig, bkg = reconstructed["hbb"][0], reconstructed["qcd"][0]
    b = sig["tj1_flavour"] == 5
    light = bkg["tj1_flavour"] == 0
    assert np.mean(sig["tj1_sd0_1"][b] > 3.0) > np.mean(bkg["tj1_sd0_1"][light] > 3.0) + 0.3
    has_sv = lambda c, m: np.mean(c["tj1_sv_mass"][m] > 0)  # noqa: E731
    assert has_sv(sig, b) > has_sv(bkg, light) + 0.3
    assert np.median(sig["tj1_ip3d_llr"][b]) > np.median(bkg["tj1_ip3d_llr"][light])


def test_generated_events_give_the_39_finite_columns(generated_candidates):
    for process, (columns, flow) in generated_candidates.items():
        assert list(columns)[:39] == list(ISSUE_FEATURES)
        assert list(columns) == [*ISSUE_FEATURES, *features.EXTRA_BRANCHES]
        assert flow["candidates"] == columns["label"].size > 50, process
        for name in ISSUE_FEATURES:
            assert columns[name].dtype == np.float32
            assert np.all(np.isfinite(columns[name])), f"{process}: {name}"
        counts = [flow[k] for k in features.CUTFLOW_STEPS]
        assert counts == sorted(counts, reverse=True), process


def test_generated_labels_follow_the_process(generated_candidates):
    sig, _ = generated_candidates["hbb"]
    bkg, _ = generated_candidates["qcd"]
    assert np.all(sig["label"] == 1) and np.all(sig["higgs_matched"])
    assert np.all(bkg["label"] == 0) and not np.any(bkg["higgs_matched"])
    assert np.all(sig["fj_n_trackjets"] >= 2) and np.all(sig["tj1_pt_frac"] >= sig["tj2_pt_frac"])
    assert np.mean(sig["n_b_hadrons"] >= 2) > np.mean(bkg["n_b_hadrons"] >= 2) + 0.5


def test_generated_signal_mass_peaks_near_the_higgs_and_background_does_not(generated_candidates):
    """Trimmed-mass mode in 10 GeV bins: 100-130 GeV for H->bb, elsewhere for QCD (falling from the cut)."""
    edges = np.arange(50.0, 260.0, 10.0)
    sig_mass, bkg_mass = (generated_candidates[p][0]["fj_mass"] for p in ("hbb", "qcd"))
    sig_hist, _ = np.histogram(sig_mass, edges)
    bkg_hist, _ = np.histogram(bkg_mass, edges)
    assert 100.0 <= edges[np.argmax(sig_hist)] < 130.0
    assert not 100.0 <= edges[np.argmax(bkg_hist)] < 130.0
    in_window = lambda m: np.mean((m > 100.0) & (m < 130.0))  # noqa: E731
    assert in_window(sig_mass) > 2 * in_window(bkg_mass)


def test_write_candidates_round_trip(reconstructed, tmp_path):
    import uproot

    columns, _ = reconstructed["hbb"]
    path = tmp_path / "cands.root"
    features.write_candidates(path, columns)
    with uproot.open(path) as f:
        tree = f["candidates"]
        assert list(tree.keys()) == [*features.FEATURE_NAMES, *features.EXTRA_BRANCHES]
        back = tree.arrays(library="np")
    for name, values in columns.items():
        np.testing.assert_array_equal(back[name], values)
    assert not list(tmp_path.glob(".*tmp*"))


def test_write_candidates_is_byte_for_byte_reproducible(reconstructed, tmp_path):
    """The same candidates written again to the same path give the same bytes: no wall-clock date, random UUID or
    temporary file name reaches the file (uproot's defaults put all three there)."""
    columns, _ = reconstructed["hbb"]
    path = tmp_path / "cands.root"
    features.write_candidates(path, columns)
    first = path.read_bytes()
    path.unlink()
    features.write_candidates(path, columns)
    assert path.read_bytes() == first


def test_write_candidates_handles_no_candidates(tmp_path):
    import uproot

    features.write_candidates(tmp_path / "empty.root", features._concatenate([]))
    with uproot.open(tmp_path / "empty.root") as f:
        assert f["candidates"].num_entries == 0
        assert len(f["candidates"].keys()) == 39 + len(features.EXTRA_BRANCHES)


def test_missing_event_file_is_named(tmp_path):
    missing = tmp_path / "nope" / "shard000.root"
    with pytest.raises(FileNotFoundError, match="shard000.root"):
        features.reconstruct_shard(missing, tmp_path / "t.npz", RECO)
    with pytest.raises(FileNotFoundError, match="shard000.root"):
        features.track_jets_for_templates(missing, RECO)


def test_garbage_event_file_is_named(tmp_path):
    bad = tmp_path / "calib000.root"
    bad.write_bytes(b"root\x00" * 10)
    with pytest.raises((CorruptInputError, OSError), match="calib000.root"):
        features.track_jets_for_templates(bad, RECO)


@pytest.mark.parametrize("keep_fraction", [0.5, 0.9])
def test_truncated_generated_event_file_is_named(generated_shards, generated_templates, tmp_path, keep_fraction):
    """A real event file cut short (an interrupted copy) fails loudly, naming the file, in both readers."""
    data = generated_shards["qcd", "shard000"].read_bytes()
    bad = tmp_path / "shard007.root"
    bad.write_bytes(data[: int(len(data) * keep_fraction)])
    _, template_path = generated_templates
    with pytest.raises((CorruptInputError, OSError), match="shard007.root"):
        features.reconstruct_shard(bad, template_path, RECO)
    with pytest.raises((CorruptInputError, OSError), match="shard007.root"):
        features.track_jets_for_templates(bad, RECO)


def test_empty_chunk_gives_no_candidates(reconstructed):
    rng = np.random.default_rng(1)
    events = make_events(rng, 3, False)
    cut = ak.Array({k: (events[k][:, :0] if events[k].ndim > 1 else events[k]) for k in events.fields})
    templates = btagging.IPTemplates.fit(np.r_[5.0, -1.0], np.r_[1.0, 0.0], np.r_[True, False],
                                         RECO["ip_templates"])
    columns, flow = features.reconstruct_chunk(cut, templates, RECO)
    assert flow["events"] == 3 and flow["candidates"] == 0
    assert all(v.size == 0 for v in columns.values())


def test_btag_inputs_use_only_selected_tracks_and_track_jets_all_tracks():
    """Templates and candidate b-tagging inputs take the btag_track_selection; track-jet clustering does not.

    With a selection no track passes, the templates get no tracks and every b-tagging input is its default, while the
    track jets and every other feature are those of the default selection.
    """
    rng = np.random.default_rng(77)
    events = make_events(rng, 60, True)
    none_pass = copy.deepcopy(RECO)
    none_pass["btag_track_selection"]["pt_min_gev"] = 1e6
    assert features.template_tracks(events, RECO)[0].size > 100
    assert features.template_tracks(events, none_pass)[0].size == 0
    templates = btagging.IPTemplates.fit(np.r_[5.0, -1.0], np.r_[1.0, 0.0], np.r_[True, False], RECO["ip_templates"])
    default, _ = features.reconstruct_chunk(events, templates, RECO)
    empty, _ = features.reconstruct_chunk(events, templates, none_pass)
    assert default["label"].size > 20
    btag = {f"tj{k}_{key}" for k in (1, 2) for key in btagging.BTAG_FEATURE_KEYS}
    for name in features.FEATURE_NAMES:
        if name not in btag:
            np.testing.assert_array_equal(empty[name], default[name], err_msg=name)
    for k in (1, 2):
        assert np.all(empty[f"tj{k}_ip3d_llr"] == 0.0) and np.all(empty[f"tj{k}_sd0_1"] == btagging.SD0_MISSING)
        assert np.all(empty[f"tj{k}_sv_mass"] == btagging.SV_MASS_DEFAULT_GEV)
    assert np.mean(default["tj1_sv_mass"] > 0) > 0.5  # the default selection keeps the b-decay tracks


def test_selected_template_and_candidate_tracks_pass_every_cut():
    """``btag_tracks_of_jets`` (the one source of b-tagging tracks) returns only tracks inside the configured cuts."""
    rng = np.random.default_rng(78)
    chunk = features.load_chunk(make_events(rng, 40, True), RECO)
    tj = features.build_track_jets(chunk.tracks, chunk.hadrons, RECO["track_jets"])
    rows = np.arange(tj.pt.size)
    pv_z = features.primary_vertex_z(chunk.tracks)[tj.event]
    every = features.tracks_of_jets(chunk.tracks, tj, rows)
    selected = features.btag_tracks_of_jets(chunk.tracks, tj, rows, pv_z, RECO)
    sel = RECO["btag_track_selection"]
    z0_sin_theta = (selected.z0 - pv_z) / np.cosh(selected.eta)
    assert ak.all(abs(selected.d0) < sel["d0_max_mm"]) and ak.all(selected.pt > sel["pt_min_gev"])
    assert ak.all(abs(z0_sin_theta) < sel["z0_sin_theta_max_mm"])
    assert 0 < ak.count(selected.pt) < ak.count(every.pt)
