# Firmware of the primary seed's networks: hls4ml projects, bit-accurate emulation, synthesis reports (vendor tool
# or a marked estimate) and the resource/latency trade-off. Everything lands in results/hls/{variant}/{kind}/.

FIRMWARE_KEYS = ("seed", "hls4ml", "evaluation")


localrules:
    hls_summary,


rule hls_project:
    """hls4ml project of one model, standardization folded into the first layer."""
    input:
        model=model_file(primary_seed(), "{variant}", "{kind}"),
        dataset=DATASET,
    output:
        directory(f"{firmware_dir('{variant}', '{kind}')}/project"),
    params:
        config=cfg("hls4ml", "autopruner.closed_threshold"),
        code=code("firmware.hls"),
    log:
        "logs/hls/{variant}/{kind}/project.log",
    benchmark:
        "logs/benchmarks/hls_project/{variant}/{kind}.tsv"
    threads: tf_threads()
    resources:
        mem_mb=resource("hls_project", "mem_mb"),
        runtime=resource("hls_project", "runtime"),
    script:
        "../scripts/hls_project.py"


rule hls_emulate:
    """g++ build of the project and bit-accurate predictions on the test split, float vs fixed point."""
    input:
        project=f"{firmware_dir('{variant}', '{kind}')}/project",
        dataset=DATASET,
    output:
        json=f"{firmware_dir('{variant}', '{kind}')}/emulation.json",
        pdf=report(f"{firmware_dir('{variant}', '{kind}')}/emulation_roc.pdf", caption="../report/emulation_roc.rst",
                   category="Firmware", subcategory="emulation", labels={"model": "{variant}/{kind}"}),
    params:
        config=cfg(*FIRMWARE_KEYS),
        code=code("firmware.hls"),
    log:
        "logs/hls/{variant}/{kind}/emulate.log",
    benchmark:
        "logs/benchmarks/hls_emulate/{variant}/{kind}.tsv"
    threads: tf_threads()
    resources:
        mem_mb=resource("hls_emulate", "mem_mb"),
        runtime=resource("hls_emulate", "runtime"),
    script:
        "../scripts/hls_emulate.py"


rule hls_synth:
    """C synthesis where vitis_hls/vivado_hls is on PATH, else a documented estimate from the quantized weights."""
    input:
        project=f"{firmware_dir('{variant}', '{kind}')}/project",
    output:
        f"{firmware_dir('{variant}', '{kind}')}/synthesis_report.json",
    params:
        config=cfg("hls4ml"),
        code=code("firmware.synthesis"),
    log:
        "logs/hls/{variant}/{kind}/synth.log",
    benchmark:
        "logs/benchmarks/hls_synth/{variant}/{kind}.tsv"
    threads: tf_threads()
    resources:
        mem_mb=resource("hls_synth", "mem_mb"),
        runtime=resource("hls_synth", "runtime"),
    script:
        "../scripts/hls_synth.py"


rule hls_summary:
    """Resources and latency against the budget, beside the rejection at 50 % signal efficiency."""
    input:
        reports=[f"{firmware_dir(v, k)}/synthesis_report.json" for v, k in firmware_models()],
        emulations=[f"{firmware_dir(v, k)}/emulation.json" for v, k in firmware_models()],
    output:
        csv="results/hls_summary.csv",
        pdf=report("results/hls_summary.pdf", caption="../report/hls_summary.rst", category="Firmware",
                   labels={"figure": "trade-off"}),
    params:
        # what each input is, in the order of input.reports and input.emulations
        models=[{"variant": v, "kind": k} for v, k in firmware_models()],
        code=code("firmware.summary"),
    log:
        "logs/hls/summary.log",
    benchmark:
        "logs/benchmarks/hls_summary.tsv"
    threads: 1
    resources:
        mem_mb=resource("hls_summary", "mem_mb"),
        runtime=resource("hls_summary", "runtime"),
    script:
        "../scripts/hls_summary.py"
