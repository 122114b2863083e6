"""Rule validation_fold_train: one fold's baseline model (trained on the other folds) and its history.json."""

from autopruner.joblog import job_log
from autopruner.validation.folds import run_train_fold

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    history = run_train_fold(sm.input.dataset, sm.output.model, sm.output.history, sm.params.config,
                             int(sm.wildcards.seed), int(sm.wildcards.fold), sm.threads)
    log.info("fold %d of %d: %d train, %d validation, %d held out; %d epochs, validation AUC %.4f",
             history["fold"], history["n_folds"], history["n_train"], history["n_validation"],
             history["n_held_out"], history["epochs_run"], history["validation_auc"])
