"""Particle species (PDG ids, masses, charges) and the generic particle table the detector consumes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Masses [GeV] (PDG 2024, rounded).
M_PI_CHARGED = 0.13957
M_PI0 = 0.13498
M_K_CHARGED = 0.49368
M_K_LONG = 0.49761
M_K_SHORT = 0.49761
CTAU_K_SHORT_MM = 26.844
K_SHORT_TO_CHARGED_PIONS = 0.692  # K0S -> pi+ pi- (the rest: pi0 pi0)
M_PROTON = 0.93827
M_RHO = 0.77526
M_OMEGA = 0.78266
M_K_STAR = 0.8955
OMEGA_TO_THREE_PIONS = 0.893  # omega -> pi+ pi- pi0 (the rest: pi0 gamma)
M_NEUTRON = 0.93957
M_LAMBDA = 1.11568
CTAU_LAMBDA_MM = 78.9
LAMBDA_TO_PROTON_PION = 0.639  # Lambda -> p pi- (the rest: n pi0)
M_ELECTRON = 0.000511
M_MUON = 0.10566
M_TAU = 1.77686
CTAU_TAU_MM = 0.08703
# tau- decays (PDG 2024, rounded), as (kind, share): leptonic e and mu (V-A three-body), and hadronic channels as a
# hadronic system of fixed mass (pi, rho -> pi pi0, a1 -> 3 pi, 3 pi pi0) plus nu_tau; the ~6 % with kaons or more
# pions are counted in the rho channel, the largest.
TAU_TO_ELECTRON = 0.1782
TAU_TO_MUON = 0.1739
TAU_TO_PION = 0.1082
TAU_TO_A1_CHARGED = 0.0899  # pi- pi- pi+ nu
TAU_TO_A1_NEUTRAL = 0.0926  # pi- pi0 pi0 nu
TAU_TO_THREE_PIONS_PI0 = 0.0462  # pi- pi- pi+ pi0 nu
M_A1 = 1.23
M_THREE_PIONS_PI0 = 1.45  # mean mass of the 4 pi system in tau decays (omega pi and a1 pi resonances)
M_B_QUARK = 4.8
M_C_QUARK = 1.5

# Light hadrons produced in fragmentation: (pdgid of the positive/neutral state, charge, mass, share within its class).
CHARGED_HADRONS = np.array(
    [(211, 1, M_PI_CHARGED, 0.80), (321, 1, M_K_CHARGED, 0.13), (2212, 1, M_PROTON, 0.07)]
)
# A neutral kaon is a K0S or a K0L with equal probability; the K0S decays in flight (`decays.add_k0s`). A Lambda (or
# anti-Lambda, with equal probability; Sigma0 -> Lambda gamma counted in it) decays in flight too (`decays.add_lambda`):
# its p pi daughters are displaced tracks that Pythia's jets have. Its share, taken from the neutrons (0.14 before),
# gives QCD events Pythia's displaced protons: 0.132 per event against Pythia's 0.137 with pT > 1 GeV, |d0| < 1 mm and
# |d0| / sigma > 3 (in 4 000 events each).
NEUTRAL_HADRONS = np.array(
    [(111, 0, M_PI0, 0.72), (130, 0, M_K_LONG, 0.07), (310, 0, M_K_SHORT, 0.07), (2112, 0, M_NEUTRON, 0.08),
     (3122, 0, M_LAMBDA, 0.06)]
)

# Heavy hadrons made from a quark (not antiquark): pdgid, charge, mass, production fraction, c*tau [mm] (PDG 2024).
# Antiquarks negate. Each species decays with its own lifetime: the D+ (c*tau 312 um) lives 2.5 times as long as the D0
# and 5 times as long as the Lambda_c, and its long decays are the tail of displaced tracks that makes charm jets look
# like b jets (one c*tau of 0.12 mm for every charm hadron gave Pythia's charm jets a longer IP tail than the toy's).
B_HADRONS = np.array(
    [(-511, 0, 5.27966, 0.40, 0.4555), (-521, -1, 5.27934, 0.40, 0.4911), (-531, 0, 5.36692, 0.10, 0.4527),
     (5122, 0, 5.61960, 0.10, 0.4416)]
)
C_HADRONS = np.array(
    [(421, 0, 1.86484, 0.55, 0.1229), (411, 1, 1.86966, 0.25, 0.3118), (431, 1, 1.96835, 0.10, 0.1500),
     (4122, 1, 2.28646, 0.10, 0.0606)]
)
# The charm hadron of a b -> c decay, by b-hadron species (rows in B_HADRONS order; columns: shares of the C_HADRONS
# rows D0, D+, Ds, Lambda_c). The c quark mostly joins the b hadron's spectator: B- = b u-bar gives a D0, B0-bar =
# b d-bar a D+ or, through D*+ -> D0 pi+, a D0; Bs-bar a Ds; Lambda_b a Lambda_c. Approximate shares from the PDG's
# inclusive B+ -> D0-bar X (86.7 %), D- X (9.9 %) and B0 -> D0-bar X (47.4 %), D- X (36.9 %), B -> Lambda_c X (3.6 %),
# Bs -> Ds X (93 %). Drawing it from the production mix instead gave a B+ a D- in a quarter of its decays, whose
# charge then needed two more charged pions: B+ decays made 0.5 tracks more than Pythia 8's, B0 decays as many.
CHARM_FROM_B = np.array(
    [(0.53, 0.41, 0.02, 0.04), (0.85, 0.10, 0.015, 0.035), (0.07, 0.04, 0.85, 0.04), (0.12, 0.06, 0.02, 0.80)]
)
HADRON_CTAU_COLUMN = 4

NEUTRINO_PDGIDS = (12, 14, 16)
LAMBDA = 3122  # PDG id of the Lambda baryon

ORIGIN_PROMPT = 0
ORIGIN_B = 1
ORIGIN_C = 2
ORIGIN_SOFT = 3


@dataclass
class ParticleTable:
    """Final-state particles of many events, flat, with per-event counts; any generator can fill it.

    Momenta in GeV, production vertices in mm; ``origin`` 0 prompt, 1 from b-hadron, 2 from c-hadron, 3 underlying
    event; ``hadron_index`` points into the event's heavy-hadron list (-1 if none).
    """

    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    e: np.ndarray
    pdgid: np.ndarray
    charge: np.ndarray
    vx: np.ndarray
    vy: np.ndarray
    vz: np.ndarray
    origin: np.ndarray
    hadron_index: np.ndarray
    counts: np.ndarray
    pv: np.ndarray  # (n_events, 3) true primary vertex [mm]

    @property
    def n_events(self) -> int:
        """Number of events in the table."""
        return int(self.counts.shape[0])

    def event_index(self) -> np.ndarray:
        """Event number of every particle (flat)."""
        return np.repeat(np.arange(self.n_events), self.counts)
