"""Reconstruction and end-to-end (generate + reconstruct) throughput per core, peak memory, cut flow, feature AUCs.

By default generates its own shards with ``generate_shard`` into a temporary folder (``--events`` per process for the
analysis shard shard000, ``--calibration-events`` for calib000; config/config.yaml plus ``--config-overrides``), so it
runs on a fresh checkout; ``--shards``/``--calibration`` time existing event files instead. IP templates come from the
calibration shards only. Single process and single-threaded, so every rate is per core. Also merges the candidates with
``dataset.merge_candidates`` and reports the single-feature ROC AUC on the test split. Writes
benchmarks/results/reconstruct.json.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from autopruner.config import load_config  # noqa: E402
from autopruner.dataset.merge import merge_candidates  # noqa: E402
from autopruner.dataset.plots import single_feature_auc  # noqa: E402
from autopruner.detector.shards import generate_shard  # noqa: E402
from autopruner.io_utils import write_json  # noqa: E402
from autopruner.reconstruction.btagging import IPTemplates  # noqa: E402
from autopruner.reconstruction.features import reconstruct_shard, track_jets_for_templates, write_candidates  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PROCESSES = ("hbb", "qcd")
WARMUP_EVENTS = 200


def peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory so far [MiB] of this process (or of its largest finished child); Linux reports KiB."""
    return resource.getrusage(who).ru_maxrss / 1024.0


def generate_inputs(config: dict, out_dir: Path, n_events: int, n_calibration: int) -> tuple[list, list, dict]:
    """Generate shard000 and calib000 of each process; (analysis paths, calibration paths, generator stats)."""
    shards, calibration, stats = [], [], {}
    for process in PROCESSES:
        generate_shard(config, process, "shard099", out_dir / f"warmup_{process}.root", WARMUP_EVENTS)  # numba
        for shard, n, paths in (("shard000", n_events, shards), ("calib000", n_calibration, calibration)):
            path = out_dir / process / f"{shard}.root"
            path.parent.mkdir(parents=True, exist_ok=True)
            stats[f"{process}/{shard}"] = generate_shard(config, process, shard, path, n_events=n)
            paths.append(path)
    return shards, calibration, stats


def fit_templates(calibration: list, reco: dict, path: Path) -> float:
    """Fit and save the IP templates from the calibration shards; returns the seconds it took."""
    start = time.perf_counter()
    parts = [track_jets_for_templates(p, reco) for p in calibration]
    sd0, sz0, is_b = (np.concatenate(x) for x in zip(*parts, strict=True))
    IPTemplates.fit(sd0, sz0, is_b, reco["ip_templates"]).save(path)
    return time.perf_counter() - start


def reconstruct_all(shards: list, template_path: Path, reco: dict, out_dir: Path) -> list[dict]:
    """Time reconstruct_shard per shard (after a warm-up) and write each shard's candidates to out_dir."""
    reconstruct_shard(shards[0], template_path, reco)  # warm-up: numba cache load, fastjet, imports
    per_shard = []
    for i, shard in enumerate(shards):
        t0 = time.perf_counter()
        candidates, flow = reconstruct_shard(shard, template_path, reco)
        dt = time.perf_counter() - t0
        out = out_dir / f"candidates_{i}.root"
        write_candidates(out, candidates)
        per_shard.append({"shard": str(shard), "candidates_file": out, "events": flow["events"], "seconds": dt,
                          "events_per_s": flow["events"] / dt, "cutflow": flow})
    return per_shard


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config-overrides", nargs="*", default=[], help="YAML merged over config/config.yaml")
    parser.add_argument("--events", type=int, default=10_000, help="generated events per process")
    parser.add_argument("--calibration-events", type=int, default=3_000, help="calibration events per process")
    parser.add_argument("--calibration", nargs="*", help="existing calibration event files (skip generation)")
    parser.add_argument("--shards", nargs="*", help="existing analysis event files, one per process")
    parser.add_argument("--output", default=str(REPO / "benchmarks/results/reconstruct.json"))
    args = parser.parse_args()
    if bool(args.shards) != bool(args.calibration):
        parser.error("--shards and --calibration go together")
    config = load_config(*args.config_overrides)
    reco = config["reconstruction"]

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.shards:
            shards, calibration, gen_stats = [Path(p) for p in args.shards], [Path(p) for p in args.calibration], {}
        else:  # in a child process, so that the peak memories of generation and reconstruction are separate
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                shards, calibration, gen_stats = pool.submit(
                    generate_inputs, config, tmp, args.events, args.calibration_events).result()
        template_s = fit_templates(calibration, reco, tmp / "ip_templates.npz")
        per_shard = reconstruct_all(shards, tmp / "ip_templates.npz", reco, tmp)
        dataset = tmp / "dataset.root"
        splits = merge_candidates([s.pop("candidates_file") for s in per_shard], config["dataset"]["split"],
                                  config["dataset"]["flatten_pt_bins_gev"], dataset)
        auc = single_feature_auc(dataset)

    n_events = sum(s["events"] for s in per_shard)
    reco_s = sum(s["seconds"] for s in per_shard)
    result = {
        "reconstruct_events_per_s_per_core": n_events / reco_s,
        "events": n_events,
        "reconstruct_seconds": reco_s,
        "template_fit_seconds": template_s,
        "peak_rss_mib_reconstruct": peak_rss_mib(),
        "cutflow": {Path(s["shard"]).parent.name: s["cutflow"] for s in per_shard},
        "dataset_candidates_per_split": splits,
        "single_feature_auc_test": dict(sorted(auc.items(), key=lambda kv: -kv[1])),
        "per_shard": per_shard,
        "python": platform.python_version(),
    }
    if gen_stats:
        gen_s = sum(gen_stats[f"{p}/shard000"]["seconds_total"] for p in PROCESSES)
        calib_s = sum(gen_stats[f"{p}/calib000"]["seconds_total"] for p in PROCESSES)
        result.update(
            generate_events_per_s_per_core=n_events / gen_s,
            generate_seconds=gen_s,
            end_to_end_events_per_s_per_core=n_events / (gen_s + reco_s),
            # calibration shards (generation + template fit) amortised over the analysis events
            peak_rss_mib_generate=peak_rss_mib(resource.RUSAGE_CHILDREN),
            end_to_end_with_calibration_events_per_s_per_core=n_events / (gen_s + reco_s + calib_s + template_s),
            generator=gen_stats,
        )
    write_json(args.output, result)
    print(json.dumps({k: v for k, v in result.items() if k not in ("per_shard", "generator")}, indent=2))


if __name__ == "__main__":
    main()
