"""Truth-level comparison of the toy generator with Pythia 8: the quantities the toy is tuned on.

For the toy (config/config.yaml) and Pythia 8 (pythia8mc: HiggsSM:qg2Hq with H -> b bbar and HardQCD:all at
pTHatMin = 250 GeV, 14 TeV, default tune with MPI and hadronization) it measures, at particle level:

- charm hadrons per b-hadron decay (weakly decaying open-charm hadrons among the descendants of each weakly decaying
  b hadron) and the share of b decays with two charm hadrons;
- the neutrino energy fraction of b-hadron decays (sum of the descendants' neutrino energies over the b-hadron energy,
  lab frame, mean per decay) and the semileptonic share (a direct e or mu daughter);
- x = pT(b hadron) / pT(b quark) for the b quarks from H (quark as it leaves the H decay; b hadron: the weakly
  decaying one of the same quark sign nearest in dR), split into the shower's share pT(b after shower) / pT(b quark)
  and the remainder;
- final-state particles per event, charged and all, in total and within |eta| < 2.5;
- charged particles (pT > 0.5 GeV) within dR < 0.4 of the hard outgoing gluons and light quarks of QCD events;
- the flavour mix of the QCD hard partons and the fraction of QCD events with a b or c hadron within dR < 1.0 of the
  leading hard parton (any pT and pT > 5 GeV).

Usage: ``python benchmarks/tune_toy.py [--events N] [--reuse-pythia]``; ``--reuse-pythia`` keeps the Pythia numbers of
the last run (benchmarks/results/tune_toy.json) and reruns the toy only. The Pythia side walks the event record in
Python, about 1 minute per 1000 events and process on one core.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "tune_toy.json"
PYTHIA_PROCESSES = {
    "hbb": ["HiggsSM:qg2Hq = on", "25:onMode = off", "25:onIfAny = 5"],
    "qcd": ["HardQCD:all = on"],
}
CONE_R = 0.4
TRACK_PT_MIN_GEV = 0.5
HF_DR = 1.0
HF_PT_MIN_GEV = 5.0
ETA_TRACKER = 2.5
ETA_CALORIMETER = 4.9


def heavy_content(pdg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(contains a b quark, contains a c quark but no b) of hadron PDG ids, quarkonia excluded."""
    a = np.abs(pdg)
    q1, q2, q3 = (a // 1000) % 10, (a // 100) % 10, (a // 10) % 10
    hadron = (a > 100) & (a < 10000) & (q3 > 0)
    meson = q1 == 0
    has_b = hadron & ((q1 == 5) | (q2 == 5) | (q3 == 5)) & ~(meson & (q2 == 5) & (q3 == 5))
    has_c = hadron & ((q1 == 4) | (q2 == 4) | (q3 == 4)) & ~(meson & (q2 == 4) & (q3 == 4)) & ~has_b
    return has_b, has_c


def quark_sign_of_b_hadron(pdg: np.ndarray) -> np.ndarray:
    """+1 for hadrons containing a b quark, -1 for a b antiquark (mesons: B-bar has negative id; baryons: positive)."""
    return np.where(np.abs(pdg) > 1000, np.sign(pdg), -np.sign(pdg))


def delta_r(eta1, phi1, eta2, phi2):
    """Distance in (eta, phi)."""
    dphi = (np.asarray(phi1) - np.asarray(phi2) + np.pi) % (2 * np.pi) - np.pi
    return np.hypot(np.asarray(eta1) - np.asarray(eta2), dphi)


def pt_eta_phi(px, py, pz):
    """pT, pseudorapidity and azimuth of momenta (numpy)."""
    pt = np.hypot(px, py)
    eta = np.arcsinh(np.divide(pz, pt, out=np.zeros_like(pz, dtype=float), where=pt > 0))
    return pt, eta, np.arctan2(py, px)


class Accumulator:
    """Per-sample lists of the measured quantities, summarised by `summary`."""

    def __init__(self) -> None:
        self.n_charm_per_b: list[int] = []
        self.nu_fraction: list[float] = []
        self.n_charged_per_b: list[int] = []
        self.semileptonic: list[bool] = []
        self.x_b: list[float] = []
        self.x_shower: list[float] = []
        self.n_final: list[int] = []
        self.n_charged: list[int] = []
        self.n_final_central: list[int] = []
        self.n_charged_central: list[int] = []
        self.n_final_calo: list[int] = []
        self.cone_gluon: list[int] = []
        self.cone_quark: list[int] = []
        self.hard_flavour: list[int] = []
        self.lead_flavour: list[int] = []
        self.hf_any: list[int] = []  # 5, 4 or 0 per QCD event, any hadron pT
        self.hf_pt5: list[int] = []

    def add_event_counts(self, charge, eta) -> None:
        """Record the final-state multiplicities of one event."""
        central = np.abs(eta) < ETA_TRACKER
        ch = charge != 0
        self.n_final.append(int(charge.size))
        self.n_charged.append(int(ch.sum()))
        self.n_final_central.append(int(central.sum()))
        self.n_charged_central.append(int((ch & central).sum()))
        self.n_final_calo.append(int(np.count_nonzero(np.abs(eta) < ETA_CALORIMETER)))

    def add_cones(self, parton_pdg, parton_eta, parton_phi, ch_eta, ch_phi) -> None:
        """Charged particles within CONE_R of each hard parton, filed as gluon or light quark."""
        for pdg, eta, phi in zip(parton_pdg, parton_eta, parton_phi, strict=True):
            if abs(eta) > 2.0:
                continue
            n = int(np.count_nonzero(delta_r(ch_eta, ch_phi, eta, phi) < CONE_R))
            if pdg == 21:
                self.cone_gluon.append(n)
            elif abs(pdg) <= 3:
                self.cone_quark.append(n)

    def add_hf(self, lead_eta, lead_phi, had_eta, had_phi, had_pt, had_flav) -> None:
        """Heavy-flavour label of the leading hard parton's dR < HF_DR cone (any pT and pT > HF_PT_MIN_GEV)."""
        near = delta_r(had_eta, had_phi, lead_eta, lead_phi) < HF_DR
        for store, sel in ((self.hf_any, near), (self.hf_pt5, near & (had_pt > HF_PT_MIN_GEV))):
            flav = had_flav[sel]
            store.append(5 if np.any(flav == 5) else 4 if np.any(flav == 4) else 0)

    def summary(self) -> dict:
        """Means of everything recorded (None where nothing was recorded)."""

        def mean(x):
            return float(np.mean(x)) if len(x) else None

        n_charm = np.asarray(self.n_charm_per_b)
        flav = np.asarray(self.hard_flavour)
        lead = np.asarray(self.lead_flavour)
        hf_any, hf5 = np.asarray(self.hf_any), np.asarray(self.hf_pt5)
        x_b, x_sh = np.asarray(self.x_b), np.asarray(self.x_shower)
        out = {
            "b_decays": int(n_charm.size),
            "charm_per_b_decay": mean(n_charm),
            "b_decays_with_two_charm": mean(n_charm >= 2) if n_charm.size else None,
            "b_decays_without_charm": mean(n_charm == 0) if n_charm.size else None,
            "nu_energy_fraction_b_decay": mean(self.nu_fraction),
            "charged_per_b_decay": mean(self.n_charged_per_b),
            "semileptonic_b_decay_share": mean(self.semileptonic),
            "x_b_from_higgs_mean": mean(x_b),
            "x_b_from_higgs_median": float(np.median(x_b)) if x_b.size else None,
            "x_shower_b_from_higgs_mean": mean(x_sh),
            "final_particles_per_event": mean(self.n_final),
            "charged_particles_per_event": mean(self.n_charged),
            "final_particles_per_event_eta2p5": mean(self.n_final_central),
            "charged_particles_per_event_eta2p5": mean(self.n_charged_central),
            "final_particles_per_event_eta4p9": mean(self.n_final_calo),
            "charged_in_cone_gluon": mean(self.cone_gluon),
            "charged_in_cone_quark": mean(self.cone_quark),
        }
        if out["charged_in_cone_gluon"] and out["charged_in_cone_quark"]:
            out["cone_gluon_over_quark"] = out["charged_in_cone_gluon"] / out["charged_in_cone_quark"]
        if flav.size:
            out["hard_parton_shares"] = {
                "gluon": float(np.mean(flav == 21)),
                "light_quark": float(np.mean(np.abs(flav) <= 3)),
                "c": float(np.mean(np.abs(flav) == 4)),
                "b": float(np.mean(np.abs(flav) == 5)),
            }
            out["leading_parton_gluon_share"] = float(np.mean(lead == 21))
        if hf_any.size:
            out["qcd_lead_b_fraction"] = float(np.mean(hf_any == 5))
            out["qcd_lead_c_fraction"] = float(np.mean(hf_any == 4))
            out["qcd_lead_hf_fraction"] = float(np.mean(hf_any > 0))
            out["qcd_lead_hf_fraction_pt5"] = float(np.mean(hf5 > 0))
            out["qcd_lead_b_fraction_pt5"] = float(np.mean(hf5 == 5))
        return out


# ----------------------------------------------------------------------------------------------------------------- toy
def toy_shower_share(config: dict, n_events: int, seed: int) -> list[float]:
    """pT(b after the toy shower) / pT(b from H) for both H daughters, from the toy's own hard process and shower.

    The b's shower as the configured fragmentation frame has them: in the Higgs rest frame (then the showered b is
    boosted to the lab) or in the lab frame; both with the colour singlet's strictly ordered shower parameters.
    """
    from autopruner.generation.hard_process import MAX_ISR_EMISSIONS, MAX_SEEDS, N_COLS, N_TRUTH_COLS, higgs_event
    from autopruner.generation.shower import shower_numpy, strictly_ordered
    from autopruner.generation.toy import generator_params
    from autopruner.kinematics import boost

    hp, sp, *_ = generator_params(config)
    singlet_sp = strictly_ordered(sp)
    rest_frame = config["generation"]["hadronization"]["fragmentation_frame"] == "rest_frame"
    rng = np.random.default_rng(seed)
    seeds = np.empty((MAX_SEEDS, N_COLS))
    truth = np.empty((16, N_TRUTH_COLS))
    kicks = np.empty((MAX_ISR_EMISSIONS, 3))
    share = []
    for _ in range(n_events):
        higgs_event(rng, hp, sp, singlet_sp, seeds, truth, kicks, rest_frame)
        velocity = truth[0, :3] / truth[0, 3]
        for k in (0, 1):  # seeds 0, 1 are the b and b-bar of truth rows 1, 2 (lab frame)
            fin = shower_numpy(rng, seeds[k], singlet_sp)
            pdg = int(seeds[k, 5])
            b = fin[fin[:, 4] == pdg]
            if b.shape[0] == 1:
                px, py = (boost(*b[0, :4], *velocity)[:2] if rest_frame else b[0, :2])
                share.append(float(np.hypot(px, py) / np.hypot(truth[k + 1, 0], truth[k + 1, 1])))
    return share


def run_toy(config: dict, n_events: int, seed: int) -> dict:
    """Truth quantities of the toy for both processes."""
    from autopruner.generation.toy import generate_events

    generate_events(config, "qcd", 20, np.random.default_rng(0))  # numba compile / cache load
    result = {}
    for process in ("hbb", "qcd"):
        acc = Accumulator()
        t0 = time.perf_counter()
        ev = generate_events(config, process, n_events, np.random.default_rng(seed))
        seconds = time.perf_counter() - t0
        p, h, t = ev.particles, ev.hadrons, ev.partons
        p_off = np.concatenate([[0], np.cumsum(p.counts)])
        h_off = np.concatenate([[0], np.cumsum(ev.hadron_counts)])
        t_off = np.concatenate([[0], np.cumsum(ev.parton_counts)])
        ppt, peta, pphi = pt_eta_phi(p.px, p.py, p.pz)
        is_nu = np.isin(np.abs(p.pdgid), (12, 14, 16))
        is_lep = np.isin(np.abs(p.pdgid), (11, 13))
        for i in range(p.n_events):
            s = slice(p_off[i], p_off[i + 1])
            acc.add_event_counts(p.charge[s], peta[s])
            hs = slice(h_off[i], h_off[i + 1])
            flav, parent = h["flavour"][hs], h["parent"][hs]
            hidx, origin_nu, origin_lep = p.hadron_index[s], is_nu[s], is_lep[s]
            e_nu = np.bincount(hidx[origin_nu], p.e[s][origin_nu], minlength=flav.size) if flav.size else []
            lep_of = np.bincount(hidx[origin_lep], minlength=flav.size) if flav.size else []
            ch_of = np.bincount(hidx[(p.charge[s] != 0) & (hidx >= 0)], minlength=flav.size) if flav.size else []
            for j in np.flatnonzero(flav == 5):
                kids = np.flatnonzero(parent == j)
                acc.n_charm_per_b.append(int(np.count_nonzero(flav[kids] == 4)))
                acc.nu_fraction.append(float((e_nu[j] + sum(e_nu[k] for k in kids)) / h["e"][hs][j]))
                acc.semileptonic.append(bool(lep_of[j] > 0))
                acc.n_charged_per_b.append(int(ch_of[j] + sum(ch_of[k] for k in kids)))
            ts = slice(t_off[i], t_off[i + 1])
            role, tpdg = t["role"][ts], t["pdgid"][ts]
            if process == "hbb":
                bsign = quark_sign_of_b_hadron(h["pdgid"][hs])
                prim_b = np.flatnonzero((flav == 5) & (parent < 0))
                for k in np.flatnonzero(role == 2):
                    cand = prim_b[bsign[prim_b] == np.sign(tpdg[k])]
                    if cand.size:
                        dr = delta_r(h["eta"][hs][cand], h["phi"][hs][cand], t["eta"][ts][k], t["phi"][ts][k])
                        acc.x_b.append(float(h["pt"][hs][cand[np.argmin(dr)]] / t["pt"][ts][k]))
            else:
                hard = np.flatnonzero(role == 0)
                ch = (p.charge[s] != 0) & (ppt[s] > TRACK_PT_MIN_GEV)
                acc.add_cones(tpdg[hard], t["eta"][ts][hard], t["phi"][ts][hard], peta[s][ch], pphi[s][ch])
                acc.hard_flavour.extend(int(x) for x in tpdg[hard])
                lead = hard[np.argmax(t["pt"][ts][hard])]
                acc.lead_flavour.append(int(tpdg[lead]))
                acc.add_hf(t["eta"][ts][lead], t["phi"][ts][lead], h["eta"][hs], h["phi"][hs], h["pt"][hs], flav)
        if process == "hbb":
            acc.x_shower = toy_shower_share(config, min(n_events, 2000), seed + 1)
        result[process] = acc.summary() | {"events": n_events, "seconds_generate": seconds}
    return result


# ------------------------------------------------------------------------------------------------------------- pythia
def pythia_record(event) -> dict[str, np.ndarray]:
    """Columns of a Pythia event record (id, status, mothers, daughters, four-momentum, final, charged)."""
    n = event.size()
    cols = np.empty((n, 10))
    for i in range(n):
        q = event[i]
        cols[i] = (
            q.id(), q.status(), q.daughter1(), q.daughter2(), q.px(), q.py(), q.pz(), q.e(), q.isFinal(), q.isCharged()
        )
    rec = {k: cols[:, j] for j, k in enumerate(("id", "status", "d1", "d2", "px", "py", "pz", "e", "final", "charged"))}
    for k in ("id", "status", "d1", "d2"):
        rec[k] = rec[k].astype(np.int64)
    rec["final"] = rec["final"].astype(bool)
    rec["charged"] = rec["charged"].astype(bool)
    rec["pt"], rec["eta"], rec["phi"] = pt_eta_phi(rec["px"], rec["py"], rec["pz"])
    return rec


def daughters(rec, i) -> list[int]:
    """Daughter indices of entry i (Pythia's d1..d2 range convention for decays)."""
    d1, d2 = rec["d1"][i], rec["d2"][i]
    if d1 <= 0:
        return []
    if d2 < d1:
        return [d1] if d2 == 0 else [d1, d2]
    return list(range(d1, d2 + 1))


def descendants(rec, i) -> list[int]:
    """All descendants of entry i."""
    out, stack = [], daughters(rec, i)
    while stack:
        j = stack.pop()
        out.append(j)
        stack.extend(daughters(rec, j))
    return out


def run_pythia(n_events: int, seed: int) -> dict:
    """Truth quantities of Pythia 8 for both processes."""
    import pythia8mc

    result = {}
    for process in ("hbb", "qcd"):
        pythia = pythia8mc.Pythia("", False)
        for line in [
            "Beams:eCM = 14000.",
            "PhaseSpace:pTHatMin = 250.",
            "Print:quiet = on",
            "Random:setSeed = on",
            f"Random:seed = {seed}",
            *PYTHIA_PROCESSES[process],
        ]:
            pythia.readString(line)
        pythia.init()
        acc = Accumulator()
        t0 = time.perf_counter()
        n_ok = 0
        while n_ok < n_events:
            if not pythia.next():
                continue
            n_ok += 1
            ev = pythia.event
            rec = pythia_record(ev)
            fin = rec["final"]
            acc.add_event_counts(rec["charged"][fin].astype(int), rec["eta"][fin])
            has_b, has_c = heavy_content(rec["id"])
            is_hadron = np.abs(rec["status"]) >= 81
            has_b &= is_hadron
            has_c &= is_hadron
            # weakly decaying heavy hadrons: no daughter of the same heavy flavour
            weak_b = [i for i in np.flatnonzero(has_b) if not any(has_b[d] for d in daughters(rec, i))]
            weak_c = [i for i in np.flatnonzero(has_c) if not any(has_c[d] for d in daughters(rec, i))]
            weak_c_set = set(weak_c)
            for i in weak_b:
                desc = descendants(rec, i)
                acc.n_charm_per_b.append(sum(1 for d in desc if d in weak_c_set))
                e_nu = sum(rec["e"][d] for d in desc if rec["final"][d] and abs(rec["id"][d]) in (12, 14, 16))
                acc.nu_fraction.append(float(e_nu / rec["e"][i]))
                acc.semileptonic.append(any(abs(rec["id"][d]) in (11, 13) for d in daughters(rec, i)))
                acc.n_charged_per_b.append(sum(1 for d in desc if rec["final"][d] and rec["charged"][d]))
            if process == "hbb":
                weak_b_arr = np.asarray(weak_b, dtype=np.int64)
                higgs = [i for i in range(rec["id"].size) if rec["id"][i] == 25]
                if higgs and weak_b_arr.size:
                    for k in daughters(rec, higgs[-1]):
                        if abs(rec["id"][k]) != 5:
                            continue
                        sign = np.sign(rec["id"][k])
                        cand = weak_b_arr[quark_sign_of_b_hadron(rec["id"][weak_b_arr]) == sign]
                        if cand.size:
                            dr = delta_r(rec["eta"][cand], rec["phi"][cand], rec["eta"][k], rec["phi"][k])
                            acc.x_b.append(float(rec["pt"][cand[np.argmin(dr)]] / rec["pt"][k]))
                        bot = ev[int(k)].iBotCopyId()
                        acc.x_shower.append(float(rec["pt"][bot] / rec["pt"][k]))
            else:
                hard = np.array([5, 6])
                ch = fin & rec["charged"] & (rec["pt"] > TRACK_PT_MIN_GEV)
                acc.add_cones(rec["id"][hard], rec["eta"][hard], rec["phi"][hard], rec["eta"][ch], rec["phi"][ch])
                acc.hard_flavour.extend(int(x) for x in rec["id"][hard])
                lead = hard[np.argmax(rec["pt"][hard])]
                acc.lead_flavour.append(int(rec["id"][lead]))
                hf = np.asarray(weak_b + weak_c, dtype=np.int64)
                flav = np.concatenate([np.full(len(weak_b), 5), np.full(len(weak_c), 4)])
                acc.add_hf(rec["eta"][lead], rec["phi"][lead], rec["eta"][hf], rec["phi"][hf], rec["pt"][hf], flav)
        seconds = time.perf_counter() - t0
        result[process] = acc.summary() | {"events": n_ok, "seconds_generate_and_walk": seconds}
    return result


# --------------------------------------------------------------------------------------------------------------- main
ROWS = [
    ("hbb", "charm_per_b_decay", "charm hadrons per b decay"),
    ("hbb", "b_decays_with_two_charm", "b decays with 2 charm hadrons"),
    ("hbb", "b_decays_without_charm", "b decays without charm"),
    ("hbb", "semileptonic_b_decay_share", "semileptonic (e, mu) b decays"),
    ("hbb", "charged_per_b_decay", "charged particles per b decay"),
    ("hbb", "nu_energy_fraction_b_decay", "neutrino energy fraction, b decay"),
    ("hbb", "x_b_from_higgs_mean", "<pT(B)/pT(b from H)>"),
    ("hbb", "x_b_from_higgs_median", "median pT(B)/pT(b from H)"),
    ("hbb", "x_shower_b_from_higgs_mean", "<pT(b after shower)/pT(b)>"),
    ("hbb", "final_particles_per_event", "hbb final particles / event"),
    ("hbb", "charged_particles_per_event", "hbb charged particles / event"),
    ("hbb", "final_particles_per_event_eta2p5", "hbb final, |eta| < 2.5"),
    ("hbb", "charged_particles_per_event_eta2p5", "hbb charged, |eta| < 2.5"),
    ("hbb", "final_particles_per_event_eta4p9", "hbb final, |eta| < 4.9"),
    ("qcd", "final_particles_per_event", "qcd final particles / event"),
    ("qcd", "charged_particles_per_event", "qcd charged particles / event"),
    ("qcd", "final_particles_per_event_eta2p5", "qcd final, |eta| < 2.5"),
    ("qcd", "charged_particles_per_event_eta2p5", "qcd charged, |eta| < 2.5"),
    ("qcd", "final_particles_per_event_eta4p9", "qcd final, |eta| < 4.9"),
    ("qcd", "charged_in_cone_gluon", "charged (pT>0.5) in R=0.4, gluon"),
    ("qcd", "charged_in_cone_quark", "charged (pT>0.5) in R=0.4, quark"),
    ("qcd", "cone_gluon_over_quark", "gluon / quark cone multiplicity"),
    ("qcd", "leading_parton_gluon_share", "leading hard parton is a gluon"),
    ("qcd", "qcd_lead_hf_fraction", "QCD lead: b/c hadron dR<1"),
    ("qcd", "qcd_lead_b_fraction", "QCD lead: b hadron dR<1"),
    ("qcd", "qcd_lead_c_fraction", "QCD lead: c (no b) hadron dR<1"),
    ("qcd", "qcd_lead_hf_fraction_pt5", "QCD lead: b/c hadron dR<1, pT>5"),
    ("qcd", "qcd_lead_b_fraction_pt5", "QCD lead: b hadron dR<1, pT>5"),
]


def main() -> None:
    """Measure the toy (and Pythia unless reused), print the table and write benchmarks/results/tune_toy.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000, help="events per process and generator")
    parser.add_argument("--pythia-events", type=int, default=None, help="Pythia events (default: --events)")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--reuse-pythia", action="store_true", help="take the Pythia numbers from the last results")
    args = parser.parse_args()
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    results = {"toy": run_toy(config, args.events, args.seed)}
    if args.reuse_pythia and RESULTS.exists():
        results["pythia8"] = json.loads(RESULTS.read_text())["pythia8"]
    else:
        results["pythia8"] = run_pythia(args.pythia_events or args.events, args.seed)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'':40s}{'toy':>10s}{'Pythia 8':>10s}")
    for process, key, label in ROWS:
        vals = [results[g][process].get(key) for g in ("toy", "pythia8")]
        print(f"{label:40s}" + "".join(f"{v:10.3f}" if v is not None else f"{'n/a':>10s}" for v in vals))
    for g in ("toy", "pythia8"):
        print(f"{g} QCD hard-parton shares: {results[g]['qcd'].get('hard_parton_shares')}")
    print(f"written {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
