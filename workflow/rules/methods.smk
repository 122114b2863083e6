# The node-budget methods compared with the AutoPruner, per method M, budget B and seed S: a model in
# results/methods/{M}/budget{B}/seed{S}/ (model.keras, history.json with cpu_seconds), evaluated like every other
# model, and results/methods/comparison.{csv,pdf,json}: one row per (method, budget, seed). The AutoPruner's own rows
# come from results/seed{S}/budget{B}/ (pruned, and the retrained found layout). results/methods/stability.csv: the
# spread over seeds per method and budget, and the Jaccard overlap of the seeds' feature rankings' kept features.

METHOD_KEYS = ("seed", "training", "methods")


wildcard_constraints:
    method="|".join(METHODS),


rule method_magnitude:
    """Iterative structured magnitude pruning of the seed's baseline down to exactly k hidden neurons."""
    input:
        dataset=DATASET,
        baseline=model_file("{seed}", "baseline", "model"),
        baseline_history=f"{variant_dir('{seed}', 'baseline')}/history.json",
    output:
        **method_outputs("magnitude"),
    params:
        config=cfg(*METHOD_KEYS),
        code=code("training.methods"),
    log:
        "logs/methods/magnitude/budget{budget}/seed{seed}.log",
    benchmark:
        "logs/benchmarks/method_magnitude/budget{budget}/seed{seed}.tsv"
    threads: tf_threads()
    resources:
        mem_mb=resource("method_magnitude", "mem_mb"),
        runtime=resource("method_magnitude", "runtime"),
    script:
        "../scripts/method_magnitude.py"


rule method_uniform:
    """k hidden nodes split k/L per layer, trained from scratch with the retrained layout's seed."""
    input:
        dataset=DATASET,
    output:
        **method_outputs("uniform"),
    params:
        config=cfg(*METHOD_KEYS),
        code=code("training.methods"),
    log:
        "logs/methods/uniform/budget{budget}/seed{seed}.log",
    benchmark:
        "logs/benchmarks/method_uniform/budget{budget}/seed{seed}.tsv"
    threads: tf_threads()
    resources:
        mem_mb=resource("method_uniform", "mem_mb"),
        runtime=resource("method_uniform", "runtime"),
    script:
        "../scripts/method_uniform.py"


rule method_search:
    """Random search over per-layer sizes adding up to k; the best trial by validation loss, every trial's CPU time."""
    input:
        dataset=DATASET,
    output:
        **method_outputs("search"),
    params:
        config=cfg(*METHOD_KEYS),
        code=code("training.methods"),
    log:
        "logs/methods/search/budget{budget}/seed{seed}.log",
    benchmark:
        "logs/benchmarks/method_search/budget{budget}/seed{seed}.tsv"
    threads: tf_threads()
    resources:
        mem_mb=resource("method_search", "mem_mb"),
        runtime=resource("method_search", "runtime"),
    script:
        "../scripts/method_search.py"


rule method_pquant:
    """PQuant's PDP (structured) from the full tagger to the uniform layout of k nodes, sliced to a plain tagger."""
    input:
        dataset=DATASET,
    output:
        **method_outputs("pquant"),
    params:
        config=cfg(*METHOD_KEYS),
        code=code("training.pquant_pdp"),
    log:
        "logs/methods/pquant/budget{budget}/seed{seed}.log",
    benchmark:
        "logs/benchmarks/method_pquant/budget{budget}/seed{seed}.tsv"
    threads: tf_threads()
    resources:
        mem_mb=resource("method_pquant", "mem_mb"),
        runtime=resource("method_pquant", "runtime"),
    script:
        "../scripts/method_pquant.py"


use rule evaluate as method_evaluate with:
    input:
        model=f"{method_dir('{method}', '{budget}', '{seed}')}/model.keras",
        dataset=DATASET,
    output:
        metrics=f"{method_dir('{method}', '{budget}', '{seed}')}/model.metrics.json",
        scores=f"{method_dir('{method}', '{budget}', '{seed}')}/model.scores.npz",
    log:
        "logs/methods/{method}/budget{budget}/seed{seed}.evaluate.log",
    benchmark:
        "logs/benchmarks/method_evaluate/{method}/budget{budget}/seed{seed}.tsv"
    resources:
        mem_mb=resource("method_evaluate", "mem_mb"),
        runtime=resource("method_evaluate", "runtime"),


rule comparison:
    """One row per (method, budget, seed); rejection vs nodes and multiplications, time to solution, stability (the
    seeds' nodes per layer and the Jaccard overlap of their kept input features)."""
    input:
        metrics=[entry[3] for entry in comparison_entries()],
        histories=comparison_histories(),
        rankings=[f"results/seed{s}/feature_ranking.json" for s in seeds()],
    output:
        csv=report("results/methods/comparison.csv", caption="../report/comparison.rst", category="Methods",
                   labels={"table": "comparison (csv)"}),
        pdf=report("results/methods/comparison.pdf", caption="../report/comparison.rst", category="Methods",
                   labels={"figure": "comparison"}),
        json="results/methods/comparison.json",
        stability=report("results/methods/stability.csv", caption="../report/comparison.rst", category="Methods",
                         labels={"table": "stability (csv)"}),
    params:
        # what each metrics file is and which history files belong to it; paths travel only as input
        entries=comparison_params(),
        code=code("evaluation.comparison"),
    log:
        "logs/methods/comparison.log",
    benchmark:
        "logs/benchmarks/comparison.tsv"
    threads: 1
    resources:
        mem_mb=resource("comparison", "mem_mb"),
        runtime=resource("comparison", "runtime"),
    script:
        "../scripts/comparison.py"
