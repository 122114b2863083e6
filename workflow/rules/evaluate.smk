# Evaluation: scores and metrics per model on the test split, ROC comparison plots and summary tables.

EVALUATION_KEYS = ("seed", "evaluation", "autopruner.closed_threshold")


localrules:
    roc_budget,
    roc_all,


rule evaluate:
    """Score one model on the test split: AUC, rejections with bootstrap errors, live size."""
    input:
        model=model_file("{seed}", "{variant}", "{kind}"),
        dataset=DATASET,
    output:
        metrics=model_file("{seed}", "{variant}", "{kind}", ".metrics.json"),
        scores=model_file("{seed}", "{variant}", "{kind}", ".scores.npz"),
    params:
        config=cfg(*EVALUATION_KEYS),
        code=code("evaluation.scoring"),
    log:
        "logs/evaluate/seed{seed}/{variant}/{kind}.log",
    benchmark:
        "logs/benchmarks/evaluate/seed{seed}/{variant}/{kind}.tsv"
    threads: tf_threads()
    resources:
        mem_mb=resource("evaluate", "mem_mb"),
        runtime=resource("evaluate", "runtime"),
    script:
        "../scripts/evaluate.py"


rule roc_budget:
    """Figure-3-style comparison for one budget: original, pruned during training, retrained."""
    input:
        baseline=evaluated("{seed}", "baseline", "model"),
        pruned=evaluated("{seed}", "budget{budget}", "pruned"),
        retrained=evaluated("{seed}", "budget{budget}", "retrained"),
    output:
        report(f"{variant_dir('{seed}', 'budget{budget}')}/roc.pdf", caption="../report/roc_budget.rst",
               category="ROC", subcategory="per budget", labels={"seed": "{seed}", "budget": "{budget} %"}),
    params:
        config=cfg("seed", "evaluation"),
        code=code("evaluation.roc_plots"),
    log:
        "logs/roc_budget/seed{seed}/budget{budget}.log",
    benchmark:
        "logs/benchmarks/roc_budget/seed{seed}/budget{budget}.tsv"
    threads: 1
    resources:
        mem_mb=resource("roc_budget", "mem_mb"),
        runtime=resource("roc_budget", "runtime"),
    script:
        "../scripts/roc_budget.py"


rule roc_all:
    """All ROC pages, rejection against nodes kept, and the per-model summary tables."""
    input:
        metrics=[model_file(*m, ".metrics.json") for m in models()],
        scores=[model_file(*m, ".scores.npz") for m in models()],
    output:
        pdf=report("results/roc_all.pdf", caption="../report/roc_all.rst", category="ROC",
                   labels={"figure": "all models"}),
        csv=report("results/summary.csv", caption="../report/summary.rst", category="Tables",
                   labels={"table": "models (csv)"}),
        md="results/summary.md",
    params:
        # what each input is (in the order of input.metrics and input.scores); paths travel only as input
        models=[{"seed": s, "variant": v, "kind": k} for s, v, k in models()],
        primary_seed=primary_seed(),
        config=cfg("seed", "evaluation"),
        code=code("evaluation.roc_plots"),
    log:
        "logs/roc_all.log",
    benchmark:
        "logs/benchmarks/roc_all.tsv"
    threads: 1
    resources:
        mem_mb=resource("roc_all", "mem_mb"),
        runtime=resource("roc_all", "runtime"),
    script:
        "../scripts/roc_all.py"
