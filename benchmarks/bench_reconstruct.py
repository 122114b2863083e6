"""Reconstruction throughput (events/s on one core) and peak memory, on event shards of the pipeline.

Uses the calibration shards for the IP templates and times ``reconstruct_shard`` on the analysis shards given
(default: the first analysis shard of each process under data/events/, as `snakemake` writes them). Writes
benchmarks/results/reconstruct.json. Single process, so the rate is per core.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from autopruner.btagging import IPTemplates
from autopruner.features import reconstruct_shard, track_jets_for_templates
from autopruner.io_utils import write_json

REPO = Path(__file__).resolve().parents[1]


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far [MiB] (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=str(REPO / "config/config.yaml"))
    parser.add_argument("--calibration", nargs="*", default=[str(REPO / "data/events/hbb/calib000.root"),
                                                            str(REPO / "data/events/qcd/calib000.root")])
    parser.add_argument("--shards", nargs="*", default=[str(REPO / "data/events/hbb/shard000.root"),
                                                       str(REPO / "data/events/qcd/shard000.root")])
    parser.add_argument("--output", default=str(REPO / "benchmarks/results/reconstruct.json"))
    args = parser.parse_args()
    missing = [p for p in (*args.calibration, *args.shards) if not Path(p).is_file()]
    if missing:
        raise SystemExit(f"event shards missing (run `snakemake data/events/...` first): {missing}")
    reco = yaml.safe_load(Path(args.config).read_text())["reconstruction"]

    start = time.perf_counter()
    parts = [track_jets_for_templates(p, reco) for p in args.calibration]
    sd0, sz0, is_b = (np.concatenate(x) for x in zip(*parts, strict=True))
    templates = IPTemplates.fit(sd0, sz0, is_b, reco["ip_templates"])
    template_s = time.perf_counter() - start
    rss_after_templates = peak_rss_mib()
    with tempfile.TemporaryDirectory() as tmp:
        tpl_path = os.path.join(tmp, "ip_templates.npz")
        templates.save(tpl_path)
        reconstruct_shard(args.shards[0], tpl_path, reco)  # warm-up: numba compilation, imports
        per_shard = []
        for shard in args.shards:
            t0 = time.perf_counter()
            _, flow = reconstruct_shard(shard, tpl_path, reco)
            dt = time.perf_counter() - t0
            per_shard.append({"shard": shard, "events": flow["events"], "seconds": dt,
                              "events_per_s": flow["events"] / dt, "cutflow": flow})
    n_events = sum(s["events"] for s in per_shard)
    total_s = sum(s["seconds"] for s in per_shard)
    result = {
        "reconstruct_events_per_s_per_core": n_events / total_s,
        "events": n_events,
        "seconds": total_s,
        "template_fit_seconds": template_s,
        "peak_rss_mib": peak_rss_mib(),
        "peak_rss_mib_after_templates": rss_after_templates,
        "per_shard": per_shard,
    }
    write_json(args.output, result)
    print(json.dumps({k: v for k, v in result.items() if k != "per_shard"}, indent=2))


if __name__ == "__main__":
    main()
