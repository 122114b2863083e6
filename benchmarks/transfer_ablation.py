"""Which features cost the toy-trained tagger its rejection on Pythia: the validation's k-fold transfer test, rerun
with feature groups blanked (`autopruner.validation.ablation`).

Reads the two validation datasets that `make validate` leaves (results/validation/{toy,pythia8}/dataset.root) and
the config they were made with; for each group (none, the H -> b bbar multiplicities, QCD tau32 by default) trains
the k toy fold models with the group blanked and writes toy-on-toy, toy-on-Pythia and the loss at eps_S = 50 % to
benchmarks/results/transfer_ablation.json. Each group costs k trainings: ~30 s at 96k events per process
(`config/validate_96k.yaml`) on 2 cores, less at the default 24k.

Usage: ``python benchmarks/transfer_ablation.py [--config config/validate_96k.yaml] [--group NAME=f1,f2 ...]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from autopruner.config import load_config
from autopruner.io_utils import write_json
from autopruner.training.tagger import configure_tensorflow
from autopruner.validation.ablation import transfer_with_blanked_features
from autopruner.validation.folds import read_candidates

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "transfer_ablation.json"
DEFAULT_GROUPS = {
    "none": [],
    "hbb_multiplicities": ["fj_n_tracks", "tj1_n_tracks", "tj2_n_tracks", "fj_n_constituents"],
    "tau32": ["fj_tau32"],
}


def parse_groups(specs: list[str] | None) -> dict[str, list[str]]:
    """{name: features} from NAME=f1,f2 arguments, or the default groups."""
    if not specs:
        return DEFAULT_GROUPS
    return {name: [f for f in features.split(",") if f] for name, features in (s.split("=", 1) for s in specs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="config override the validation datasets were made with", default=None)
    parser.add_argument("--group", action="append", help="NAME=feature1,feature2 (repeatable)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    config = load_config(*([ROOT / args.config] if args.config else []))
    configure_tensorflow(args.threads)
    toy = read_candidates(ROOT / "results" / "validation" / "toy" / "dataset.root")
    pythia = read_candidates(ROOT / "results" / "validation" / "pythia8" / "dataset.root")
    out = {"config": args.config or "config/config.yaml",
           "events_per_process": int(config["validation"]["events_per_process"]), "groups": {}}
    for name, features in parse_groups(args.group).items():
        start = time.perf_counter()
        result = transfer_with_blanked_features(toy, pythia, config, features)
        out["groups"][name] = result | {"seconds": time.perf_counter() - start}
        r_toy = result["toy_on_toy"]["rejection"]["0.5"]
        r_pythia = result["toy_on_pythia"]["rejection"]["0.5"]
        print(f"{name:20s} toy on toy {r_toy['value']:.0f} +- {r_toy['err']:.0f}, toy on Pythia "
              f"{r_pythia['value']:.0f} +- {r_pythia['err']:.0f}, loss {result['loss']['value']:.1%} "
              f"+- {result['loss']['err']:.1%}", flush=True)
        write_json(RESULTS, out)
    print(json.dumps({k: v["loss"] for k, v in out["groups"].items()}))


if __name__ == "__main__":
    main()
