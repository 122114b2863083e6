# Shared helpers: the one results layout, the final targets, and what each rule receives from the config and the
# package (config subsets and source digests as params, so edits rerun exactly what depends on them).

from pathlib import Path

import yaml

from autopruner.provenance import config_subset, source_digest

PROCESSES = ["hbb", "qcd"]
#: model kinds per variant: the baseline's one model, and per budget the AutoPruner model, its reduction and the
#: reduced architecture retrained from scratch
BASELINE_KINDS = ["model"]
BUDGET_KINDS = ["pruned", "reduced", "retrained"]
#: the networks that become firmware: the baseline and each budget's plain (gate-free) networks
FIRMWARE_BUDGET_KINDS = ["reduced", "retrained"]


wildcard_constraints:
    process="hbb|qcd",
    shard="(shard|calib)[0-9]{3}",
    budget="[0-9]+",
    seed="[0-9]+",
    variant="baseline|budget[0-9]+",
    kind="model|pruned|reduced|retrained",


# --- config and code as params -------------------------------------------------------------------------------


def cfg(*keys):
    """The config subset a rule reads (dotted keys), passed as ``params.config``."""
    return config_subset(config, *keys)


def code(*modules):
    """Digest of the package modules a rule's script calls and everything they import, passed as
    ``params.code``."""
    return source_digest(*(f"autopruner.{m}" for m in modules))


RESOURCES = yaml.safe_load((Path(workflow.current_basedir).parent / "resources.yaml").read_text())


def resource(rule_name, key):
    """Measured memory (``mem_mb``) or wall time (``runtime``, minutes) of one job of a rule (resources.yaml), times
    the attempt: a batch job killed for memory or time (Slurm, HTCondor) is resubmitted by ``--retries`` with twice,
    then three times as much. The first attempt, and so every local run, gets the measured number."""
    measured = int(RESOURCES[rule_name][key])
    return lambda wildcards, attempt: measured * attempt


def tf_threads():
    """Threads of a job that runs TensorFlow (intra-op and inter-op pools); Snakemake caps it at --cores."""
    return int(config["training"]["threads"])


# --- events and features -------------------------------------------------------------------------------------


def analysis_shards(process):
    """Shard ids of the analysis sample of one process (train/validation/test)."""
    return [f"shard{i:03d}" for i in range(config["generation"]["shards"][process])]


def calibration_shards():
    """Shard ids kept apart for the IP templates only (never trained or tested on)."""
    return [f"calib{i:03d}" for i in range(config["generation"]["calibration_shards"])]


def event_file(process, shard):
    """One generated shard."""
    return f"data/events/{process}/{shard}.root"


def calibration_event_files():
    return [event_file(p, s) for p in PROCESSES for s in calibration_shards()]


def feature_file(process, shard, suffix=".root"):
    """The candidates of one analysis shard (``.root``) or its cut flow (``.cutflow.json``)."""
    return f"results/features/{process}/{shard}{suffix}"


def feature_files(suffix=".root"):
    return [feature_file(p, s, suffix) for p in PROCESSES for s in analysis_shards(p)]


DATASET = "results/dataset.root"


# --- models: results/seed{S}/{variant}/{kind}.keras ----------------------------------------------------------


def budgets():
    """Hidden-node budgets in % of all hidden nodes."""
    return list(config["autopruner"]["budgets"])


def seeds():
    """Training seeds; the first is the primary one (firmware, per-budget ROC pages)."""
    return list(config["training"]["seeds"])


def primary_seed():
    return seeds()[0]


def variant_dir(seed, variant):
    """The folder of one variant (``baseline`` or ``budget{B}``) trained with one seed."""
    return f"results/seed{seed}/{variant}"


def model_file(seed, variant, kind, suffix=".keras"):
    """A model (``.keras``) or its evaluation (``.metrics.json``, ``.scores.npz``)."""
    return f"{variant_dir(seed, variant)}/{kind}{suffix}"


def evaluated(seed, variant, kind):
    """Metrics and scores of one evaluated model."""
    return [model_file(seed, variant, kind, ".metrics.json"), model_file(seed, variant, kind, ".scores.npz")]


def budget_variant(budget):
    return f"budget{budget}"


def models(seeds_=None):
    """(seed, variant, kind) of every evaluated model."""
    out = []
    for seed in seeds() if seeds_ is None else seeds_:
        out.append((seed, "baseline", "model"))
        out += [(seed, budget_variant(b), k) for b in budgets() for k in ("pruned", "retrained")]
    return out


def firmware_models():
    """(variant, kind) of every network turned into firmware (primary seed)."""
    return [("baseline", "model")] + [(budget_variant(b), k) for b in budgets() for k in FIRMWARE_BUDGET_KINDS]


def firmware_dir(variant, kind):
    return f"results/hls/{variant}/{kind}"


def final_targets():
    """What `snakemake` builds with no target: the ROC comparison, the firmware summary and the data plots."""
    return [
        "results/roc_all.pdf",
        *[f"{variant_dir(primary_seed(), budget_variant(b))}/roc.pdf" for b in budgets()],
        "results/summary.csv",
        "results/hls_summary.csv",
        "results/hls_summary.pdf",
        "results/plots/features.pdf",
        "results/cutflow.csv",
        f"results/seed{primary_seed()}/feature_ranking.pdf",
    ]
