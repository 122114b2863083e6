# Shared helpers: the one results layout, the final targets, and what each rule receives from the config and the
# package (config subsets and source digests as params, so edits rerun exactly what depends on them).

from pathlib import Path

import yaml

from autopruner.generation import BACKEND_MODULES, backend_generation_config
from autopruner.provenance import JOB_LIST_KEYS, config_subset, source_digest

PROCESSES = ["hbb", "qcd"]
#: model kinds per variant: the baseline's one model, and per budget the AutoPruner model, its reduction and the
#: reduced architecture retrained from scratch
BASELINE_KINDS = ["model"]
BUDGET_KINDS = ["pruned", "reduced", "retrained"]
#: the networks that become firmware: the baseline and each budget's plain (gate-free) networks
FIRMWARE_BUDGET_KINDS = ["reduced", "retrained"]
#: the compared methods (methods.smk), as the config schema names them; with firmware.methods their networks become
#: firmware too, as kinds of their own
METHODS = yaml.safe_load((Path(workflow.current_basedir).parent / "schemas/config.schema.yaml").read_text())[
    "$defs"]["method"]["enum"]


wildcard_constraints:
    process="hbb|qcd",
    shard="(shard|calib)[0-9]{3}",
    budget="[0-9]+",
    seed="[0-9]+",
    variant="baseline|budget[0-9]+",
    kind="|".join(["model", "pruned", "reduced", "retrained", *METHODS]),


# --- config and code as params -------------------------------------------------------------------------------


def cfg(*keys):
    """The config subset a rule reads (dotted keys), passed as ``params.config``; without the lists of seeds, budgets
    and methods (``JOB_LIST_KEYS``), which say which jobs exist: adding a seed or a budget adds jobs and reruns the
    rules that gather them (their input files change), not the others."""
    return config_subset(config, *keys, exclude=JOB_LIST_KEYS)


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


def generation_config(backend=None):
    """Seed, detector and the ``generation`` keys the backend reads (default: the configured backend), so that
    editing one generator's settings reruns only its shards."""
    backend = config["generation"]["backend"] if backend is None else backend
    section = cfg("seed", "detector")
    section["generation"] = backend_generation_config(config["generation"], backend)
    return section


def generation_code(backend=None):
    """Digest of the shard writer and the one generator backend it runs."""
    backend = config["generation"]["backend"] if backend is None else backend
    return code("detector.shards", BACKEND_MODULES[backend].removeprefix("autopruner."))


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


def firmware_budgets():
    """The AutoPruner budgets whose networks become firmware: firmware.budgets, or all of autopruner.budgets when it
    is null. A budget that the AutoPruner does not train is refused, naming the key."""
    chosen = config["firmware"].get("budgets")
    if chosen is None:
        return budgets()
    unknown = sorted(set(chosen) - set(budgets()))
    if unknown:
        raise ValueError(f"firmware.budgets: {unknown} not among autopruner.budgets {budgets()}")
    return [b for b in budgets() if b in chosen]


def firmware_models():
    """(variant, kind) of every network turned into firmware (primary seed): the baseline, the AutoPruner's networks
    at firmware.budgets and, per method of firmware.methods, its network at each of methods.budgets (kind: the
    method)."""
    return (
        [("baseline", "model")]
        + [(budget_variant(b), k) for b in firmware_budgets() for k in FIRMWARE_BUDGET_KINDS]
        + [(budget_variant(b), m) for m in config["firmware"]["methods"] for b in method_budgets()]
    )


def firmware_source_model(wildcards):
    """The trained network behind results/hls/{variant}/{kind}/ (primary seed): a compared method's model where the
    kind names a method, else the AutoPruner's results/seed{S}/{variant}/{kind}.keras."""
    if wildcards.kind in METHODS:
        if wildcards.variant == "baseline":
            raise ValueError(f"results/hls/baseline/{wildcards.kind}: a compared method's network has a budget")
        budget = wildcards.variant.removeprefix("budget")
        return f"{method_dir(wildcards.kind, budget, primary_seed())}/model.keras"
    return model_file(primary_seed(), wildcards.variant, wildcards.kind)


def firmware_dir(variant, kind):
    return f"results/hls/{variant}/{kind}"


def hgq_summary_inputs():
    """The HGQ2 designs' reports for the summary, with firmware.quantization hgq; none with ptq."""
    if config["firmware"]["quantization"] != "hgq":
        return {}
    models = firmware_models()
    return {
        "hgq_da_reports": [f"{firmware_dir(v, k)}/hgq/da_report.json" for v, k in models],
        "hgq_da_emulations": [f"{firmware_dir(v, k)}/hgq/da_emulation.json" for v, k in models],
        "hgq_yosys_reports": [f"{firmware_dir(v, k)}/hgq/yosys_report.json" for v, k in models],
    }


# --- compared methods (methods.smk) --------------------------------------------------------------------------

