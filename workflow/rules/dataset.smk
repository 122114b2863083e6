# Dataset: merge the analysis shards' candidates (hash split, pT-flattening weights), then data-quality plots.


localrules:
    feature_plots,


rule dataset:
    """All analysis candidates in one file, with a train/validation/test split and pT-flattening weights."""
    input:
        feature_files(),
    output:
        DATASET,
    params:
        config=cfg("dataset"),
        code=code("dataset.merge"),
    log:
        "logs/dataset.log",
    benchmark:
        "logs/benchmarks/dataset.tsv"
    threads: 1
    resources:
        mem_mb=resource("dataset", "mem_mb"),
        runtime=resource("dataset", "runtime"),
    script:
        "../scripts/dataset.py"


rule feature_plots:
    """A page per feature (signal vs background), the cut flow per process, each feature's AUC alone."""
    input:
        dataset=DATASET,
        cutflows=feature_files(".cutflow.json"),
    output:
        pdf=report("results/plots/features.pdf", caption="../report/features.rst", category="Data"),
        cutflow="results/cutflow.csv",
        auc="results/feature_auc.json",
    params:
        code=code("dataset.plots"),
    log:
        "logs/feature_plots.log",
    benchmark:
        "logs/benchmarks/feature_plots.tsv"
    threads: 1
    resources:
        mem_mb=resource("feature_plots", "mem_mb"),
        runtime=resource("feature_plots", "runtime"),
    script:
        "../scripts/feature_plots.py"
