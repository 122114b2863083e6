#!/bin/sh
# Executable of every AutoPruner HTCondor job (resource job_wrapper, profiles/htcondor/config.yaml). The plugin
# passes Snakemake's arguments; python3 is the container image's (containers/autopruner.def), which holds the
# package, its dependencies and Snakemake.
exec python3 -m snakemake "$@"
