"""The config schema: every shipped config validates; a bad one is rejected with the key named."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError

from autopruner.config import DEFAULT_CONFIG, REPO_ROOT, deep_merge, load_config, validate_config


@pytest.fixture(scope="module")
def default_config() -> dict:
    return yaml.safe_load(DEFAULT_CONFIG.read_text())


SHIPPED_OVERRIDES = sorted(
    str(path.relative_to(REPO_ROOT)) for path in (REPO_ROOT / "config").glob("*.yaml") if path != DEFAULT_CONFIG
)


def test_every_override_is_checked():
    """The shipped configs are found by globbing config/, so a new one is validated without editing this file."""
    assert {"config/tiny.yaml", "config/full.yaml", "config/pythia.yaml", "config/study.yaml"} <= set(SHIPPED_OVERRIDES)


@pytest.mark.parametrize("override", [None, *SHIPPED_OVERRIDES])
def test_shipped_configs_validate(override):
    config = load_config(*([REPO_ROOT / override] if override else []))
    assert config["generation"]["shards"]["hbb"] >= 1


def test_full_config_is_four_million_events():
    config = load_config(REPO_ROOT / "config/full.yaml")
    gen = config["generation"]
    assert gen["events_per_shard"] * (gen["shards"]["hbb"] + gen["shards"]["qcd"]) == 4_000_000


def test_deep_merge_keeps_untouched_keys(default_config):
    merged = deep_merge(default_config, {"generation": {"events_per_shard": 7}})
    assert merged["generation"]["events_per_shard"] == 7
    assert merged["generation"]["pt_min_gev"] == default_config["generation"]["pt_min_gev"]
    assert default_config["generation"]["events_per_shard"] != 7  # the input is not mutated


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        (("generation", "events_per_shard"), "many", "events_per_shard"),
        (("autopruner", "budgets"), [30, 150], "budgets"),
        (("hls4ml", "precision"), "float", "precision"),
        (("training", "hidden_layers"), [64, 0], "hidden_layers"),
        (("validation", "training_seeds"), [], "training_seeds"),
        (("validation", "training_seeds"), [1, 1], "training_seeds"),
    ],
)
def test_bad_value_names_the_key(default_config, path, value, key):
    config = copy.deepcopy(default_config)
    config[path[0]][path[1]] = value
    with pytest.raises(WorkflowError, match=key):
        validate_config(config)


def test_unknown_key_is_rejected(default_config):
    config = copy.deepcopy(default_config)
    config["training"]["learnin_rate"] = 0.1
    with pytest.raises(WorkflowError, match="learnin_rate"):
        validate_config(config)


def test_missing_key_is_rejected(default_config):
    config = copy.deepcopy(default_config)
    del config["detector"]["d0_resolution"]
    with pytest.raises(WorkflowError, match="d0_resolution"):
        validate_config(config)


def failed_dry_run_output(tmp_path: Path, override: str) -> str:
    """What a Snakemake dry run with the config override ``override`` (YAML text) prints; the run must fail."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(override)
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--dry-run", "--cores", "1", "--configfile", str(bad)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    return result.stdout + result.stderr


def test_snakemake_stops_on_bad_configfile(tmp_path: Path):
    assert "batch_size" in failed_dry_run_output(tmp_path, "training:\n  batch_size: -3\n")


def test_firmware_budget_the_autopruner_does_not_train_is_refused(tmp_path: Path):
    output = failed_dry_run_output(tmp_path, "autopruner:\n  budgets: [30, 70]\nfirmware:\n  budgets: [30, 45]\n")
    assert "firmware.budgets: [45] not among autopruner.budgets [30, 70]" in output


def test_study_config_runs_every_method_at_every_budget_with_three_seeds():
    config = load_config(REPO_ROOT / "config/study.yaml")
    assert len(config["training"]["seeds"]) >= 3
    assert set(config["methods"]["budgets"]) == set(config["autopruner"]["budgets"]) >= {2, 5, 10, 20, 30, 50, 70}
    assert set(config["methods"]["compare"]) == {"magnitude", "uniform", "search", "pquant"}
