"""Weak decays of the toy: the V-A lepton spectra, tau leptons from B and Ds decays, and the Higgs decay frame."""

import copy

import numpy as np
import pytest
import yaml
from four_vectors import invariant_mass
from scipy import stats

from autopruner.config import DEFAULT_CONFIG
from autopruner.generation.decays import (
    N_HEAVY_COLS,
    N_PARTICLE_COLS,
    PCHARGE,
    PHADRON,
    PPDG,
    PVX,
    PVY,
    PVZ,
    XE,
    XFLAV,
    XM,
    XPARENT,
    XPDG,
    XQSIGN,
    add_tau,
    decay_numpy,
    decay_params,
    va_three_body,
)
from autopruner.generation.toy import generate_events
from autopruner.particles import (
    B_HADRONS,
    C_HADRONS,
    CHARM_FROM_B,
    CTAU_TAU_MM,
    M_TAU,
    TAU_TO_ELECTRON,
    TAU_TO_MUON,
)

CONFIG = yaml.safe_load(DEFAULT_CONFIG.read_text())
HAD = CONFIG["generation"]["hadronization"]
NEUTRINOS = (12, 14, 16)


def _three_body_sample(lepton_with_parent: bool, n: int = 20_000, seed: int = 3) -> np.ndarray:
    """n rest-frame decays of a unit-mass parent into massless lepton, neutrino and X: array (n, 3, 4)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, 3, 4))
    for i in range(n):
        va_three_body(rng, 1.0, 0.0, 0.0, lepton_with_parent, out[i])
    return out


@pytest.mark.parametrize("lepton_with_parent", [False, True])
def test_va_three_body_gives_the_michel_spectra(lepton_with_parent):
    """With massless daughters the V-A decay is muon decay: the fermion paired with the parent in
    (P.p_a)(p_b.p_X) has the soft spectrum 12 x^2 (1 - x) (mean x = 0.6 of the end point M/2), the other two the
    hard 2 x^2 (3 - 2 x) (mean 0.7). In b decays (lepton not paired) the charged lepton is the hard one; in c decays
    the neutrino."""
    p = _three_body_sample(lepton_with_parent)
    np.testing.assert_allclose(p.sum(axis=1), np.broadcast_to([0.0, 0.0, 0.0, 1.0], (p.shape[0], 4)), atol=1e-12)
    x = 2.0 * p[:, :, 3]  # energy over its end point M / 2
    soft, hard = (0, 1) if lepton_with_parent else (1, 0)
    err = 0.2 / np.sqrt(x.shape[0])
    assert x[:, soft].mean() == pytest.approx(0.6, abs=5 * err)
    assert x[:, hard].mean() == pytest.approx(0.7, abs=5 * err)
    assert x[:, 2].mean() == pytest.approx(0.7, abs=5 * err)
    # the shapes, not only the means: the hard spectrum's CDF is x^3 (2 - x), the soft one's x^3 (4 - 3 x)
    assert stats.kstest(x[:, hard], lambda t: t**3 * (2 - t)).pvalue > 1e-3
    assert stats.kstest(x[:, soft], lambda t: t**3 * (4 - 3 * t)).pvalue > 1e-3


def test_va_three_body_keeps_a_massive_lepton_and_system_on_shell():
    rng = np.random.default_rng(8)
    out = np.empty((3, 4))
    for _ in range(500):
        va_three_body(rng, 5.28, M_TAU, 2.0, False, out)
        np.testing.assert_allclose(out.sum(axis=0), [0.0, 0.0, 0.0, 5.28], atol=1e-9)
        np.testing.assert_allclose(invariant_mass(out), [M_TAU, 0.0, 2.0], atol=1e-6)


def _decay_taus(n: int, pdg: int, p_gev: float, seed: int = 4):
    rng = np.random.default_rng(seed)
    e = np.hypot(p_gev, M_TAU)
    scratch = np.empty((4, 4))
    for _ in range(n):
        out = np.zeros((16, N_PARTICLE_COLS))
        k = add_tau(rng, out, 0, 0.0, 0.0, p_gev, e, pdg, 0.0, 0.0, 0.0, 1, 0, scratch)
        yield out[:k], e


@pytest.mark.parametrize("pdg", [15, -15])
def test_tau_decays_conserve_four_momentum_and_charge_at_the_pdg_rates(pdg):
    """A tau decays into e nu nu or mu nu nu (35 % together) or hadrons + nu_tau, at a vertex
    beta*gamma*c*tau away (c*tau = 87 um); four-momentum and charge are conserved."""
    charge = -1.0 if pdg > 0 else 1.0
    leptonic, lengths = [], []
    for out, e in _decay_taus(6000, pdg, 20.0):
        np.testing.assert_allclose(out[:, :4].sum(axis=0), [0.0, 0.0, 20.0, e], rtol=1e-9, atol=1e-9)
        assert out[:, PCHARGE].sum() == charge
        assert np.count_nonzero(np.abs(out[:, PPDG]) == 16) == 1
        leptonic.append(np.any(np.isin(np.abs(out[:, PPDG]), (11, 13))))
        assert np.all(out[:, PVX] == 0.0) and np.all(out[:, PVY] == 0.0)
        lengths.append(out[0, PVZ])
    n = len(leptonic)
    share = TAU_TO_ELECTRON + TAU_TO_MUON
    assert np.mean(leptonic) == pytest.approx(share, abs=4 * np.sqrt(share * (1 - share) / n))
    scaled = np.asarray(lengths) / (20.0 / M_TAU * CTAU_TAU_MM)
    assert stats.kstest(scaled, "expon").pvalue > 1e-3


def _decay_many(pdg: int, charge: float, mass: float, flavour: int, n: int, seed: int):
    rng = np.random.default_rng(seed)
    dp = decay_params(HAD)
    for _ in range(n):
        rec = np.zeros(N_HEAVY_COLS)
        rec[XM], rec[2] = mass, 40.0
        rec[XE] = np.hypot(rec[2], rec[XM])
        rec[XPDG], rec[6], rec[XFLAV], rec[XQSIGN], rec[XPARENT] = pdg, charge, flavour, 1, -1
        had, out = decay_numpy(rng, rec, dp)
        np.testing.assert_allclose(out[:, :4].sum(axis=0), rec[:4], rtol=1e-9, atol=1e-8)  # through the cascade
        yield had, out


@pytest.mark.parametrize("pdg,charge", [(431, 1.0), (-431, -1.0)])
def test_ds_decays_to_tau_nu_at_the_configured_rate(pdg, charge):
    """Ds -> tau nu (PDG 5.3 %): a nu_tau in that share of the decays, the tau of the Ds's sign, charge kept.
    The record's quark sign is +1 for both signs, as for the anti-charm hadron of b -> c c-bar s; the decay must
    read the charm quark's sign from the PDG id."""
    with_tau = []
    for _, out in _decay_many(pdg, charge, 1.96835, 4, 4000, 7):
        assert out[:, PCHARGE].sum() == charge
        with_tau.append(np.any(np.abs(out[:, PPDG]) == 16))
    p = HAD["ds_to_tau_fraction"]
    assert np.mean(with_tau) == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / len(with_tau)))


