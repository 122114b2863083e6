# AutoPruner: toy pp -> H+b / QCD events -> jets and 39 features -> tagger pruned during training to an exact
# node budget -> retrained reduced networks -> ROC comparison -> hls4ml firmware and synthesis reports.
from snakemake.utils import min_version, validate

min_version("8.20")


configfile: "config/config.yaml"


validate(config, schema="workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/generate.smk"
include: "workflow/rules/reconstruct.smk"
include: "workflow/rules/dataset.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/methods.smk"
include: "workflow/rules/hls.smk"
include: "workflow/rules/validation.smk"


rule all:
    input:
        final_targets(),
    default_target: True
