"""Rule validation_report: results/validation/toy_vs_pythia.json and .pdf."""

from autopruner.joblog import job_log
from autopruner.validation.report import format_targets, make_validation_report

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    result = make_validation_report(
        datasets={"toy": sm.input.toy, "pythia8": sm.input.pythia8},
        cutflows={"toy": list(sm.input.toy_cutflows), "pythia8": list(sm.input.pythia8_cutflows)},
        metrics={case: list(sm.input[case]) for case in ("toy_on_toy", "toy_on_pythia", "pythia_on_pythia")},
        training_seeds=sm.params.training_seeds,
        seed=int(sm.params.config["seed"]),
        events_per_process=int(sm.params.config["validation"]["events_per_process"]),
        out_json=sm.output.json,
        out_pdf=sm.output.pdf,
    )
    log.info("features passing: %d; HF fraction QCD %s; r50 (mean over training seeds %s) %s; transfer %s",
             result["n_features_js_excess_below_0p1"], result["hf_fraction_qcd"], result["training_seeds"],
             result["r50"], result["transfer"])
    log.info("targets:\n%s", format_targets(result["targets"]))
