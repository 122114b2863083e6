"""Rule da_verify: da_emulation.json (bit-exact check of the DA design, its AUC and rejection)."""

from autopruner.firmware.da import require_bit_exact, verify_design
from autopruner.joblog import job_log
from autopruner.training.tagger import configure_tensorflow

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    configure_tensorflow(sm.threads)
    result = verify_design(sm.input.rtl, sm.input.project, sm.input.dataset, sm.params.config, sm.output[0])
    check = result["bit_exact_check"]
    log.info("%d of %d candidates bit-exact (%s); DA AUC %s", check["n_bit_exact"], check["n_candidates"],
             check["checked_with"], result["fixed"]["auc"])
    require_bit_exact(result, "the DA design differs from the fixed-point emulation")
