"""What the underlying event and the Higgs decay put into the H -> b bbar jet, toy against Pythia 8, at particle level.

Two measurements (`autopruner.validation.tuning`), written to benchmarks/results/tune_underlying_event.json:

1. Pythia 8's secondary scatterings (``Info::pTMPI``, parton level, ``--mpi-events`` per process at pTHatMin of the
   config) fitted with the toy's MPI spectrum dsigma/dpT^2 ~ (pT^2 + pT0^2)^-n above ``generation.mpi.pt_min_gev``:
   the config's ``mpi.{mean_scatterings, pt0_gev, spectrum_power}`` come from this fit.
2. Around the truth Higgs (dR < 1, Higgs pT 300-400 GeV, |eta| < 1.5) of H -> b bbar events, for both generators
   with everything on, without ISR, without MPI (the toy: without its MPI scatterings and soft underlying-event
   particles) and without either: the pT fractions in neutrinos, muons and visible particles, the visible mass,
   the charged multiplicity and the transverse region's charged density. The differences between the modes say what
   ISR and MPI each add to the Higgs jet in each generator.

Usage: ``python benchmarks/tune_underlying_event.py [--config config/config.yaml] [--events N] [--mpi-events N]``.
Pythia takes ~1 minute per 8 000 H -> b bbar events per mode on one core here; the toy a few seconds.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import numpy as np

from autopruner import seeding
from autopruner.config import load_config
from autopruner.detector.shards import backend_module
from autopruner.generation.pythia import make_pythia, pythia_settings
from autopruner.io_utils import write_json
from autopruner.validation.tuning import fit_mpi_spectrum, higgs_cone_observables

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "tune_underlying_event.json"
MODES = ("full", "no_isr", "no_mpi", "neither")
PYTHIA_SEED = 777


def pythia_mpi_pts(config: dict, process: str, n_events: int) -> tuple[np.ndarray, int]:
    """pT of every secondary scattering of `n_events` Pythia events (parton level only), and the events made."""
    pythia = make_pythia(pythia_settings(config, process, PYTHIA_SEED) + ["HadronLevel:all = off"])
    pts: list[float] = []
    made = 0
    for _ in range(n_events):
        if not pythia.next():
            continue
        made += 1
        info = pythia.infoPython()
        pts.extend(info.pTMPI(i) for i in range(1, info.nMPI()))
    return np.asarray(pts), made


def mode_config(config: dict, backend: str, mode: str) -> dict:
    """The config with ISR and/or MPI switched off in the given backend."""
    cfg = copy.deepcopy(config)
    gen = cfg["generation"]
    gen["backend"] = backend
    if mode in ("no_isr", "neither"):
        gen["isr"]["mean_emissions"] = 0.0
        gen["pythia8"]["extra_settings"] = [*gen["pythia8"]["extra_settings"], "PartonLevel:ISR = off"]
    if mode in ("no_mpi", "neither"):
        gen["mpi"]["mean_scatterings"] = 0.0
        gen["underlying_event_mean_particles"] = 0.0
        gen["pythia8"]["mpi"] = False
    return cfg


def cone_observables(config: dict, backend: str, mode: str, n_events: int) -> dict:
    """`higgs_cone_observables` of n H -> b bbar events of one backend and mode."""
    cfg = mode_config(config, backend, mode)
    rng = seeding.stream(cfg["seed"], "hbb", "analysis", 900).spawn(2)[0]
    events = backend_module(backend).generate_events(cfg, "hbb", n_events, rng)
    return higgs_cone_observables(events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None, help="config merged over config/config.yaml")
    parser.add_argument("--events", type=int, default=8000, help="H -> b bbar events per generator and mode")
    parser.add_argument("--mpi-events", type=int, default=5000, help="Pythia events per process for the MPI fit")
    args = parser.parse_args()
    config = load_config(*([args.config] if args.config else []))
    t0 = time.perf_counter()
    result: dict = {"events": args.events, "mpi_events": args.mpi_events, "mpi_fit": {}, "higgs_cone": {}}
    pt_min = float(config["generation"]["mpi"]["pt_min_gev"])
    for process in ("hbb", "qcd"):
        pts, made = pythia_mpi_pts(config, process, args.mpi_events)
        result["mpi_fit"][process] = fit_mpi_spectrum(pts, made, pt_min)
        result["mpi_fit"][process]["pythia_above_gev"] = {
            str(c): float(np.count_nonzero(pts > c) / made) for c in (2, 3, 5, 10, 20)
        }
        print(process, json.dumps(result["mpi_fit"][process]))
    for backend in ("toy", "pythia8"):
        result["higgs_cone"][backend] = {}
        for mode in MODES:
            obs = cone_observables(config, backend, mode, args.events)
            result["higgs_cone"][backend][mode] = obs
            print(backend, mode, json.dumps({k: round(v, 4) for k, v in obs.items()}))
    result["seconds"] = time.perf_counter() - t0
    write_json(RESULTS, result)
    print(f"wrote {RESULTS} in {result['seconds']:.0f} s")


if __name__ == "__main__":
    main()
