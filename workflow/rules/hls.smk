# Firmware: hls4ml projects, bit-accurate emulation, synthesis reports (vendor tool or estimate), trade-off summary.


wildcard_constraints:
    hls_model="baseline|budget[0-9]+_(reduced|retrained)",


rule hls_project:
    """hls4ml project of one model, standardization folded into the first layer."""
    input:
        model=lambda wc: hls_model_keras(wc.hls_model),
        dataset="results/dataset.root",
    output:
        directory("results/hls/{hls_model}/project"),
    log:
        "logs/hls/{hls_model}/project.log",
    script:
        "../scripts/hls_project.py"


rule hls_emulate:
    """g++ build of the project and bit-accurate predictions on the test split, float vs fixed point."""
    input:
        project="results/hls/{hls_model}/project",
        dataset="results/dataset.root",
    output:
        json="results/hls/{hls_model}/emulation.json",
        pdf=report("results/hls/{hls_model}/emulation_roc.pdf", caption="../report/emulation_roc.rst",
                   category="Firmware", subcategory="emulation", labels={"model": "{hls_model}"}),
    log:
        "logs/hls/{hls_model}/emulate.log",
    script:
        "../scripts/hls_emulate.py"


rule hls_synth:
    """C synthesis where vitis_hls/vivado_hls is on PATH, else a documented estimate from the quantized weights."""
    input:
        project="results/hls/{hls_model}/project",
    output:
        "results/hls/{hls_model}/synthesis_report.json",
    log:
        "logs/hls/{hls_model}/synth.log",
    script:
        "../scripts/hls_synth.py"


rule hls_summary:
    """Resources and latency against the budget, beside the rejection at 50 % signal efficiency."""
    input:
        reports=expand("results/hls/{m}/synthesis_report.json", m=hls_models()),
        emulations=expand("results/hls/{m}/emulation.json", m=hls_models()),
    output:
        csv="results/hls_summary.csv",
        pdf=report("results/hls_summary.pdf", caption="../report/hls_summary.rst", category="Firmware",
                   labels={"figure": "trade-off"}),
    params:
        models=hls_models(),
    log:
        "logs/hls/summary.log",
    script:
        "../scripts/hls_summary.py"
