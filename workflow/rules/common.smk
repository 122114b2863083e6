# Shared path helpers and target functions: every stage names its files through these.

PROCESSES = ["hbb", "qcd"]


wildcard_constraints:
    process="hbb|qcd",
    shard="(shard|calib)[0-9]{3}",
    budget="[0-9]+",
    seed="[0-9]+",


def analysis_shards(process):
    """Shard ids of the analysis sample of one process (train/validation/test)."""
    return [f"shard{i:03d}" for i in range(config["generation"]["shards"][process])]


def calibration_shards(process):
    """Shard ids kept apart for the IP templates only (never trained or tested on)."""
    return [f"calib{i:03d}" for i in range(config["generation"]["calibration_shards"])]


def event_file(process, shard):
    return f"data/events/{process}/{shard}.root"


def calibration_event_files():
    return [event_file(p, s) for p in PROCESSES for s in calibration_shards(p)]


def feature_file(process, shard):
    return f"results/features/{process}/{shard}.root"


def feature_files():
    return [feature_file(p, s) for p in PROCESSES for s in analysis_shards(p)]


def cutflow_files():
    return [f"results/features/{p}/{s}.cutflow.json" for p in PROCESSES for s in analysis_shards(p)]


def budgets():
    """Hidden-node budgets in % of all hidden nodes."""
    return list(config["autopruner"]["budgets"])


def seeds():
    return list(config["training"]["seeds"])


def primary_seed():
    """The first seed writes the plain paths; every further seed writes under results/seed{S}/."""
    return seeds()[0]


def seed_dir(seed):
    """Results folder of one training seed."""
    return "results" if int(seed) == int(primary_seed()) else f"results/seed{seed}"


def final_targets():
    """What `snakemake` builds with no target: the ROC comparison, the firmware summary and the data plots."""
    return [
        "results/roc_all.pdf",
        "results/summary.csv",
        "results/hls_summary.csv",
        "results/hls_summary.pdf",
        "results/plots/features.pdf",
        "results/cutflow.csv",
        "results/feature_ranking.pdf",
    ]
