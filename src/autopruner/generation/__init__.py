"""Stage 1a, event generation: the toy g b -> H b (H -> b b-bar) and QCD 2->2 generator, and Pythia 8.

Each backend module provides ``generate_events(config, process, n_events, rng)`` and
``generate_event_chunks(config, process, n_events, rng, chunk_events)``, the same events a chunk at a time. They are
named here, not imported, so that a job running one backend neither imports nor depends on the other
(`backend_module`), and each backend declares the ``generation`` keys it reads (`backend_generation_config`), so
editing one backend's settings never reruns the other's shards.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import Any

#: the module of each ``generation.backend``
BACKEND_MODULES = {"toy": "autopruner.generation.toy", "pythia8": "autopruner.generation.pythia"}
#: the ``generation`` keys Pythia 8 reads; the toy reads every key but the ``pythia8`` section
PYTHIA8_KEYS = ("backend", "sqrt_s_gev", "higgs_mass_gev", "pt_min_gev", "events_per_shard", "pythia8")
#: how many shards a sample has: no shard's events depend on it, so changing it adds or drops shards, never reruns one
SAMPLE_SIZE_KEYS = ("shards", "calibration_shards")


def backend_module(backend: str) -> ModuleType:
    """The generator module of a backend name; ValueError naming the known ones for anything else."""
    if backend not in BACKEND_MODULES:
        raise ValueError(f"unknown generation.backend {backend!r}; expected one of {sorted(BACKEND_MODULES)}")
    return importlib.import_module(BACKEND_MODULES[backend])


def backend_generation_config(generation: Mapping[str, Any], backend: str) -> dict[str, Any]:
    """The part of the ``generation`` section that a shard of ``backend`` depends on, with ``backend`` set to it: the
    keys the backend reads, without the sample sizes (``SAMPLE_SIZE_KEYS``)."""
    if backend not in BACKEND_MODULES:
        raise ValueError(f"unknown generation.backend {backend!r}; expected one of {sorted(BACKEND_MODULES)}")
    if backend == "pythia8":
        section = {key: generation[key] for key in PYTHIA8_KEYS if key in generation}
    else:
        section = {
            key: value
            for key, value in generation.items()
            if key not in BACKEND_MODULES and key not in SAMPLE_SIZE_KEYS
        }
    return {**section, "backend": backend}
