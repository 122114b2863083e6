"""Rule hls_project: results/hls/{model}/project/ (timings in the log)."""

import json

from autopruner.firmware import make_project_from_files

sm = snakemake  # noqa: F821
timings = make_project_from_files(sm.input.model, sm.input.dataset, sm.config, sm.output[0])
with open(sm.log[0], "w") as log:
    log.write(json.dumps(timings) + "\n")
