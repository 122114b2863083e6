# Dataset: merge the analysis shards' candidates (hash split, pT-flattening weights), then data-quality plots.


rule dataset:
    """All analysis candidates in one file, with a train/validation/test split and pT-flattening weights."""
    input:
        feature_files(),
    output:
        "results/dataset.root",
    params:
        split=lambda wc: config["dataset"]["split"],
        pt_bins_gev=lambda wc: config["dataset"]["flatten_pt_bins_gev"],
    log:
        "logs/dataset.log",
    script:
        "../scripts/dataset.py"


rule feature_plots:
    """A page per feature (signal vs background), the cut flow per process, each feature's AUC alone."""
    input:
        dataset="results/dataset.root",
        cutflows=cutflow_files(),
    output:
        pdf="results/plots/features.pdf",
        cutflow="results/cutflow.csv",
        auc="results/feature_auc.json",
    log:
        "logs/feature_plots.log",
    script:
        "../scripts/feature_plots.py"
