"""The underlying-event tuning observables: the MPI spectrum fit and the particle-level Higgs-cone quantities."""

import numpy as np
import pytest

from autopruner.generation.events import GeneratedEvents
from autopruner.generation.hard_process import mpi_pt
from autopruner.particles import ParticleTable
from autopruner.schema import ROLE_HIGGS, ROLE_HIGGS_B
from autopruner.validation.tuning import fit_mpi_spectrum, higgs_cone_observables


def test_mpi_fit_recovers_the_spectrum_it_was_drawn_from():
    """pT's drawn from the toy's own spectrum (`mpi_pt`) give back its pT0, power and count per event."""
    rng = np.random.default_rng(5)
    n_events, pt0, power, pt_min = 4000, 3.97, 2.87, 2.0
    pts = np.array([mpi_pt(rng, pt0, power, pt_min, 1.0e4) for _ in range(5 * n_events)])
    fit = fit_mpi_spectrum(np.concatenate([pts, rng.uniform(0.2, pt_min, 3000)]), n_events, pt_min)
    assert fit["n_scatterings"] == pts.size  # the scatterings below pt_min are not fitted
    assert fit["mean_scatterings"] == pytest.approx(5.0)
    assert fit["spectrum_power"] == pytest.approx(power, rel=0.05)
    assert fit["pt0_gev"] == pytest.approx(pt0, rel=0.08)
    with pytest.raises(ValueError, match="at least 10"):
        fit_mpi_spectrum(pts[:5], n_events, pt_min)


def _p4(pt, eta, phi, m=0.0):
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    return px, py, pz, np.sqrt(px * px + py * py + pz * pz + m * m)


def _one_higgs_event() -> GeneratedEvents:
    """A Higgs of pT 350 GeV at eta = phi = 0 with, around it: two 150 GeV photons at dR 0.3 (visible), a 10 GeV
    neutrino and a 5 GeV muon in the cone, a 1 GeV pi+ in the transverse region, a 20 GeV pi- back to back with
    the Higgs."""
    rows = [  # pt, eta, phi, mass, pdgid, charge
        (150.0, 0.0, 0.3, 0.0, 22, 0.0),
        (150.0, 0.0, -0.3, 0.0, 22, 0.0),
        (10.0, 0.2, 0.0, 0.0, 14, 0.0),
        (5.0, -0.2, 0.0, 0.10566, 13, -1.0),
        (1.0, 0.5, np.pi / 2, 0.13957, 211, 1.0),
        (20.0, 0.0, 3.0, 0.13957, -211, -1.0),
    ]
    cols = np.array([_p4(pt, eta, phi, m) for pt, eta, phi, m, _, _ in rows])
    n = len(rows)
    particles = ParticleTable(
        px=cols[:, 0], py=cols[:, 1], pz=cols[:, 2], e=cols[:, 3],
        pdgid=np.array([r[4] for r in rows]), charge=np.array([r[5] for r in rows]),
        vx=np.zeros(n), vy=np.zeros(n), vz=np.zeros(n), origin=np.zeros(n, dtype=np.int8),
        hadron_index=np.full(n, -1), counts=np.array([n]), pv=np.zeros((1, 3)),
    )
    h = _p4(350.0, 0.0, 0.0, 125.0)
    partons = {"px": np.array([h[0], 0.0, 0.0]), "py": np.array([h[1], 0.0, 0.0]), "pz": np.array([h[2], 0.0, 0.0]),
               "e": np.array([h[3], 1.0, 1.0]), "pdgid": np.array([25, 5, -5]),
               "role": np.array([ROLE_HIGGS, ROLE_HIGGS_B, ROLE_HIGGS_B])}
    return GeneratedEvents(particles, partons, np.array([3]), {}, np.array([0]), 1)


def test_higgs_cone_observables_on_a_hand_made_event():
    obs = higgs_cone_observables(_one_higgs_event())
    assert obs["events"] == 1
    assert obs["neutrino_pt_fraction"] == pytest.approx(10.0 / 350.0)
    assert obs["muon_pt_fraction"] == pytest.approx(5.0 / 350.0)
    assert obs["visible_pt_fraction"] == pytest.approx(300.0 / 350.0)
    assert obs["all_pt_fraction"] == pytest.approx(315.0 / 350.0)
    # two massless 150 GeV photons 0.6 apart in azimuth: m^2 = 2 E1 E2 (1 - cos 0.6)
    assert obs["visible_mass_median_gev"] == pytest.approx(np.sqrt(2 * 150.0 * 150.0 * (1 - np.cos(0.6))))
    assert obs["charged_in_cone"] == 1.0  # the muon; the pi+ and pi- lie outside the cone
    area = 2 * (np.pi / 3) * 5.0
    assert obs["transverse_charged_per_area"] == pytest.approx(1.0 / area)
    assert obs["transverse_charged_pt_per_area_gev"] == pytest.approx(1.0 / area)


def test_higgs_cone_observables_select_on_the_higgs_and_need_one():
    events = _one_higgs_event()
    assert higgs_cone_observables(events, higgs_pt_range_gev=(400.0, 500.0))["events"] == 0
    events.partons["role"][0] = ROLE_HIGGS_B
    with pytest.raises(ValueError, match="exactly one truth Higgs"):
        higgs_cone_observables(events)


def test_higgs_cone_observables_reject_two_higgs_in_one_event_and_none_in_another():
    """The same count of Higgs bosons as events is not enough: each event needs its own."""
    first, second = _one_higgs_event(), _one_higgs_event()
    parts = {k: np.concatenate([first.partons[k], second.partons[k]]) for k in first.partons}
    parts["role"][4] = ROLE_HIGGS  # the second event keeps its Higgs (row 3) and its first b becomes a second...
    parts["role"][0] = ROLE_HIGGS_B  # ...and the first event loses its Higgs
    p1 = first.particles
    particles = ParticleTable(
        **{f: np.concatenate([getattr(p1, f), getattr(second.particles, f)])
           for f in ("px", "py", "pz", "e", "pdgid", "charge", "vx", "vy", "vz", "origin", "hadron_index",
                     "counts", "pv")}
    )
    events = GeneratedEvents(particles, parts, np.array([3, 3]), {}, np.array([0, 0]), 1)
    with pytest.raises(ValueError, match="exactly one truth Higgs"):
        higgs_cone_observables(events)
