# Training, per seed S (training.seeds): the baseline; per budget B the AutoPruner model, its reduction to a plain
# network and that architecture retrained from scratch; the input-feature ranking. Everything lands in
# results/seed{S}/{variant}/ (variant: baseline or budget{B}).

TRAINING_KEYS = ("seed", "training")
PRUNING_KEYS = (*TRAINING_KEYS, "autopruner")


rule train_baseline:
    """The unpruned tagger: Normalization + hidden ReLU layers + sigmoid, early stopping on the validation loss."""
    input:
        dataset=DATASET,
    output:
        model=model_file("{seed}", "baseline", "model"),
        history=f"{variant_dir('{seed}', 'baseline')}/history.json",
    params:
        config=cfg(*TRAINING_KEYS),
        code=code("training.steps"),
    log:
        "logs/train/seed{seed}/baseline.log",
    benchmark:
        "logs/benchmarks/train_baseline/seed{seed}.tsv"
    # many jobs are ready once the dataset is; the baseline goes first, or its firmware (the largest) ends the run
    priority: 10
    threads: tf_threads()
    resources:
        mem_mb=resource("train_baseline", "mem_mb"),
        runtime=resource("train_baseline", "runtime"),
    script:
        "../scripts/train_baseline.py"


rule train_autopruner:
    """Hidden-layer AutoPruner training to exactly k = ceil(B% of the hidden nodes) open gates."""
    input:
        dataset=DATASET,
    output:
        model=model_file("{seed}", "budget{budget}", "pruned"),
        mask=f"{variant_dir('{seed}', 'budget{budget}')}/mask.json",
        history=f"{variant_dir('{seed}', 'budget{budget}')}/history.json",
        plot=report(f"{variant_dir('{seed}', 'budget{budget}')}/training.pdf", caption="../report/training.rst",
                    category="Training", labels={"seed": "{seed}", "budget": "{budget} %"}),
    params:
        config=cfg(*PRUNING_KEYS),
        code=code("training.steps"),
    log:
        "logs/train/seed{seed}/budget{budget}/autopruner.log",
    benchmark:
        "logs/benchmarks/train_autopruner/seed{seed}/budget{budget}.tsv"
    threads: tf_threads()
    resources:
        mem_mb=resource("train_autopruner", "mem_mb"),
        runtime=resource("train_autopruner", "runtime"),
    script:
        "../scripts/train_autopruner.py"


rule reduce:
    """The pruned network without gates: kept nodes only, gate values folded into the next layer."""
    input:
        model=model_file("{seed}", "budget{budget}", "pruned"),
        mask=f"{variant_dir('{seed}', 'budget{budget}')}/mask.json",
    output:
        model=model_file("{seed}", "budget{budget}", "reduced"),
    params:
        code=code("training.steps"),
    log:
        "logs/train/seed{seed}/budget{budget}/reduce.log",
    benchmark:
        "logs/benchmarks/reduce/seed{seed}/budget{budget}.tsv"
    threads: tf_threads()
    resources:
        mem_mb=resource("reduce", "mem_mb"),
        runtime=resource("reduce", "runtime"),
    script:
        "../scripts/reduce.py"


rule retrain:
    """The reduced architecture trained from a fresh initialisation as an independent model."""
    input:
        dataset=DATASET,
        mask=f"{variant_dir('{seed}', 'budget{budget}')}/mask.json",
    output:
        model=model_file("{seed}", "budget{budget}", "retrained"),
        history=f"{variant_dir('{seed}', 'budget{budget}')}/retrain_history.json",
    params:
        config=cfg(*TRAINING_KEYS),
        code=code("training.steps"),
    log:
        "logs/train/seed{seed}/budget{budget}/retrain.log",
    benchmark:
        "logs/benchmarks/retrain/seed{seed}/budget{budget}.tsv"
    threads: tf_threads()
    resources:
        mem_mb=resource("retrain", "mem_mb"),
        runtime=resource("retrain", "runtime"),
    script:
        "../scripts/retrain.py"


rule feature_ranking:
    """Input-layer AutoPruner at each feature budget (hidden layers unpruned): ranking and AUC vs features kept."""
    input:
        dataset=DATASET,
        reference=model_file("{seed}", "baseline", "model"),
    output:
        json="results/seed{seed}/feature_ranking.json",
        pdf=report("results/seed{seed}/feature_ranking.pdf", caption="../report/feature_ranking.rst",
                   category="Training", labels={"seed": "{seed}", "figure": "feature ranking"}),
    params:
        config=cfg(*PRUNING_KEYS, "feature_ranking"),
        code=code("training.steps"),
    log:
        "logs/train/seed{seed}/feature_ranking.log",
    benchmark:
        "logs/benchmarks/feature_ranking/seed{seed}.tsv"
    threads: tf_threads()
    resources:
        mem_mb=resource("feature_ranking", "mem_mb"),
        runtime=resource("feature_ranking", "runtime"),
    script:
        "../scripts/feature_ranking.py"
