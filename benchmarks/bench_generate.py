"""Benchmark of rule generate: toy generator + detector events/s per core, peak memory, Pythia 8's own rate.

Every measurement runs in its own single-threaded child process (so peak RSS is per shard): one default shard
(generation.events_per_shard events) per process, timed after a warm-up that loads the numba cache. The toy runs as the
`generate` rule runs it (`autopruner.detector.shards.simulate_shard`: events generated and handed to the detector
`CHUNK_EVENTS` at a time, glibc keeping freed memory for reuse); both children set that allocator option. Pythia 8
(pythia8mc) runs as the pipeline's backend runs it (its settings from config/config.yaml: HiggsSM:qg2Hq keeping
b g -> H b, or HardQCD:all, at pTHatMin = 250 GeV, 14 TeV, with hadronization and MPI) until PYTHIA_EVENTS events are
accepted, then the same detector simulates them: its rate is per accepted event, generation + detector, as the issue
defines the comparison. Only pythia.next() (with the acceptance test) and the detector are timed: the backend's
nextBatch also copies each record into an awkward array (up to ~0.4 ms of its ~7-8 ms per event), which would flatter
the toy, and the record walk used here to read the events for the detector is slower still. Both are timed in wall-clock
and in CPU seconds of the process; on a machine shared with other jobs the CPU-time rates (and their ratio) are the
steadier measure of events per core. The toy's CPU time is also split into user and system time (with the minor page
faults): the system part is the kernel zeroing and mapping the fresh pages that the shard's arrays are first written to.
Also reports per shard: charged multiplicity per jet (charged final-state particles within dR < 1 of the leading hard
object, pT > 250 GeV), tracks and towers per event, and the fraction of signal events whose two H -> b quarks lie within
dR < 1.0. The (toy, Pythia) pair is measured ``--repeats`` times per process, interleaved (default 3, ~3 min in all
here), and the median of the pairs' ratios is the speed-up to quote: either rate moves by up to +-20 % with the
machine's load, the ratio of two runs side by side much less. Writes benchmarks/results/generate.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "generate.json"
PYTHIA_EVENTS = 1000  # ~10 s per process: a rate stable to a few per cent


def cpu_split() -> tuple[float, float, int]:
    """(user CPU s, system CPU s, minor page faults) of this process so far: system time is mostly the kernel
    zeroing and mapping fresh pages the first time arrays are written."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime, r.ru_minflt


