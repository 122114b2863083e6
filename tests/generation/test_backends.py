"""Each generator backend sees only its own generation keys, and unknown backends are named."""

from __future__ import annotations

import pytest
import yaml

from autopruner.config import DEFAULT_CONFIG
from autopruner.generation import backend_generation_config, backend_module
from autopruner.provenance import module_closure

GENERATION = yaml.safe_load(DEFAULT_CONFIG.read_text())["generation"]


def test_each_backend_reads_its_own_keys():
    toy = backend_generation_config(GENERATION, "toy")
    pythia = backend_generation_config(GENERATION, "pythia8")
    assert "pythia8" not in toy and toy["backend"] == "toy" and "hadronization" in toy
    assert pythia["pythia8"] == GENERATION["pythia8"] and pythia["backend"] == "pythia8"
    assert "hadronization" not in pythia and "shower" not in pythia
    assert pythia["pt_min_gev"] == GENERATION["pt_min_gev"]


def test_sample_sizes_are_not_part_of_a_shard():
    """More or fewer shards must add or drop shards, not rerun the ones that stay."""
    for backend in ("toy", "pythia8"):
        section = backend_generation_config(GENERATION, backend)
        assert "shards" not in section and "calibration_shards" not in section
        assert section["events_per_shard"] == GENERATION["events_per_shard"]


def test_unknown_backend_is_named():
    with pytest.raises(ValueError, match="herwig"):
        backend_module("herwig")
    with pytest.raises(ValueError, match="herwig"):
        backend_generation_config(GENERATION, "herwig")


def test_shard_writer_depends_on_no_backend_statically():
    closure = module_closure(["autopruner.detector.shards"])
    assert "autopruner.generation.toy" not in closure and "autopruner.generation.pythia" not in closure
