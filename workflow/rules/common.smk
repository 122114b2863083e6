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
        *[f"results/budget{b}/roc.pdf" for b in budgets()],
        "results/summary.csv",
        "results/hls_summary.csv",
        "results/hls_summary.pdf",
        "results/plots/features.pdf",
        "results/cutflow.csv",
        "results/feature_ranking.pdf",
    ]


# --- evaluation and firmware (evaluate.smk, hls.smk) -------------------------------------------------------------


def evaluation_stem(kind, budget=None, seed=None):
    """Path stem (no suffix) of an evaluated model: results/baseline/model, results/seed1/budget50/pruned..."""
    root = seed_dir(primary_seed() if seed is None else seed)
    return f"{root}/baseline/model" if kind == "baseline" else f"{root}/budget{budget}/{kind}"


def evaluated_models():
    """(kind, budget, seed) of every model on the ROC pages: baseline, pruned and retrained per budget and seed."""
    models = []
    for seed in seeds():
        models.append(("baseline", None, seed))
        models += [(kind, b, seed) for b in budgets() for kind in ("pruned", "retrained")]
    return models


def hls_models():
    """Firmware model names: baseline and each budget's reduced and retrained network (primary seed)."""
    return ["baseline"] + [f"budget{b}_{kind}" for b in budgets() for kind in ("reduced", "retrained")]


def hls_model_keras(name):
    """The Keras file behind a firmware model name."""
    if name == "baseline":
        return "results/baseline/model.keras"
    budget, kind = name.split("_")
    return f"results/{budget}/{kind}.keras"



# --- training (train.smk) ----------------------------------------------------------------------------------------


def dataset_file():
    """The split, p_T-flattened candidate dataset every training reads."""
    return "results/dataset.root"


def model_path(kind, budget=None, seed=None):
    """A trained model: kind baseline (results/baseline/model.keras) or pruned/reduced/retrained of one budget."""
    root = seed_dir(primary_seed() if seed is None else seed)
    return f"{root}/baseline/model.keras" if kind == "baseline" else f"{root}/budget{budget}/{kind}.keras"


def training_file(name, budget=None, seed=None):
    """A training side file (history.json, mask.json, training.pdf, retrain_history.json) beside its model."""
    root = seed_dir(primary_seed() if seed is None else seed)
    return f"{root}/baseline/{name}" if budget is None else f"{root}/budget{budget}/{name}"


def training_threads():
    """Threads per training job (TensorFlow intra-op); Snakemake caps it at --cores."""
    return int(config["training"].get("threads", 2))
