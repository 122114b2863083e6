"""Load the pipeline configuration the way Snakemake does: the default file, deep-merged overrides, schema check."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO_ROOT / "config" / "config.yaml"
SCHEMA = REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml"


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated recursively by ``override`` (Snakemake's --configfile semantics)."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def validate_config(config: Mapping[str, Any]) -> None:
    """Raise snakemake's WorkflowError naming the offending key if ``config`` violates the schema."""
    from snakemake.utils import validate

    validate(dict(config), schema=str(SCHEMA), set_default=False)


def load_config(*override_paths: str | Path) -> dict[str, Any]:
    """The default config merged with each override file in turn, validated."""
    config = yaml.safe_load(DEFAULT_CONFIG.read_text())
    for path in override_paths:
        config = deep_merge(config, yaml.safe_load(Path(path).read_text()) or {})
    validate_config(config)
    return config
