"""Rule hls_synth: synthesis_report.json (vendor C synthesis, or the estimate)."""

import time
from pathlib import Path

from autopruner.io_utils import write_json
from autopruner.synthesis import synthesize

sm = snakemake  # noqa: F821
start = time.perf_counter()
report = synthesize(sm.input.project, sm.config, Path(sm.output[0]).parent / "synth_build")
report["wall_s"] = time.perf_counter() - start
write_json(sm.output[0], report)
