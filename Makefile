# AutoPruner: `make run` runs the pipeline on the default config, `make test` the test suite.
# Both create .venv and install the project into it first, so they work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
CORES ?= $(shell nproc 2>/dev/null || echo 2)
BIN := $(VENV)/bin
CONFIG ?= config/config.yaml
# make test runs the test files on two workers (pytest-xdist), the end-to-end run first beside the others
# (tests/conftest.py); PARALLEL= runs them one after the other
PARALLEL ?= -n 2 --dist loadfile --no-loadscope-reorder

.PHONY: run test unit lint bench validate dag report resources profiles clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

## run: the whole pipeline on the default config (results/roc_all.pdf, results/hls_summary.*, ...)
run: $(VENV)/.installed-test
	$(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG) --rerun-incomplete

## test: ruff, snakemake --lint (tests/test_workflow_lint.py), unit tests and one end-to-end run on config/tiny.yaml
test: $(VENV)/.installed-test
	$(BIN)/ruff check src workflow tests benchmarks
	$(BIN)/python -m pytest -v --durations=15 $(PARALLEL)

## unit: the unit tests alone (no end-to-end run)
unit: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m "not e2e" $(PARALLEL)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src workflow tests benchmarks

## bench: throughput and memory benchmarks; numbers land in benchmarks/results/
bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/run_all.py

## validate: the toy generator against Pythia 8 (results/validation/toy_vs_pythia.{json,pdf}), then its targets printed
validate: $(VENV)/.installed-test
	$(BIN)/snakemake results/validation/toy_vs_pythia.pdf --cores $(CORES) --configfile $(CONFIG)
	$(BIN)/python -m autopruner.validation.report results/validation/toy_vs_pythia.json

## dag: the rule graph rendered for the README (needs graphviz's dot)
dag: $(VENV)/.installed-test
	$(BIN)/snakemake --rulegraph | dot -Tsvg > docs/rulegraph.svg

## report: the self-contained Snakemake HTML report of a finished run
report: $(VENV)/.installed-test
	$(BIN)/snakemake --report results/report.html

## resources: memory and wall time per rule from the benchmark files of the last run (for workflow/resources.yaml)
resources: $(VENV)/.installed-test
	$(BIN)/python -m autopruner.resources logs/benchmarks

## profiles: the HTCondor profile's memory requests from workflow/resources.yaml (the plugin reads no mem_mb)
profiles: $(VENV)/.installed-test
	$(BIN)/python -m autopruner.resources --htcondor profiles/htcondor/config.yaml

clean:
	rm -rf data results logs .snakemake
