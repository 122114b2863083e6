"""Jet substructure of the candidate large-R jets through fastjet's awkward interface (fjcontrib underneath).

Each jet's (trimmed) constituents are one row of a k_T ClusterSequence, so one call serves a whole batch:
- N-subjettiness tau_N with winner-take-all k_T axes, normalized measure, beta = 1, R0 = 1.0: tau21, tau32;
- energy-correlation ratios C2 = ECF3 ECF1 / ECF2^2 and D2 = ECF3 ECF1^3 / ECF2^3 (beta = 1, pT-R measure);
- k_T splitting scales sqrt(d_12), sqrt(d_23) as ATLAS computes them (k_T with R = 1.5, scaled back by 1.5 so that
  d_ij = min(pT_i, pT_j)^2 dR_ij^2), and ZCut_12 = d_12 / (d_12 + m^2).
These bindings were checked against the fjcontrib C++ classes (Nsubjettiness, EnergyCorrelatorC2/D2,
ClusterSequence::exclusive_dmerge) on random jets.
"""

from __future__ import annotations

import awkward as ak
import fastjet
import numpy as np

KT_SPLITTING_RADIUS = 1.5
NSUB_AXES = "WTA_KT_Axes"
SUBSTRUCTURE_KEYS = ("tau21", "tau32", "c2", "d2", "split12", "split23", "zcut12")
#: value of a ratio whose denominator vanishes (jets with fewer constituents than prongs): "no extra prong"
RATIO_DEFAULT = 0.0


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num/den, RATIO_DEFAULT where the denominator is not positive or the result is not finite."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), RATIO_DEFAULT)
    return np.where(np.isfinite(out), out, RATIO_DEFAULT)


def substructure(constituents: ak.Array, mass_gev: np.ndarray) -> dict[str, np.ndarray]:
    """Substructure variables of each row of ``constituents`` ([n_jets][n] Momentum4D records: px, py, pz, E).

    ``mass_gev`` is each jet's mass (for ZCut_12). Returns finite float64 arrays [n_jets], SUBSTRUCTURE_KEYS.
    """
    n_jets = len(constituents)
    if n_jets == 0:
        return {k: np.zeros(0) for k in SUBSTRUCTURE_KEYS}
    n_const = ak.to_numpy(ak.num(constituents, axis=1))
    if np.any(n_const == 0):
        raise ValueError("substructure needs at least one constituent per jet")
    jet_def = fastjet.JetDefinition(fastjet.kt_algorithm, KT_SPLITTING_RADIUS)
    cs = fastjet.ClusterSequence(constituents, jet_def)
    taus = ak.to_numpy(cs.njettiness(measure_definition="NormalizedMeasure", axes_definition=NSUB_AXES,
                                     njets=[1, 2, 3], beta=1.0, R0=1.0)).reshape(n_jets, 3)
    c2 = ak.to_numpy(cs.exclusive_jets_energy_correlator(njets=1, func="c2", beta=1.0))
    d2 = ak.to_numpy(cs.exclusive_jets_energy_correlator(njets=1, func="d2", beta=1.0))
    d12 = np.maximum(ak.to_numpy(cs.exclusive_dmerge(1)), 0.0) * KT_SPLITTING_RADIUS**2
    d23 = np.maximum(ak.to_numpy(cs.exclusive_dmerge(2)), 0.0) * KT_SPLITTING_RADIUS**2
    mass2 = np.asarray(mass_gev, dtype=np.float64) ** 2
    return {
        "tau21": _ratio(taus[:, 1], taus[:, 0]),
        "tau32": _ratio(taus[:, 2], taus[:, 1]),
        "c2": np.where(np.isfinite(c2), c2, RATIO_DEFAULT),
        "d2": np.where(np.isfinite(d2), d2, RATIO_DEFAULT),
        "split12": np.sqrt(d12),
        "split23": np.sqrt(d23),
        "zcut12": _ratio(d12, d12 + mass2),
    }
