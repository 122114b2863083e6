"""Wall time and convergence of every training of the stage on a synthetic 39-feature problem."""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from autopruner.training.pruning import PrunerSettings
from autopruner.training.steps import (
    Split,
    TrainingData,
    TrainSettings,
    feature_ranking,
    kept_hidden_sizes,
    reduce_model,
    retrain,
    train_autopruner,
    train_baseline,
)
from autopruner.training.tagger import configure_tensorflow


def synthetic_data(rng: np.random.Generator, n: int, n_features: int = 39, n_informative: int = 12) -> Split:
    """Features on different scales; the label depends non-linearly on the first ``n_informative`` only."""
    scale = np.geomspace(0.1, 100.0, n_features)
    z = rng.normal(size=(n, n_features))
    coef = np.linspace(1.0, 0.3, n_informative)
    logit = 0.6 * z[:, :n_informative] @ coef + 0.8 * z[:, 0] * z[:, 1] - 0.5 * z[:, 2] ** 2 + 0.5 * np.abs(z[:, 3])
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    w = rng.uniform(0.5, 1.5, n)
    return Split.of(z * scale + 3.0 * scale, y, w)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n-train", type=int, default=50_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--budgets", type=int, nargs="*", default=[30, 50, 70])
    parser.add_argument("--feature-budgets", type=int, nargs="*", default=[5, 10, 20, 30])
    parser.add_argument("--config", default="config/config.yaml")
    args = parser.parse_args()
    import yaml

    cfg = yaml.safe_load(open(args.config))
    configure_tensorflow(args.threads)
    rng = np.random.default_rng(12345)
    data = TrainingData(synthetic_data(rng, args.n_train), synthetic_data(rng, args.n_train // 3))
    settings = TrainSettings.from_config(cfg["training"])
    pruner = PrunerSettings.from_config(cfg["autopruner"])
    report = {}
    t0 = time.perf_counter()
    _, h = train_baseline(data, settings, 1)
    report["baseline"] = {k: h[k] for k in ("wall_time_s", "epochs_run", "best_epoch", "validation_auc")}
    print("baseline", report["baseline"], flush=True)
    for b in args.budgets:
        net, mask, h = train_autopruner(data, settings, pruner, b, 1)
        report[f"autopruner{b}"] = {
            k: h[k]
            for k in (
                "wall_time_s",
                "epochs_run",
                "anneal_start_epoch",
                "undecided_gates_at_anneal",
                "kept_per_layer",
                "validation_auc",
            )
        }
        print(b, report[f"autopruner{b}"], flush=True)
        reduce_model(net, mask)
        _, hr = retrain(data, kept_hidden_sizes(mask, 4), settings, 2)
        report[f"retrain{b}"] = {k: hr[k] for k in ("wall_time_s", "epochs_run", "best_epoch", "validation_auc")}
        print("retrain", b, report[f"retrain{b}"], flush=True)
    if args.feature_budgets:
        names = [f"f{i:02d}" for i in range(data.n_features)]
        r = feature_ranking(data, names, args.feature_budgets, settings, pruner, 3)
        report["feature_ranking"] = {
            "wall_time_s": r["wall_time_s"],
            "per_budget": [
                (b["k"], b["epochs_run"], round(b["validation_auc"], 4), sorted(b["kept"])) for b in r["budgets"]
            ],
        }
        print(report["feature_ranking"], flush=True)
    report["total_wall_s"] = time.perf_counter() - t0
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
