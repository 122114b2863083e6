"""Large-R jets: trimming drops exactly the soft subjets, ghosts do not move jets, leading-jet selection."""

from __future__ import annotations

import numpy as np
import pytest
from toy_events import make_events

from autopruner.reconstruction.features import Collection
from autopruner.reconstruction.large_r_jets import (
    GHOST_SCALE,
    FlatP4,
    cluster_antikt_with_ghosts,
    concatenate_per_event,
    select_leading,
    trim,
)

F_CUT, R_SUB = 0.05, 0.2


def _cluster_jet(rng, fractions, pt_gev=500.0):
    """One jet made of tight clusters 0.5 apart in eta (so each is exactly one k_T R=0.2 subjet)."""
    pts, etas, phis, owner = [], [], [], []
    for k, frac in enumerate(fractions):
        n = 5
        share = rng.dirichlet(np.ones(n)) * frac * pt_gev
        pts.append(share)
        etas.append(-0.6 + 0.5 * k + rng.normal(0, 0.01, n))
        phis.append(1.0 + rng.normal(0, 0.01, n))
        owner.append(np.full(n, k))
    pt, eta, phi = (np.concatenate(x) for x in (pts, etas, phis))
    p4 = FlatP4.from_pt_eta_phi(pt, eta, phi, pt * np.cosh(eta), [0, pt.size])
    return p4, np.concatenate(owner)


def test_trimming_removes_exactly_the_subthreshold_subjets():
    rng = np.random.default_rng(7)
    fractions = np.array([0.55, 0.30, 0.055, 0.045, 0.03, 0.02])  # sums to 1: two just around 5 %
    p4, owner = _cluster_jet(rng, fractions)
    n = p4.px.size
    trimmed = trim(p4, np.arange(n), np.array([0, n]), R_SUB, F_CUT)
    # the cluster fractions are of the jet's scalar pT; compute the kept set from the true vector sum
    jet_pt = np.hypot(p4.px.sum(), p4.py.sum())
    cluster_pt = np.array([np.hypot(p4.px[owner == k].sum(), p4.py[owner == k].sum()) for k in range(6)])
    expected_clusters = np.flatnonzero(cluster_pt >= F_CUT * jet_pt)
    assert 0 < expected_clusters.size < 6
    assert np.array_equal(trimmed.constituents, np.flatnonzero(np.isin(owner, expected_clusters)))
    assert int(np.sum(trimmed.subjet_kept)) == expected_clusters.size
    kept = np.isin(owner, expected_clusters)
    for name in ("px", "py", "pz", "e"):
        assert getattr(trimmed, name)[0] == pytest.approx(getattr(p4, name)[kept].sum(), rel=1e-12)


def test_trimming_keeps_everything_with_zero_fcut():
    p4, _ = _cluster_jet(np.random.default_rng(3), [0.5, 0.3, 0.2])
    n = p4.px.size
    trimmed = trim(p4, np.arange(n), np.array([0, n]), R_SUB, 0.0)
    assert np.array_equal(trimmed.constituents, np.arange(n))


@pytest.fixture(scope="module")
def toy_batch():
    rng = np.random.default_rng(11)
    import awkward as ak

    events = ak.concatenate([make_events(rng, 40, True), make_events(rng, 40, False, first_id=40)])
    towers = Collection.from_events(events, "tower", ("pt", "eta", "phi", "e"))
    tracks = Collection.from_events(events, "track", ("pt", "eta", "phi", "e"))
    return (FlatP4.from_pt_eta_phi(towers["pt"], towers["eta"], towers["phi"], towers["e"], towers.offsets),
            FlatP4.from_pt_eta_phi(tracks["pt"], tracks["eta"], tracks["phi"], tracks["e"], tracks.offsets))