#: rows of the comparison that the existing rules build: (method, kind of results/seed{S}/budget{B}/{kind}.keras,
#: the histories whose CPU time adds up to its time to solution)
AUTOPRUNER_ROWS = [
    ("autopruner", "pruned", ["history.json"]),
    ("autopruner_retrained", "retrained", ["history.json", "retrain_history.json"]),
]


def method_dir(method, budget, seed):
    """The folder of one method's model at one budget and training seed."""
    return f"results/methods/{method}/budget{budget}/seed{seed}"


def method_budgets():
    """Budgets at which every compared method runs."""
    return sorted(int(b) for b in config["methods"]["budgets"])


def autopruner_comparison_budgets():
    """The AutoPruner takes part at the comparison's budgets and at its own."""
    return sorted({*method_budgets(), *(int(b) for b in budgets())})


def comparison_entries():
    """(method, budget, seed, metrics file, history files) of every row of the comparison table."""
    rows = []
    for seed in seeds():
        base = variant_dir(seed, "baseline")
        rows.append(("baseline", 100, seed, model_file(seed, "baseline", "model", ".metrics.json"),
                     [f"{base}/history.json"]))
        for budget in autopruner_comparison_budgets():
            folder = variant_dir(seed, budget_variant(budget))
            for method, kind, histories in AUTOPRUNER_ROWS:
                rows.append((method, budget, seed, model_file(seed, budget_variant(budget), kind, ".metrics.json"),
                             [f"{folder}/{h}" for h in histories]))
        for method in config["methods"]["compare"]:
            for budget in method_budgets():
                folder = method_dir(method, budget, seed)
                rows.append((method, budget, seed, f"{folder}/model.metrics.json", [f"{folder}/history.json"]))
    return rows


def comparison_histories():
    """Every history file of the comparison, once each (a pruned and a retrained row share the AutoPruner's)."""
    return list(dict.fromkeys(h for entry in comparison_entries() for h in entry[4]))


def comparison_params():
    """Per row of the comparison: method, budget, seed and the indices of its histories in comparison_histories()."""
    index = {h: i for i, h in enumerate(comparison_histories())}
    return [{"method": m, "budget": b, "seed": s, "histories": [index[p] for p in h]}
            for m, b, s, _, h in comparison_entries()]


def method_outputs(method):
    """Model and history of one method job (wildcards budget and seed)."""
    folder = method_dir(method, "{budget}", "{seed}")
    return {"model": f"{folder}/model.keras", "history": f"{folder}/history.json"}


# --- validation (validation.smk) -----------------------------------------------------------------------------


def validation_dir(generator):
    """Events, features, dataset and taggers of one generator's validation sample."""
    return f"results/validation/{generator}"


def validation_event_file(generator, process, shard):
    """One shard of a generator's validation sample."""
    return f"data/validation/{generator}/{process}/{shard}.root"


def validation_dataset(generator):
    """The merged candidates of a generator's validation sample."""
    return f"{validation_dir(generator)}/dataset.root"


def validation_shards():
    """Shards per process of a validation sample (validation.events_per_process in shards of events_per_shard)."""
    section = config["validation"]
    n = -(-int(section["events_per_process"]) // int(section["events_per_shard"]))
    return [f"shard{i:03d}" for i in range(n)]


def validation_feature_files(generator, suffix=".root"):
    return [f"{validation_dir(generator)}/features/{p}/{s}{suffix}" for p in PROCESSES for s in validation_shards()]


def validation_folds():
    """Fold indices of the k-fold transfer test (validation.folds)."""
    return list(range(int(config["validation"]["folds"])))


def validation_fold_file(generator, seed, fold, name):
    """A file (``model.keras``, ``history.json``) of the model trained without fold ``fold`` of a generator's sample."""
    return f"{validation_dir(generator)}/seed{seed}/fold{fold}/{name}"


def validation_fold_files(generator, seed, name):
    """That file of every fold model of a generator's sample, in fold order."""
    return [validation_fold_file(generator, seed, fold, name) for fold in validation_folds()]


def validation_pooled(trained, tested, seed, suffix):
    """Pooled out-of-fold evaluation (``.metrics.json``, ``.scores.npz``) of one generator's fold models on a sample."""
    return f"{validation_dir(trained)}/seed{seed}/kfold_on_{tested}{suffix}"


def validation_seeds():
    """Training seeds of the transfer test (validation.training_seeds): k fold taggers per generator and seed."""
    return list(config["validation"]["training_seeds"])


def validation_metrics(trained, tested):
    """Pooled k-fold metrics of the taggers trained on one generator's sample, tested on another's, per training
    seed in validation.training_seeds order."""
    return [validation_pooled(trained, tested, seed, ".metrics.json") for seed in validation_seeds()]


def validation_generation_config(generator):
    """The generation config of a validation shard: what this generator reads, with the validation shard size."""
    section = generation_config(generator)
    section["generation"]["events_per_shard"] = int(config["validation"]["events_per_shard"])
    return section


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
        "results/methods/comparison.csv",
        "results/methods/comparison.pdf",
    ]
