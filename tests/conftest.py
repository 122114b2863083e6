"""Shared fixtures: small shards of generated events (the real generator + detector), made once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

GENERATED_EVENTS = 800  # per analysis shard and process: ~150 signal candidates, enough for a mass peak
CALIBRATION_EVENTS = 300  # per calibration shard and process: ~10k b and ~15k light tracks for the IP templates
PROCESSES = ("hbb", "qcd")


#: test folders that train, evaluate or build firmware from small Keras networks and never run the toy generator
GENERATOR_FREE_FOLDERS = ("firmware", "training", "evaluation")


def run_order(item) -> int:
    """0 for the end-to-end tests, 1 for the test folders that never run the toy generator, 2 for the rest.

    `make test` runs the files on two workers (pytest-xdist, ``--dist loadfile``). The end-to-end module is the
    longest by far: started first, it runs beside all the others instead of after them. Its first step compiles
    numba's generator and detector kernels (~100 s of one core on an empty cache) and stores them in numba's cache.
    The other worker meanwhile runs the generator-free folders, several minutes of Keras work, so that it loads those
    kernels from the cache afterwards instead of compiling them a second time at the same moment.
    """
    if item.get_closest_marker("e2e") is not None:
        return 0
    folder = Path(str(item.path)).parent.name
    return 1 if folder in GENERATOR_FREE_FOLDERS else 2


def pytest_collection_modifyitems(config, items) -> None:
    """Order the tests by `run_order` (a stable sort: collection order within each group)."""
    items.sort(key=run_order)


@pytest.fixture(scope="session")
def tiny_config() -> dict:
    """The merged config/config.yaml + config/tiny.yaml the generated-event tests use."""
    from autopruner.config import REPO_ROOT, load_config

    return load_config(REPO_ROOT / "config" / "tiny.yaml")


@pytest.fixture(scope="session")
def generated_shards(tiny_config, tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Event files {(process, shard): path} for shard000 and calib000 of hbb and qcd, generated once."""
    from autopruner.detector.shards import generate_shard

    out_dir = tmp_path_factory.mktemp("generated_events")
    paths = {}
    for process in PROCESSES:
        for shard, n_events in (("shard000", GENERATED_EVENTS), ("calib000", CALIBRATION_EVENTS)):
            path = out_dir / process / f"{shard}.root"
            path.parent.mkdir(exist_ok=True)
            generate_shard(tiny_config, process, shard, path, n_events=n_events)
            paths[process, shard] = path
    return paths


@pytest.fixture(scope="session")
def generated_template_tracks(tiny_config, generated_shards) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sd0, sz0, is_b) of the tracks in b- and light-labelled VR track jets of the calibration shards."""
    from autopruner.reconstruction import features

    parts = [features.track_jets_for_templates(generated_shards[p, "calib000"], tiny_config["reconstruction"])
             for p in PROCESSES]
    return tuple(np.concatenate(x) for x in zip(*parts, strict=True))


@pytest.fixture(scope="session")
def generated_templates(tiny_config, generated_template_tracks, tmp_path_factory):
    """IP templates fitted on the generated calibration shards, as (IPTemplates, saved .npz path)."""
    from autopruner.reconstruction import btagging

    templates = btagging.IPTemplates.fit(*generated_template_tracks, tiny_config["reconstruction"]["ip_templates"])
    path = tmp_path_factory.mktemp("ip_templates") / "ip_templates.npz"
    templates.save(path)
    return templates, path


@pytest.fixture(scope="session")
def generated_candidates(tiny_config, generated_shards, generated_templates) -> dict[str, tuple[dict, dict]]:
    """{process: (candidate columns, cut flow)} of the generated analysis shards, via reconstruct_shard."""
    from autopruner.reconstruction import features

    _, template_path = generated_templates
    return {p: features.reconstruct_shard(generated_shards[p, "shard000"], template_path,
                                          tiny_config["reconstruction"]) for p in PROCESSES}