def test_ghosts_leave_large_r_momenta_unchanged(toy_batch):
    towers, tracks = toy_batch
    rng = np.random.default_rng(5)
    n_events = towers.offsets.size - 1
    # dense random ghosts on top of the tracks: every jet area gets some
    n_rand = np.full(n_events, 200)
    n_tot = int(n_rand.sum())
    pt, eta, phi = rng.uniform(1, 50, n_tot), rng.uniform(-3, 3, n_tot), rng.uniform(-4, 4, n_tot)
    rand = FlatP4.from_pt_eta_phi(pt, eta, phi, pt * np.cosh(eta), np.r_[0, np.cumsum(n_rand)])
    plain = cluster_antikt_with_ghosts(towers, {}, 1.0, 2.0)
    ghosted = cluster_antikt_with_ghosts(
        towers, {"tracks": tracks.scaled(GHOST_SCALE), "random": rand.scaled(GHOST_SCALE)}, 1.0, 2.0)
    assert ghosted.ghosts["tracks"].size > 0.5 * tracks.px.size

    def hard_jets_in_order(jets):
        """Jets above 20 GeV (pT of their towers), by event and pT. (Soft jets can trade a grid tower when two
        distances tie exactly; the ghosts' 1e-10 nudge then breaks the tie the other way.)"""
        jet_of = np.repeat(np.arange(jets.n_jets), np.diff(jets.constituent_offsets))
        real_pt = np.hypot(np.bincount(jet_of, towers.px[jets.constituents], jets.n_jets),
                           np.bincount(jet_of, towers.py[jets.constituents], jets.n_jets))
        order = np.lexsort((-real_pt, jets.event))
        return order[real_pt[order] > 20.0]

    a, b = hard_jets_in_order(plain), hard_jets_in_order(ghosted)
    assert a.size == b.size >= n_events
    for name in ("px", "py", "pz", "e"):
        ref = getattr(plain, name)[a]
        scale = np.maximum(np.abs(ref), np.hypot(plain.px, plain.py)[a])
        assert np.max(np.abs(getattr(ghosted, name)[b] - ref) / scale) < 1e-6
    for ja, jb in zip(a, b, strict=True):  # the same towers end up in the same jets
        ca = plain.constituents[plain.constituent_offsets[ja]:plain.constituent_offsets[ja + 1]]
        cb = ghosted.constituents[ghosted.constituent_offsets[jb]:ghosted.constituent_offsets[jb + 1]]
        assert np.array_equal(np.sort(ca), np.sort(cb))

def test_concatenate_per_event_keeps_order_and_provenance():
    a = FlatP4(*(np.array([1.0, 2.0, 3.0]),) * 4, offsets=np.array([0, 2, 3]))
    b = FlatP4(*(np.array([10.0, 20.0]),) * 4, offsets=np.array([0, 0, 2]))
    merged, part, index = concatenate_per_event([a, b])
    assert merged.px.tolist() == [1.0, 2.0, 3.0, 10.0, 20.0]
    assert merged.offsets.tolist() == [0, 2, 5]
    assert part.tolist() == [0, 0, 0, 1, 1] and index.tolist() == [0, 1, 2, 0, 1]


def test_select_leading_applies_cuts_to_the_leading_jet_only():
    cfg = {"pt_min_gev": 250.0, "abs_eta_max": 2.0, "mass_min_gev": 50.0}
    event = np.array([0, 0, 1, 1, 2])
    pt = np.array([300.0, 400.0, 500.0, 260.0, 200.0])
    eta = np.array([0.0, 2.5, 0.5, 0.0, 0.0])  # event 0: leading jet fails |eta| (no fallback to the next)
    mass = np.array([100.0, 100.0, 120.0, 80.0, 90.0])
    sel = select_leading(event, 4, pt, eta, mass, cfg)
    assert sel.jet_index.tolist() == [1, 2, 4, -1]
    assert sel.pass_pt.tolist() == [True, True, False, False]
    assert sel.pass_eta.tolist() == [False, True, False, False]
    assert sel.pass_mass.tolist() == [False, True, False, False]
