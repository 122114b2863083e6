# Reconstruction: IP templates from the calibration shards, then jets and the 39 features per analysis shard.


rule ip_templates:
    """b vs light signed-IP-significance templates (IP2D/IP3D) from the calibration shards only."""
    input:
        calibration_event_files(),
    output:
        "results/ip_templates.npz",
    params:
        config=cfg("reconstruction"),
        code=code("reconstruction.features", "reconstruction.btagging"),
    log:
        "logs/ip_templates.log",
    benchmark:
        "logs/benchmarks/ip_templates.tsv"
    threads: 1
    resources:
        mem_mb=resource("ip_templates", "mem_mb"),
        runtime=resource("ip_templates", "runtime"),
    script:
        "../scripts/ip_templates.py"


rule reconstruct:
    """Large-R and VR track jets, ghost association, truth labels and the 39 features of one analysis shard."""
    input:
        events=event_file("{process}", "{shard}"),
        templates="results/ip_templates.npz",
    output:
        candidates=feature_file("{process}", "{shard}"),
        cutflow=feature_file("{process}", "{shard}", ".cutflow.json"),
    params:
        config=cfg("reconstruction"),
        code=code("reconstruction.features"),
    log:
        "logs/reconstruct/{process}/{shard}.log",
    benchmark:
        "logs/benchmarks/reconstruct/{process}/{shard}.tsv"
    wildcard_constraints:
        shard="shard[0-9]{3}",
    threads: 1
    resources:
        mem_mb=resource("reconstruct", "mem_mb"),
        runtime=resource("reconstruct", "runtime"),
    script:
        "../scripts/reconstruct.py"
