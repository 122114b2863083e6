"""Rule hgq_finetune: results/hls/{variant}/{kind}/hgq/model.keras and hgq_history.json (HGQ2 fine-tuning)."""

from autopruner.firmware.hgq import run_finetune
from autopruner.joblog import job_log
from autopruner.training.tagger import configure_tensorflow

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    configure_tensorflow(sm.threads)
    record = run_finetune(sm.input.project, sm.input.dataset, sm.params.config, sm.output.model, sm.output.history)
    log.info("HGQ2 %s: %d epochs on %d candidates in %.0f s, EBOPs %d, validation loss %.4f", record["hgq2"],
             len(record["loss"]), record["n_train_candidates"], record["train_wall_s"], record["ebops_traced"],
             record["val_loss"][-1])
