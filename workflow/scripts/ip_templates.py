"""Rule ip_templates: fit the IP2D/IP3D templates on the tracks of the calibration shards' VR track jets."""

import logging

import numpy as np

from autopruner.btagging import IPTemplates
from autopruner.features import track_jets_for_templates

sm = snakemake  # noqa: F821
logging.basicConfig(filename=sm.log[0], level=logging.INFO, format="%(asctime)s %(message)s")
reco = sm.config["reconstruction"]
parts = [track_jets_for_templates(path, reco) for path in sm.input]
sd0, sz0, is_b = (np.concatenate(p) for p in zip(*parts, strict=True))
templates = IPTemplates.fit(sd0, sz0, is_b, reco["ip_templates"])
templates.save(sm.output[0])
logging.info("IP templates from %d shards: %d b tracks, %d light tracks", len(parts), templates.n_b_tracks,
             templates.n_light_tracks)
