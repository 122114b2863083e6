# Validation (not in `rule all`; `make validate`): the toy generator and Pythia 8 through the same detector,
# reconstruction and IP templates, their feature distributions compared, and the tagger's transfer test: per
# generator k taggers (validation.folds), each trained without one fold and scoring it, their scores pooled.

VALIDATION_GENERATORS = ["toy", "pythia8"]


wildcard_constraints:
    generator="toy|pythia8",
    trained="toy|pythia8",
    tested="toy|pythia8",
    fold="[0-9]+",


rule validation_report:
    """Feature distances with their statistical floor, heavy flavour, candidates per event, k-fold transfer test
    (per training seed of validation.training_seeds, averaged over them)."""
    input:
        toy=validation_dataset("toy"),
        pythia8=validation_dataset("pythia8"),
        toy_cutflows=validation_feature_files("toy", ".cutflow.json"),
        pythia8_cutflows=validation_feature_files("pythia8", ".cutflow.json"),
        toy_on_toy=validation_metrics("toy", "toy"),
        toy_on_pythia=validation_metrics("toy", "pythia8"),
        pythia_on_pythia=validation_metrics("pythia8", "pythia8"),
    output:
        json="results/validation/toy_vs_pythia.json",
        pdf=report("results/validation/toy_vs_pythia.pdf", caption="../report/validation.rst",
                   category="Validation"),
    params:
        config=cfg("seed", "validation"),
        training_seeds=validation_seeds(),
        code=code("validation.report"),
    log:
        "logs/validation/report.log",
    benchmark:
        "logs/benchmarks/validation_report.tsv"
    threads: 1
    resources:
        mem_mb=resource("validation_report", "mem_mb"),
        runtime=resource("validation_report", "runtime"),
    script:
        "../scripts/validation_report.py"


use rule generate as validation_generate with:
    output:
        validation_event_file("{generator}", "{process}", "{shard}"),
    params:
        config=lambda wc: validation_generation_config(wc.generator),
        code=lambda wc: generation_code(wc.generator),
    log:
        "logs/validation/{generator}/generate/{process}/{shard}.log",
    benchmark:
        "logs/benchmarks/validation_generate/{generator}/{process}/{shard}.tsv"


use rule reconstruct as validation_reconstruct with:
    input:
        events=validation_event_file("{generator}", "{process}", "{shard}"),
        templates="results/ip_templates.npz",
    output:
        candidates=f"{validation_dir('{generator}')}/features/{{process}}/{{shard}}.root",
        cutflow=f"{validation_dir('{generator}')}/features/{{process}}/{{shard}}.cutflow.json",
    log:
        "logs/validation/{generator}/reconstruct/{process}/{shard}.log",
    benchmark:
        "logs/benchmarks/validation_reconstruct/{generator}/{process}/{shard}.tsv"


use rule dataset as validation_dataset with:
    input:
        lambda wc: validation_feature_files(wc.generator),
    output:
        validation_dataset("{generator}"),
    log:
        "logs/validation/{generator}/dataset.log",
    benchmark:
        "logs/benchmarks/validation_dataset/{generator}.tsv"


rule validation_fold_train:
    """The baseline tagger trained on all folds but one of a generator's candidates (k-fold transfer test)."""
    input:
        dataset=validation_dataset("{generator}"),
    output:
        model=validation_fold_file("{generator}", "{seed}", "{fold}", "model.keras"),
        history=validation_fold_file("{generator}", "{seed}", "{fold}", "history.json"),
    params:
        config=cfg(*TRAINING_KEYS, "dataset.split", "validation.folds"),
        code=code("validation.folds"),
    log:
        "logs/validation/{generator}/seed{seed}/fold{fold}/train.log",
    benchmark:
        "logs/benchmarks/validation_fold_train/{generator}/seed{seed}/fold{fold}.tsv"
    threads: tf_threads()
    resources:
        mem_mb=resource("validation_fold_train", "mem_mb"),
        runtime=resource("validation_fold_train", "runtime"),
    script:
        "../scripts/validation_fold_train.py"


rule validation_pool:
    """Every candidate of a sample scored by the fold model that did not train on its fold; pooled AUC and
    rejections with bootstrap errors, and their spread over the folds."""
    input:
        models=lambda wc: validation_fold_files(wc.trained, wc.seed, "model.keras"),
        histories=lambda wc: validation_fold_files(wc.trained, wc.seed, "history.json"),
        dataset=validation_dataset("{tested}"),
    output:
        metrics=validation_pooled("{trained}", "{tested}", "{seed}", ".metrics.json"),
        scores=validation_pooled("{trained}", "{tested}", "{seed}", ".scores.npz"),
    params:
        config=cfg("seed", "evaluation", "validation.folds"),
        code=code("validation.crossval"),
    log:
        "logs/validation/{trained}/seed{seed}/kfold_on_{tested}.log",
    benchmark:
        "logs/benchmarks/validation_pool/{trained}/seed{seed}/kfold_on_{tested}.tsv"
    threads: tf_threads()
    resources:
        mem_mb=resource("validation_pool", "mem_mb"),
        runtime=resource("validation_pool", "runtime"),
    script:
        "../scripts/validation_pool.py"
