"""The pipeline's post-training firmware chain on any saved tagger, e.g. a comparison method's network.

The firmware rules take the primary seed's networks only: the AutoPruner's and, with `firmware.methods`, the
compared methods'. This diagnostic runs the same package functions as the rules `hls_project`, `da_rtl`, `da_verify`
and `yosys_synth` on any other Keras tagger — for instance `results/methods/magnitude/budget5/seed1/model.keras`
after a `config/study.yaml` run — so that its DA design's LUTs, latency and firmware rejection can be set beside
the rules' rows in `results/hls_summary.csv`. Same config (merged and validated like Snakemake's), same dataset, same
tools; it fails like `da_verify` if the DA design differs from the fixed-point emulation on a single candidate.
Writes OUTDIR/project/, OUTDIR/rtl/, da_report.json, da_emulation.json, yosys_report.json and a one-line summary
firmware_of_model.json.

Usage: ``python benchmarks/firmware_of_model.py MODEL.keras OUTDIR [--dataset results/dataset.root]
[--config config/study.yaml]``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from autopruner.config import load_config
from autopruner.firmware.da import make_design, require_bit_exact, verify_design
from autopruner.firmware.hls import make_project_from_files
from autopruner.firmware.yosys import synthesize_design
from autopruner.io_utils import write_json
from autopruner.training.tagger import configure_tensorflow


def firmware_of_model(model: Path, out: Path, dataset: Path, config: dict) -> dict:
    """Run project → DA design → bit-exact check → Yosys for `model`; return the summary written beside them."""
    t0 = time.perf_counter()
    project, rtl = out / "project", out / "rtl"
    make_project_from_files(model, dataset, config, project)
    da = make_design(project, config["firmware"], config["hls4ml"], rtl, out / "da_report.json")
    emulation = verify_design(rtl, project, dataset, config, out / "da_emulation.json")
    require_bit_exact(emulation, "the DA design differs from the fixed-point emulation")
    yosys = synthesize_design(rtl, config["firmware"], float(config["hls4ml"]["clock_period_ns"]))
    write_json(out / "yosys_report.json", yosys)
    summary = {
        "model": str(model),
        "da4ml": {key: da[key] for key in ("source", "LUT", "FF", "latency_cycles")},
        "yosys": {key: yosys.get(key) for key in ("status", "source", "reason", "LUT", "FF", "CARRY", "DSP",
                                                   "synthesis_s")},
        "da_auc": emulation["fixed"]["auc"],
        "da_rejection_50": emulation["fixed"]["rejection_50"],
        "da_rejection_50_err": emulation["fixed"]["rejection_50_err"],
        "seconds": time.perf_counter() - t0,
    }
    write_json(out / "firmware_of_model.json", summary)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--dataset", type=Path, default=Path("results/dataset.root"))
    parser.add_argument("--config", action="append", default=[], help="override files, merged in turn")
    args = parser.parse_args()
    configure_tensorflow(1)
    print(firmware_of_model(args.model, args.out, args.dataset, load_config(*args.config)))


if __name__ == "__main__":
    main()
