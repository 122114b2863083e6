"""`config_subset`: the config a rule reads, with the lists that only choose which jobs exist left out."""

from __future__ import annotations

import copy

import pytest

from autopruner.config import load_config
from autopruner.provenance import JOB_LIST_KEYS, config_subset

DEFAULT_CONFIG = load_config()


def test_subset_keeps_the_nesting_and_copies():
    subset = config_subset(DEFAULT_CONFIG, "autopruner.closed_threshold", "evaluation")
    assert subset == {"autopruner": {"closed_threshold": DEFAULT_CONFIG["autopruner"]["closed_threshold"]},
                      "evaluation": DEFAULT_CONFIG["evaluation"]}
    subset["evaluation"]["edited"] = True
    assert "edited" not in DEFAULT_CONFIG["evaluation"]


def test_a_missing_key_is_named():
    with pytest.raises(KeyError, match="training.no_such_key"):
        config_subset(DEFAULT_CONFIG, "training.no_such_key")


def test_job_lists_are_left_out_and_everything_else_kept():
    before = copy.deepcopy(DEFAULT_CONFIG)
    subset = config_subset(DEFAULT_CONFIG, "seed", "training", "autopruner", "methods", exclude=JOB_LIST_KEYS)
    assert "seeds" not in subset["training"]
    assert "budgets" not in subset["autopruner"] and "budgets" not in subset["methods"]
    assert "compare" not in subset["methods"]
    assert subset["training"]["epochs"] == DEFAULT_CONFIG["training"]["epochs"]
    assert subset["autopruner"]["closed_threshold"] == DEFAULT_CONFIG["autopruner"]["closed_threshold"]
    assert subset["methods"]["magnitude"] == DEFAULT_CONFIG["methods"]["magnitude"]
    assert DEFAULT_CONFIG == before  # the config itself keeps its lists


def test_an_excluded_key_outside_the_subset_changes_nothing():
    assert config_subset(DEFAULT_CONFIG, "evaluation", exclude=JOB_LIST_KEYS) == config_subset(
        DEFAULT_CONFIG, "evaluation")


def test_adding_a_seed_or_a_budget_leaves_a_job_config_unchanged():
    more = copy.deepcopy(DEFAULT_CONFIG)
    more["training"]["seeds"] = [*more["training"]["seeds"], 99]
    more["autopruner"]["budgets"] = [*more["autopruner"]["budgets"], 15]
    keys = ("seed", "training", "autopruner")
    assert config_subset(more, *keys, exclude=JOB_LIST_KEYS) == config_subset(DEFAULT_CONFIG, *keys,
                                                                              exclude=JOB_LIST_KEYS)
    more["training"]["epochs"] += 1
    assert config_subset(more, *keys, exclude=JOB_LIST_KEYS) != config_subset(DEFAULT_CONFIG, *keys,
                                                                              exclude=JOB_LIST_KEYS)
