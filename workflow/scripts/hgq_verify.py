"""Rule hgq_verify: hgq/da_emulation.json (the HGQ2 design bit-exact against the HGQ2 model, AUC and rejection)."""

from autopruner.firmware.da import require_bit_exact
from autopruner.firmware.hgq import verify_design
from autopruner.joblog import job_log
from autopruner.training.tagger import configure_tensorflow

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    configure_tensorflow(sm.threads)
    result = verify_design(sm.input.model, sm.input.rtl, sm.input.project, sm.input.dataset, sm.params.config,
                           sm.output[0])
    check = result["bit_exact_check"]
    log.info("%d of %d candidates bit-exact (%s); HGQ2 design AUC %s", check["n_bit_exact"], check["n_candidates"],
             check["checked_with"], result["fixed"]["auc"])
    require_bit_exact(result, "the HGQ2 design differs from the HGQ2 model")
