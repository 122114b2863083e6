"""Particle-level observables the toy's underlying event and Higgs decays are tuned on, for any generator.

Two pieces, both used by `benchmarks/tune_underlying_event.py` against Pythia 8:

- `fit_mpi_spectrum`: the maximum-likelihood fit of the toy's secondary-scattering spectrum,
  dsigma/dpT^2 ~ (pT^2 + pT0^2)^-n above pt_min, to a list of scattering pT's (Pythia's ``Info::pTMPI``), with
  the mean number per event above pt_min; these are the config's ``generation.mpi`` keys.
- `higgs_cone_observables`: around the truth Higgs of H -> b bbar events, the pT carried within dR < R by
  neutrinos, muons and visible particles (over the Higgs pT), the visible mass there, the charged multiplicity,
  and the charged density of the transverse region (60-120 degrees in azimuth from the Higgs, the standard
  underlying-event region). Run with ISR or MPI switched off in both generators, they separate what each source
  adds to the Higgs jet.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from autopruner.generation.events import GeneratedEvents
from autopruner.kinematics import pt_eta_phi
from autopruner.particles import NEUTRINO_PDGIDS
from autopruner.schema import ROLE_HIGGS

TRANSVERSE_AREA_ETA_MAX = 2.5
CHARGED_PT_MIN_GEV = 0.5


def fit_mpi_spectrum(pt_gev: np.ndarray, n_events: int, pt_min_gev: float) -> dict[str, float]:
    """Fit dN/dpT ~ 2 pT (pT^2 + pT0^2)^-n above `pt_min_gev` to secondary-scattering pT's by maximum likelihood.

    Returns ``mean_scatterings`` (per event, above pt_min), ``pt0_gev`` and ``spectrum_power`` (n), the toy's
    ``generation.mpi`` parameters, and ``n_scatterings``, the number fitted. The spectrum is normalised on
    [pt_min, infinity), which the toy's upper cut (a quarter of the hard pT) leaves unchanged to ~1e-5.
    """
    pt = np.asarray(pt_gev, dtype=np.float64)
    pt = pt[pt > pt_min_gev]
    if pt.size < 10 or n_events <= 0:
        raise ValueError(f"need at least 10 scatterings above {pt_min_gev} GeV and one event, got {pt.size}")
    log_pt = np.log(2.0 * pt)
    pt2 = pt * pt
    pt_min2 = pt_min_gev * pt_min_gev

    def negative_log_likelihood(params: np.ndarray) -> float:
        power, pt0 = params
        if power <= 1.0 or pt0 <= 0.0:
            return np.inf
        a = pt0 * pt0
        log_density = log_pt + np.log(power - 1.0) - power * np.log(a + pt2) + (power - 1.0) * np.log(a + pt_min2)
        return -float(log_density.sum())

    fit = minimize(negative_log_likelihood, x0=np.array([2.5, 3.0]), method="Nelder-Mead",
                   options={"xatol": 1e-6, "fatol": 1e-6, "maxiter": 4000})
    power, pt0 = fit.x
    return {
        "mean_scatterings": pt.size / n_events,
        "pt0_gev": float(pt0),
        "spectrum_power": float(power),
        "n_scatterings": int(pt.size),
    }


def _wrap(dphi: np.ndarray) -> np.ndarray:
    return (dphi + np.pi) % (2.0 * np.pi) - np.pi


def higgs_cone_observables(
    events: GeneratedEvents,
    radius: float = 1.0,
    higgs_pt_range_gev: tuple[float, float] = (300.0, 400.0),
    higgs_abs_eta_max: float = 1.5,
) -> dict[str, float]:
    """Particle-level observables around the truth Higgs of H -> b bbar events (see the module docstring).

    Only events whose Higgs lies in `higgs_pt_range_gev` and within `higgs_abs_eta_max` count, so that the Higgs
    decay fits in the cone the same way in every sample. Fractions are means over events of the pT sum within
    dR < `radius` over the Higgs pT, with their standard errors (``*_err``); masses are medians and quantiles of
    the visible (neither neutrino nor muon) particles within the cone; the transverse density is charged particles
    (pT > 0.5 GeV, |eta| < 2.5) per unit eta-phi area. With no event selected only ``events`` (0) is returned.
    """
    p, parts = events.particles, events.partons
    parton_event = np.repeat(np.arange(events.parton_counts.size), events.parton_counts)
    is_higgs = parts["role"] == ROLE_HIGGS
    if not np.array_equal(parton_event[is_higgs], np.arange(p.n_events)):
        raise ValueError("every event needs exactly one truth Higgs (an H -> b bbar sample)")
    h_pt, h_eta, h_phi = pt_eta_phi(parts["px"][is_higgs], parts["py"][is_higgs], parts["pz"][is_higgs])
    selected = (h_pt > higgs_pt_range_gev[0]) & (h_pt < higgs_pt_range_gev[1]) & (np.abs(h_eta) < higgs_abs_eta_max)

    event = np.repeat(np.arange(p.n_events), p.counts)
    pt, eta, phi = pt_eta_phi(p.px, p.py, p.pz)
    d_phi = _wrap(phi - h_phi[event])
    in_cone = np.hypot(eta - h_eta[event], d_phi) < radius
    apdg = np.abs(p.pdgid)
    neutrino = np.isin(apdg, NEUTRINO_PDGIDS)
    muon = apdg == 13
    visible = in_cone & ~neutrino & ~muon
    charged = (p.charge != 0) & (pt > CHARGED_PT_MIN_GEV)
    transverse = (np.abs(np.abs(d_phi) - 0.5 * np.pi) < np.pi / 6.0) & (np.abs(eta) < TRANSVERSE_AREA_ETA_MAX)
    transverse_area = 2.0 * (np.pi / 3.0) * (2.0 * TRANSVERSE_AREA_ETA_MAX)

    def per_event(weights: np.ndarray) -> np.ndarray:
        return np.bincount(event, weights=weights, minlength=p.n_events)[selected]

    out: dict[str, float] = {"events": int(np.count_nonzero(selected))}
    if not out["events"]:
        return out
    for name, mask in (("neutrino", in_cone & neutrino), ("muon", in_cone & muon), ("visible", visible),
                       ("all", in_cone)):
        frac = per_event(np.where(mask, pt, 0.0)) / h_pt[selected]
        out[f"{name}_pt_fraction"] = float(frac.mean())
        out[f"{name}_pt_fraction_err"] = float(frac.std() / np.sqrt(max(frac.size, 1)))
    sums = [per_event(np.where(visible, comp, 0.0)) for comp in (p.e, p.px, p.py, p.pz)]
    mass = np.sqrt(np.maximum(sums[0] ** 2 - sums[1] ** 2 - sums[2] ** 2 - sums[3] ** 2, 0.0))
    q10, q25, q50, q75, q90 = np.percentile(mass, [10, 25, 50, 75, 90])
    out.update(visible_mass_median_gev=float(q50), visible_mass_q10_gev=float(q10), visible_mass_q25_gev=float(q25),
               visible_mass_q75_gev=float(q75), visible_mass_q90_gev=float(q90))
    out["charged_in_cone"] = float(per_event((in_cone & charged).astype(float)).mean())
    out["transverse_charged_per_area"] = float(per_event((transverse & charged).astype(float)).mean() / transverse_area)
    out["transverse_charged_pt_per_area_gev"] = float(
        per_event(np.where(transverse & charged, pt, 0.0)).mean() / transverse_area
    )
    return out


__all__ = ["fit_mpi_spectrum", "higgs_cone_observables"]