def peak_rss_mb() -> float:
    """Peak resident memory of this process [MB] (ru_maxrss is in kB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def jet_charged_multiplicity(gen, process: str) -> float:
    """Mean number of charged final-state particles within dR < 1 of the leading hard object (pT > 250)."""
    from autopruner.kinematics import delta_r, pt_eta_phi

    p = gen.particles
    role = 1 if process == "hbb" else 0
    t = gen.partons
    ev_of_parton = np.repeat(np.arange(p.n_events), gen.parton_counts)
    cand = np.flatnonzero(t["role"] == role)
    best = np.full(p.n_events, -1)
    order = cand[np.argsort(t["pt"][cand])]  # later (higher pT) entries overwrite earlier ones
    best[ev_of_parton[order]] = order
    ok = best >= 0
    lead = best[ok]
    pt, eta, phi = pt_eta_phi(p.px, p.py, p.pz)
    ev = p.event_index()
    charged = p.charge != 0
    lead_of_particle = np.full(p.n_events, -1)
    lead_of_particle[np.flatnonzero(ok)] = lead
    lp = lead_of_particle[ev]
    valid = lp >= 0
    dr = np.full(ev.size, np.inf)
    dr[valid] = delta_r(eta[valid], phi[valid], t["eta"][lp[valid]], t["phi"][lp[valid]])
    n_in_jet = np.bincount(ev[charged & (dr < 1.0)], minlength=p.n_events)
    jets = ok.copy()
    jets[ok] &= t["pt"][lead] > 250.0
    return float(n_in_jet[jets].mean())


def bb_within_dr(gen, dr_max: float = 1.0) -> float:
    """Fraction of signal events whose two b quarks from the Higgs lie within dR < dr_max."""
    from autopruner.kinematics import delta_r

    b = gen.partons["role"] == 2
    eta = gen.partons["eta"][b].reshape(-1, 2)
    phi = gen.partons["phi"][b].reshape(-1, 2)
    return float(np.mean(delta_r(eta[:, 0], phi[:, 0], eta[:, 1], phi[:, 1]) < dr_max))


def child_toy(process: str) -> dict:
    """Time one default shard of `process` (generate + detector as the pipeline runs them, chunk by chunk, then the
    write) and collect its physics summary (from the same events generated again whole, untimed)."""
    from autopruner import seeding
    from autopruner.detector.shards import CHUNK_EVENTS, simulate_shard, write_simulated_shard
    from autopruner.generation.toy import generate_event_chunks, generate_events
    from autopruner.memory import keep_freed_memory

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    n = int(config["generation"]["events_per_shard"])
    keep_freed_memory()  # as generate_shard does
    # loads / compiles the numba cache
    simulate_shard(generate_event_chunks(config, process, 50, np.random.default_rng(0), 20), config["detector"],
                   np.random.default_rng(0))
    stream = seeding.stream(config["seed"], process, "analysis", 0)
    gen_rng, det_rng = stream.spawn(2)
    u0 = cpu_split()
    t0, c0 = time.perf_counter(), time.process_time()
    simulated = simulate_shard(generate_event_chunks(config, process, n, gen_rng, CHUNK_EVENTS), config["detector"],
                               det_rng, n)
    t1, c1 = time.perf_counter(), time.process_time()
    u1 = cpu_split()
    rss_mb = peak_rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        written = write_simulated_shard(Path(tmp) / "shard000.root", simulated, config, process, "shard000")
        size_mb = (Path(tmp) / "shard000.root").stat().st_size / 1e6
    t2 = time.perf_counter()
    gen = generate_events(config, process, n, seeding.stream(config["seed"], process, "analysis", 0).spawn(2)[0])
    det = simulated.response
    out = {
        "events": n,
        "events_per_chunk": CHUNK_EVENTS,
        "seconds_generate_detector": t1 - t0,
        "seconds_write": written["seconds_write"],
        "events_per_s_generate_detector": n / (t1 - t0),
        "cpu_seconds_generate": simulated.seconds_generate,
        "cpu_seconds_detector": simulated.seconds_detector,
        "events_per_cpu_s_generate_detector": n / (c1 - c0),
        "user_cpu_seconds_generate_detector": u1[0] - u0[0],
        "system_cpu_seconds_generate_detector": u1[1] - u0[1],
        "minor_page_faults_generate_detector": u1[2] - u0[2],
        "events_per_s_with_write": n / (t2 - t0),
        "peak_rss_mb": rss_mb,
        "file_mb": size_mb,
        "particles_per_event": float(gen.particles.counts.mean()),
        "charged_per_jet": jet_charged_multiplicity(gen, process),
        "tracks_per_event": float(det.track_counts.mean()),
        "towers_per_event": float(det.tower_counts.mean()),
    }
    if process == "hbb":
        out["frac_h_bb_within_dr_1"] = bb_within_dr(gen)
    return out


def child_pythia(process: str) -> dict:
    """Pythia 8's rate per accepted event of the pipeline's process, generation and detector, as the backend runs it.

    Settings, seeding and acceptance are the pipeline's own (`pythia_settings`; the signal keeps only b g -> H b, so
    about 8 % of HiggsSM:qg2Hq events, c g -> H c, are generated and dropped). Only `next_accepted` (Pythia's
    ``next()`` and the acceptance test, the same events the backend's ``nextBatch`` makes) and the detector are timed:
    reading the record (`read_event`) and the copy ``nextBatch`` makes of it would flatter the toy. The detector runs
    once on all events read, as in a shard.
    """
    from autopruner import seeding
    from autopruner.detector.simulation import simulate_detector
    from autopruner.generation.events import PROCESS_ID
    from autopruner.generation.pythia import (
        ChargeTable,
        is_b_initiated,
        make_pythia,
        next_accepted,
        primary_vertices,
        pythia_settings,
        pythia_version,
        read_event,
    )
    from autopruner.generation.record import build_events
    from autopruner.memory import keep_freed_memory

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    keep_freed_memory()  # as generate_shard does, whatever the backend
    pythia = make_pythia(pythia_settings(config, process, seed=12345))
    accept = is_b_initiated if process == "hbb" else (lambda event: True)
    charges = ChargeTable(pythia.particleData)
    records = []
    tried = 0
    dt = cpu = 0.0
    while len(records) < PYTHIA_EVENTS:
        t0, c0 = time.perf_counter(), time.process_time()
        tried += next_accepted(pythia, accept)  # the backend's own loop: failures retried, rejected events counted
        dt += time.perf_counter() - t0
        cpu += time.process_time() - c0
        records.append(read_event(pythia.event, charges))
    gen_rng, det_rng = seeding.stream(config["seed"], process, "analysis", 0).spawn(2)
    events = build_events(records, primary_vertices(gen_rng, len(records), config["detector"]), PROCESS_ID[process])
    simulate_detector(events.particles, config["detector"], np.random.default_rng(0))  # loads the numba cache
    t0, c0 = time.perf_counter(), time.process_time()
    simulate_detector(events.particles, config["detector"], det_rng)
    dt_det, cpu_det = time.perf_counter() - t0, time.process_time() - c0
    n = len(records)
    return {
        "events": n,
        "events_generated": tried,
        "seconds_generate": dt,
        "seconds_detector": dt_det,
        "seconds": dt + dt_det,
        "events_per_s": n / (dt + dt_det),
        "cpu_seconds": cpu + cpu_det,
        "events_per_cpu_s": n / (cpu + cpu_det),
        "final_particles_per_event": float(events.particles.counts.mean()),
        "version": pythia_version(pythia),
    }


def run_child(kind: str, process: str) -> dict:
    """Run one measurement in a fresh single-threaded interpreter; returns its JSON result."""
    res = subprocess.run(
        [sys.executable, __file__, "--child", kind, process],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def speedup(toy: dict, py: dict, toy_key: str, py_key: str) -> float | None:
    """The toy's rate over Pythia's, or None where Pythia did not run."""
    return toy[toy_key] / py[py_key] if py.get(py_key) else None


def measure(repeats: int) -> dict:
    """`repeats` interleaved (toy, Pythia) pairs per process; the first pair's full results, every pair's rates and
    ratio, and the median ratio.

    Both rates drift with the machine's load by up to +-20 % between runs; a toy run and the Pythia run right after
    it share the load, so each pair's ratio is steadier than either rate, and the median over pairs is the figure
    to quote, with the pairs' range beside it.
    """
    results: dict = {"toy": {}, "pythia8": {}}
    for process in ("hbb", "qcd"):
        pairs = []
        for _ in range(repeats):
            toy = run_child("toy", process)
            try:
                py = run_child("pythia", process)
            except (subprocess.CalledProcessError, ValueError) as exc:
                py = {"error": str(exc)}
            toy["speedup_vs_pythia8"] = speedup(toy, py, "events_per_s_generate_detector", "events_per_s")
            toy["speedup_vs_pythia8_cpu"] = speedup(toy, py, "events_per_cpu_s_generate_detector", "events_per_cpu_s")
            pairs.append((toy, py))
        toy, py = pairs[0]
        toy["repeats"] = [
            {
                "toy_events_per_s": t["events_per_s_generate_detector"],
                "pythia8_events_per_s": p.get("events_per_s"),
                "speedup_vs_pythia8": t["speedup_vs_pythia8"],
                "speedup_vs_pythia8_cpu": t["speedup_vs_pythia8_cpu"],
            }
            for t, p in pairs
        ]
        ratios = [r["speedup_vs_pythia8"] for r in toy["repeats"] if r["speedup_vs_pythia8"] is not None]
        toy["speedup_vs_pythia8_median"] = float(np.median(ratios)) if ratios else None
        toy["speedup_vs_pythia8_range"] = [min(ratios), max(ratios)] if ratios else None
        results["toy"][process], results["pythia8"][process] = toy, py
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3,
                        help="interleaved (toy, Pythia) pairs per process; the median ratio is quoted (default 3)")
    args = parser.parse_args()
    results = {
        "machine": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "repeats": args.repeats,
        **measure(args.repeats),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    from autopruner.io_utils import write_json

    write_json(RESULTS, results)
    print(f"{'':28s}{'hbb':>12s}{'qcd':>12s}")
    rows = [
        ("toy gen+det [ev/s/core]", "events_per_s_generate_detector", "{:12.0f}"),
        ("toy incl. write [ev/s]", "events_per_s_with_write", "{:12.0f}"),
        ("peak RSS per shard [MB]", "peak_rss_mb", "{:12.0f}"),
        ("toy gen+det [ev/CPU-s]", "events_per_cpu_s_generate_detector", "{:12.0f}"),
        ("  of which system CPU [s]", "system_cpu_seconds_generate_detector", "{:12.2f}"),
        ("speed-up vs Pythia 8, median", "speedup_vs_pythia8_median", "{:12.1f}"),
        ("speed-up, first pair", "speedup_vs_pythia8", "{:12.1f}"),
        ("speed-up, CPU time", "speedup_vs_pythia8_cpu", "{:12.1f}"),
        ("charged per jet", "charged_per_jet", "{:12.1f}"),
        ("tracks per event", "tracks_per_event", "{:12.1f}"),
        ("towers per event", "towers_per_event", "{:12.1f}"),
    ]
    for label, key, fmt in rows:
        vals = [results["toy"][p].get(key) for p in ("hbb", "qcd")]
        print(f"{label:28s}" + "".join(fmt.format(v) if v is not None else f"{'n/a':>12s}" for v in vals))
    py = [results["pythia8"][p].get("events_per_s") for p in ("hbb", "qcd")]
    print(f"{'Pythia 8 [ev/s/core]':28s}" + "".join(f"{v:12.1f}" if v else f"{'n/a':>12s}" for v in py))
    py = [results["pythia8"][p].get("events_per_cpu_s") for p in ("hbb", "qcd")]
    print(f"{'Pythia 8 [ev/CPU-s]':28s}" + "".join(f"{v:12.1f}" if v else f"{'n/a':>12s}" for v in py))
    for p in ("hbb", "qcd"):
        ratios = [r["speedup_vs_pythia8"] for r in results["toy"][p]["repeats"]]
        print(f"speed-up per pair, {p}: " + ", ".join(f"{r:.1f}" if r is not None else "n/a" for r in ratios))
    print(f"signal events with dR(b, b) < 1.0: {results['toy']['hbb']['frac_h_bb_within_dr_1']:.3f}")
    print(f"written {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        fn = child_toy if sys.argv[2] == "toy" else child_pythia
        print(json.dumps(fn(sys.argv[3])))
    else:
        main()
