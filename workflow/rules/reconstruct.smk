# Reconstruction: IP templates from the calibration shards, then jets and the 39 features per analysis shard.


rule ip_templates:
    """b vs light signed-IP-significance templates (IP2D/IP3D) from the calibration shards only."""
    input:
        calibration_event_files(),
    output:
        "results/ip_templates.npz",
    log:
        "logs/ip_templates.log",
    script:
        "../scripts/ip_templates.py"


rule reconstruct:
    """Large-R and VR track jets, ghost association, truth labels and the 39 features of one analysis shard."""
    input:
        events=lambda wc: event_file(wc.process, wc.shard),
        templates="results/ip_templates.npz",
    output:
        candidates="results/features/{process}/{shard}.root",
        cutflow="results/features/{process}/{shard}.cutflow.json",
    log:
        "logs/reconstruct/{process}/{shard}.log",
    wildcard_constraints:
        shard="shard[0-9]{3}",
    script:
        "../scripts/reconstruct.py"
