# Generation: toy pp -> H(bb)+b and QCD events through the ATLAS-like detector, one file per shard.


rule generate:
    """Generate, simulate and write one event shard (analysis shardNNN or calibration calibNNN)."""
    output:
        event_file("{process}", "{shard}"),
    params:
        config=generation_config(),
        code=generation_code(),
    log:
        "logs/generate/{process}/{shard}.log",
    benchmark:
        "logs/benchmarks/generate/{process}/{shard}.tsv"
    threads: 1
    resources:
        mem_mb=resource("generate", "mem_mb"),
        runtime=resource("generate", "runtime"),
    script:
        "../scripts/generate.py"
