# Validation (not in `rule all`; `make validate`): the toy generator and Pythia 8 through the same detector,
# reconstruction and IP templates, their feature distributions compared, and the tagger's transfer test.

VALIDATION_GENERATORS = ["toy", "pythia8"]


wildcard_constraints:
    generator="toy|pythia8",
    trained="toy|pythia8",


rule validation_report:
    """Feature distances with their statistical floor, heavy flavour, candidates per event, transfer test."""
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


use rule train_baseline as validation_train with:
    input:
        dataset=validation_dataset("{generator}"),
    output:
        model=f"{validation_dir('{generator}')}/seed{{seed}}/model.keras",
        history=f"{validation_dir('{generator}')}/seed{{seed}}/history.json",
    log:
        "logs/validation/{generator}/seed{seed}/train.log",
    benchmark:
        "logs/benchmarks/validation_train/{generator}/seed{seed}.tsv"


use rule evaluate as validation_evaluate with:
    input:
        model=f"{validation_dir('{trained}')}/seed{{seed}}/model.keras",
        dataset=validation_dataset("{generator}"),
    output:
        metrics=f"{validation_dir('{trained}')}/seed{{seed}}/on_{{generator}}.metrics.json",
        scores=f"{validation_dir('{trained}')}/seed{{seed}}/on_{{generator}}.scores.npz",
    log:
        "logs/validation/{trained}/seed{seed}/on_{generator}.log",
    benchmark:
        "logs/benchmarks/validation_evaluate/{trained}/seed{seed}/on_{generator}.tsv"
