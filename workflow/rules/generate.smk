# Generation: toy pp -> H(bb)+b and QCD events through the ATLAS-like detector, one file per shard.


rule generate:
    """Generate, simulate and write one event shard (analysis shardNNN or calibration calibNNN)."""
    output:
        "data/events/{process}/{shard}.root",
    log:
        "logs/generate/{process}/{shard}.log",
    params:
        generation=lambda wc: config["generation"],
        detector=lambda wc: config["detector"],
        seed=config["seed"],
    wildcard_constraints:
        process="hbb|qcd",
        shard="(shard|calib)[0-9]{3}",
    threads: 1
    resources:
        mem_mb=1500,
    script:
        "../scripts/generate.py"