def test_anti_charm_semileptonic_decays_give_negative_leptons():
    """c-bar -> s-bar l- nu-bar: a D- gives l-, whatever quark sign its record carries (a D- from W- -> c-bar s
    carries its b's)."""
    signs = []
    for _, out in _decay_many(-411, -1.0, 1.86966, 4, 3000, 9):
        lep = np.isin(np.abs(out[:, PPDG]), (11, 13))
        signs.extend(out[lep, PCHARGE])
    assert len(signs) > 200
    assert np.all(np.asarray(signs) == -1.0)


def test_b_decays_to_tau_at_the_configured_rate_and_the_lepton_spectrum_is_hard():
    """B -> tau nu X in `b_to_tau_fraction` of the decays (plus the taus of its Ds); in B -> mu nu X the muon
    takes more energy than its neutrino (V-A, b -> c l nu-bar)."""
    with_tau, e_mu, e_nu = [], [], []
    for _, out in _decay_many(-521, -1.0, 5.27934, 5, 6000, 10):
        direct = out[:, PHADRON] == 0  # daughters of the B itself (hadron index 0)
        with_tau.append(np.any(np.abs(out[direct, PPDG]) == 16))
        mu = direct & (np.abs(out[:, PPDG]) == 13)
        nu_mu = direct & (np.abs(out[:, PPDG]) == 14)
        if mu.sum() == 1 and nu_mu.sum() == 1 and not with_tau[-1]:
            e_mu.append(out[mu, 3][0])
            e_nu.append(out[nu_mu, 3][0])
    p = HAD["b_to_tau_fraction"]
    assert np.mean(with_tau) == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / len(with_tau)))
    assert len(e_mu) > 400
    assert np.mean(e_mu) > 1.05 * np.mean(e_nu)


