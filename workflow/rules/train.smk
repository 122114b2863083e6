# Training: baseline, AutoPruner per budget, reduction, retraining, feature ranking.
# The first seed of training.seeds writes results/...; every further seed S the same names under results/seed{S}/
# (the *_seed rules below, derived with `use rule`).


rule train_baseline:
    """The unpruned tagger: Normalization + 4x64 ReLU + sigmoid, early stopping on the validation loss."""
    input:
        dataset=dataset_file(),
    output:
        model=model_path("baseline"),
        history=training_file("history.json"),
    params:
        seed=lambda wildcards: primary_seed(),
    threads: training_threads()
    log:
        "logs/train/baseline.log",
    script:
        "../scripts/train_baseline.py"


rule train_autopruner:
    """Hidden-layer AutoPruner training to exactly k = ceil(B% of the hidden nodes) open gates."""
    input:
        dataset=dataset_file(),
    output:
        model=model_path("pruned", "{budget}"),
        mask=training_file("mask.json", "{budget}"),
        history=training_file("history.json", "{budget}"),
        plot=training_file("training.pdf", "{budget}"),
    params:
        seed=lambda wildcards: primary_seed(),
    threads: training_threads()
    log:
        "logs/train/budget{budget}/autopruner.log",
    script:
        "../scripts/train_autopruner.py"


rule reduce:
    """The pruned network without gates: kept nodes only, gate values folded into the next layer."""
    input:
        model=model_path("pruned", "{budget}"),
        mask=training_file("mask.json", "{budget}"),
    output:
        model=model_path("reduced", "{budget}"),
    log:
        "logs/train/budget{budget}/reduce.log",
    script:
        "../scripts/reduce.py"


rule retrain:
    """The reduced architecture trained from a fresh initialisation as an independent model."""
    input:
        dataset=dataset_file(),
        mask=training_file("mask.json", "{budget}"),
    output:
        model=model_path("retrained", "{budget}"),
        history=training_file("retrain_history.json", "{budget}"),
    params:
        seed=lambda wildcards: primary_seed(),
    threads: training_threads()
    log:
        "logs/train/budget{budget}/retrain.log",
    script:
        "../scripts/retrain.py"


rule feature_ranking:
    """Input-layer AutoPruner at each feature budget (hidden layers unpruned): ranking and AUC vs features kept."""
    input:
        dataset=dataset_file(),
        reference=model_path("baseline"),
    output:
        json="results/feature_ranking.json",
        pdf="results/feature_ranking.pdf",
    params:
        seed=lambda wildcards: primary_seed(),
    threads: training_threads()
    log:
        "logs/train/feature_ranking.log",
    script:
        "../scripts/feature_ranking.py"


use rule train_baseline as train_baseline_seed with:
    output:
        model="results/seed{seed}/baseline/model.keras",
        history="results/seed{seed}/baseline/history.json",
    params:
        seed=lambda wildcards: int(wildcards.seed),
    log:
        "logs/train/seed{seed}/baseline.log",


use rule train_autopruner as train_autopruner_seed with:
    output:
        model="results/seed{seed}/budget{budget}/pruned.keras",
        mask="results/seed{seed}/budget{budget}/mask.json",
        history="results/seed{seed}/budget{budget}/history.json",
        plot="results/seed{seed}/budget{budget}/training.pdf",
    params:
        seed=lambda wildcards: int(wildcards.seed),
    log:
        "logs/train/seed{seed}/budget{budget}/autopruner.log",


use rule reduce as reduce_seed with:
    input:
        model="results/seed{seed}/budget{budget}/pruned.keras",
        mask="results/seed{seed}/budget{budget}/mask.json",
    output:
        model="results/seed{seed}/budget{budget}/reduced.keras",
    log:
        "logs/train/seed{seed}/budget{budget}/reduce.log",


use rule retrain as retrain_seed with:
    input:
        dataset=dataset_file(),
        mask="results/seed{seed}/budget{budget}/mask.json",
    output:
        model="results/seed{seed}/budget{budget}/retrained.keras",
        history="results/seed{seed}/budget{budget}/retrain_history.json",
    params:
        seed=lambda wildcards: int(wildcards.seed),
    log:
        "logs/train/seed{seed}/budget{budget}/retrain.log",
