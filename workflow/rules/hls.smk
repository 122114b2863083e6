# Firmware of the primary seed's networks (the AutoPruner's and, with firmware.methods, the compared methods' as
# results/hls/budget{B}/{method}/): hls4ml projects with quantized, scaled inputs, bit-accurate emulation,
# synthesis reports (vendor tool or a marked estimate), distributed-arithmetic designs (da4ml Verilog, checked bit for
# bit), Yosys synthesis of the small ones, and the resource/latency trade-off. Everything lands in
# results/hls/{variant}/{kind}/; with firmware.quantization hgq also an HGQ2-fine-tuned design in its hgq/ folder.

FIRMWARE_KEYS = ("seed", "hls4ml", "evaluation")


localrules:
    hls_summary,


rule hls_project:
    """hls4ml project of one model, standardization folded into the first layer."""
    input:
        model=firmware_source_model,
        dataset=DATASET,
    output:
        directory(f"{firmware_dir('{variant}', '{kind}')}/project"),
    params:
        config=cfg("hls4ml", "autopruner.closed_threshold", "firmware.input_frac_bits"),
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
    """Vendor C synthesis with hls4ml.vendor_tool, else (none, the default) a documented estimate from the weights."""
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


rule da_rtl:
    """da4ml trace of the project's fixed-point network: pipelined Verilog in rtl/ and da4ml's cost estimate."""
    input:
        project=f"{firmware_dir('{variant}', '{kind}')}/project",
    output:
        rtl=directory(f"{firmware_dir('{variant}', '{kind}')}/rtl"),
        report=f"{firmware_dir('{variant}', '{kind}')}/da_report.json",
    params:
        config=cfg("firmware.da", "hls4ml.part", "hls4ml.clock_period_ns"),
        code=code("firmware.da"),
    log:
        "logs/hls/{variant}/{kind}/da_rtl.log",
    benchmark:
        "logs/benchmarks/da_rtl/{variant}/{kind}.tsv"
    priority: 5  # the longest firmware jobs: run them as soon as they are ready, not at the end
    threads: 1
    resources:
        mem_mb=resource("da_rtl", "mem_mb"),
        runtime=resource("da_rtl", "runtime"),
    script:
        "../scripts/da_rtl.py"


rule da_verify:
    """The DA design on the emulated test candidates: bit-exact against the int64 emulation, AUC and rejection."""
    input:
        rtl=f"{firmware_dir('{variant}', '{kind}')}/rtl",
        project=f"{firmware_dir('{variant}', '{kind}')}/project",
        dataset=DATASET,
    output:
        f"{firmware_dir('{variant}', '{kind}')}/da_emulation.json",
    params:
        config=cfg("seed", "evaluation", "hls4ml.emulation_max_candidates"),
        code=code("firmware.da"),
    log:
        "logs/hls/{variant}/{kind}/da_verify.log",
    benchmark:
        "logs/benchmarks/da_verify/{variant}/{kind}.tsv"
    threads: tf_threads()
    resources:
        mem_mb=resource("da_verify", "mem_mb"),
        runtime=resource("da_verify", "runtime"),
    script:
        "../scripts/da_verify.py"


rule yosys_synth:
    """Yosys synth_xilinx of a DA design below firmware.yosys_max_cost with the configured tool, else a skipped
    report that says why."""
    input:
        rtl=f"{firmware_dir('{variant}', '{kind}')}/rtl",
        report=f"{firmware_dir('{variant}', '{kind}')}/da_report.json",
    output:
        f"{firmware_dir('{variant}', '{kind}')}/yosys_report.json",
    params:
        config=cfg("firmware.synthesis_tool", "firmware.yosys_max_cost", "firmware.yosys_family",
                   "firmware.yosys_timeout_s", "hls4ml.clock_period_ns"),
        code=code("firmware.yosys"),
    log:
        "logs/hls/{variant}/{kind}/yosys.log",
    benchmark:
        "logs/benchmarks/yosys_synth/{variant}/{kind}.tsv"
    threads: 1
    resources:
        mem_mb=resource("yosys_synth", "mem_mb"),
        runtime=resource("yosys_synth", "runtime"),
    script:
        "../scripts/yosys_synth.py"


# --- firmware.quantization: hgq — HGQ2 quantization-aware fine-tuning and its own DA design in {model}/hgq/ -----


