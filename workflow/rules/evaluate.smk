# Evaluation: scores and metrics per model on the test split, ROC comparison plots and summary tables.


wildcard_constraints:
    model_dir="(seed[0-9]+/)?(baseline|budget[0-9]+)",
    model="model|pruned|reduced|retrained",


def _records(with_seeds=True):
    """Model records for the roc_all script: kind, budget, seed (None = primary) and file paths."""
    records = []
    for kind, budget, seed in evaluated_models():
        if not with_seeds and seed != primary_seed():
            continue
        stem = evaluation_stem(kind, budget, seed)
        records.append({"kind": kind, "budget": budget, "seed": None if seed == primary_seed() else seed,
                        "metrics_path": f"{stem}.metrics.json", "scores_path": f"{stem}.scores.npz"})
    return records


rule evaluate:
    """Score one model on the test split: AUC, rejections with bootstrap errors, live size."""
    input:
        model="results/{model_dir}/{model}.keras",
        dataset="results/dataset.root",
    output:
        metrics="results/{model_dir}/{model}.metrics.json",
        scores="results/{model_dir}/{model}.scores.npz",
    log:
        "logs/evaluate/{model_dir}/{model}.log",
    script:
        "../scripts/evaluate.py"


rule roc_budget:
    """Figure-3-style comparison for one budget: original, pruned during training, retrained."""
    input:
        baseline=multiext("results/baseline/model", ".metrics.json", ".scores.npz"),
        pruned=multiext("results/budget{budget}/pruned", ".metrics.json", ".scores.npz"),
        retrained=multiext("results/budget{budget}/retrained", ".metrics.json", ".scores.npz"),
    output:
        report("results/budget{budget}/roc.pdf", caption="../report/roc_budget.rst", category="ROC",
               subcategory="per budget", labels={"budget": "{budget} %"}),
    log:
        "logs/roc_budget/budget{budget}.log",
    script:
        "../scripts/roc_budget.py"


rule roc_all:
    """All ROC pages, rejection against nodes kept, and the per-model summary tables."""
    input:
        [r["metrics_path"] for r in _records()],
        [r["scores_path"] for r in _records()],
    output:
        pdf=report("results/roc_all.pdf", caption="../report/roc_all.rst", category="ROC",
                   labels={"figure": "all models"}),
        csv=report("results/summary.csv", caption="../report/summary.rst", category="Tables",
                   labels={"table": "models (csv)"}),
        md="results/summary.md",
    params:
        records=_records(),
    log:
        "logs/roc_all.log",
    script:
        "../scripts/roc_all.py"