@pytest.mark.parametrize("b_pdg,b_charge,row", [(-521, -1.0, 1), (-511, 0.0, 0), (-531, 0.0, 2), (5122, 0.0, 3)])
def test_the_charm_of_b_to_c_joins_the_spectator(b_pdg, b_charge, row):
    """The c quark of b -> c makes the charm hadron that the b hadron's spectator gives (`CHARM_FROM_B`): a B- (b
    u-bar) a D0 in 85 % of its decays, not the production mix's 55 %; a B0-bar a D+ in 41 %. Only the charm hadron
    of the c quark counts (positive PDG id for a b quark); the anti-charm hadron of W- -> c-bar s is the mix's."""
    species = []
    for had, _ in _decay_many(b_pdg, b_charge, B_HADRONS[row, 2], 5, 4000, 11):
        from_b = (had[:, XPARENT] == 0) & (had[:, XPDG] > 0) & (np.arange(len(had)) > 0)
        species.extend(had[from_b, XPDG].astype(int))
    species = np.asarray(species)
    assert len(species) > 3000  # b -> c in all but the no-open-charm share
    for col, charm_pdg in enumerate(C_HADRONS[:, 0].astype(int)):
        p = CHARM_FROM_B[row, col]
        assert np.mean(species == charm_pdg) == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / len(species)) + 1e-3)


def test_charm_from_b_rows_are_distributions_over_the_charm_species():
    """Every row of CHARM_FROM_B (one per B_HADRONS species) shares out 1 over the C_HADRONS species."""
    assert CHARM_FROM_B.shape == (len(B_HADRONS), len(C_HADRONS))
    np.testing.assert_allclose(CHARM_FROM_B.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(CHARM_FROM_B >= 0)


@pytest.mark.parametrize("frame", ["singlet", "rest_frame"])
def test_higgs_decay_in_its_rest_frame_conserves_four_momentum(frame):
    """Whatever happens in the Higgs rest frame, the truth b's (in the lab) sum to the Higgs, every particle is
    finite, and fewer prompt charged particles (dR < 1 of the Higgs) come out than with lab-frame showers and
    fragmentation (the colour singlet's multiplicity grows with its mass, not with its boost)."""

    def prompt_charged_per_event(name: str) -> tuple[float, object]:
        config = copy.deepcopy(CONFIG)
        config["generation"]["hadronization"]["fragmentation_frame"] = name
        ev = generate_events(config, "hbb", 300, np.random.default_rng(12))
        p, parts = ev.particles, ev.partons
        higgs = parts["role"] == 1
        event = np.repeat(np.arange(p.n_events), p.counts)
        pt = np.hypot(p.px, p.py)
        d_eta = np.arcsinh(p.pz / np.maximum(pt, 1e-9)) - parts["eta"][higgs][event]
        d_phi = (np.arctan2(p.py, p.px) - parts["phi"][higgs][event] + np.pi) % (2 * np.pi) - np.pi
        near_higgs = (p.origin == 0) & (p.charge != 0) & (pt > 0.5) & (np.hypot(d_eta, d_phi) < 1.0)
        return near_higgs.sum() / p.n_events, ev

    n_lab, _ = prompt_charged_per_event("lab")
    n_frame, ev = prompt_charged_per_event(frame)
    parts = ev.partons
    p4 = np.stack([parts["px"], parts["py"], parts["pz"], parts["e"]], axis=1)
    np.testing.assert_allclose(p4[parts["role"] == 2].reshape(-1, 2, 4).sum(axis=1), p4[parts["role"] == 1],
                               rtol=1e-9, atol=1e-7)
    particles = ev.particles
    assert np.all(np.isfinite(particles.e)) and np.all(particles.e > 0)
    assert n_frame < 0.9 * n_lab