rule hgq_finetune:
    """HGQ2 fine-tuning of the project's folded network (AutoPruner's structure, float weights copied) with the
    EBOPs resource term; the model and its history."""
    input:
        project=f"{firmware_dir('{variant}', '{kind}')}/project",
        dataset=DATASET,
    output:
        model=f"{firmware_dir('{variant}', '{kind}')}/hgq/model.keras",
        history=f"{firmware_dir('{variant}', '{kind}')}/hgq/hgq_history.json",
    params:
        config=cfg("seed", "firmware.hgq"),
        code=code("firmware.hgq"),
    log:
        "logs/hls/{variant}/{kind}/hgq_finetune.log",
    benchmark:
        "logs/benchmarks/hgq_finetune/{variant}/{kind}.tsv"
    threads: tf_threads()
    resources:
        mem_mb=resource("hgq_finetune", "mem_mb"),
        runtime=resource("hgq_finetune", "runtime"),
    script:
        "../scripts/hgq_finetune.py"


rule hgq_rtl:
    """da4ml trace of the fine-tuned HGQ2 model from the firmware input formats: Verilog in hgq/rtl/ and its
    estimate."""
    input:
        model=f"{firmware_dir('{variant}', '{kind}')}/hgq/model.keras",
        project=f"{firmware_dir('{variant}', '{kind}')}/project",
    output:
        rtl=directory(f"{firmware_dir('{variant}', '{kind}')}/hgq/rtl"),
        report=f"{firmware_dir('{variant}', '{kind}')}/hgq/da_report.json",
    params:
        config=cfg("firmware.da", "hls4ml.part", "hls4ml.clock_period_ns"),
        code=code("firmware.hgq"),
    log:
        "logs/hls/{variant}/{kind}/hgq_rtl.log",
    benchmark:
        "logs/benchmarks/hgq_rtl/{variant}/{kind}.tsv"
    threads: 1
    resources:
        mem_mb=resource("hgq_rtl", "mem_mb"),
        runtime=resource("hgq_rtl", "runtime"),
    script:
        "../scripts/hgq_rtl.py"


rule hgq_verify:
    """The HGQ2 design on the emulated test candidates: bit-exact against the HGQ2 model, AUC and rejection."""
    input:
        model=f"{firmware_dir('{variant}', '{kind}')}/hgq/model.keras",
        rtl=f"{firmware_dir('{variant}', '{kind}')}/hgq/rtl",
        project=f"{firmware_dir('{variant}', '{kind}')}/project",
        dataset=DATASET,
    output:
        f"{firmware_dir('{variant}', '{kind}')}/hgq/da_emulation.json",
    params:
        config=cfg("seed", "evaluation", "hls4ml.emulation_max_candidates"),
        code=code("firmware.hgq"),
    log:
        "logs/hls/{variant}/{kind}/hgq_verify.log",
    benchmark:
        "logs/benchmarks/hgq_verify/{variant}/{kind}.tsv"
    threads: tf_threads()
    resources:
        mem_mb=resource("hgq_verify", "mem_mb"),
        runtime=resource("hgq_verify", "runtime"),
    script:
        "../scripts/hgq_verify.py"


use rule yosys_synth as hgq_yosys_synth with:
    input:
        rtl=f"{firmware_dir('{variant}', '{kind}')}/hgq/rtl",
        report=f"{firmware_dir('{variant}', '{kind}')}/hgq/da_report.json",
    output:
        f"{firmware_dir('{variant}', '{kind}')}/hgq/yosys_report.json",
    log:
        "logs/hls/{variant}/{kind}/hgq_yosys.log",
    benchmark:
        "logs/benchmarks/hgq_yosys_synth/{variant}/{kind}.tsv"
    resources:
        mem_mb=resource("hgq_yosys_synth", "mem_mb"),
        runtime=resource("hgq_yosys_synth", "runtime"),


rule hls_summary:
    """Per model and implementation (hls4ml, DA da4ml estimate, DA Yosys): resources and latency beside the
    emulated rejection at 50 % signal efficiency."""
    input:
        reports=[f"{firmware_dir(v, k)}/synthesis_report.json" for v, k in firmware_models()],
        emulations=[f"{firmware_dir(v, k)}/emulation.json" for v, k in firmware_models()],
        da_reports=[f"{firmware_dir(v, k)}/da_report.json" for v, k in firmware_models()],
        da_emulations=[f"{firmware_dir(v, k)}/da_emulation.json" for v, k in firmware_models()],
        yosys_reports=[f"{firmware_dir(v, k)}/yosys_report.json" for v, k in firmware_models()],
        # firmware.quantization hgq: the HGQ2 designs too, as implementations of their own
        **hgq_summary_inputs(),
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
