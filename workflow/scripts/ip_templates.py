"""Rule ip_templates: fit the IP2D/IP3D templates on the tracks of the calibration shards' VR track jets."""

from autopruner.joblog import job_log
from autopruner.reconstruction.features import fit_ip_templates

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    templates = fit_ip_templates(list(sm.input), sm.params.config["reconstruction"])
    templates.save(sm.output[0])
    log.info("IP templates from %d shards: %d b tracks, %d light tracks", len(sm.input), templates.n_b_tracks,
             templates.n_light_tracks)
