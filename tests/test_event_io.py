"""Event files: layout per design.md, byte-identical reproducibility, independent shards, clear read
errors."""

import copy
import json

import numpy as np
import pytest
import yaml

from autopruner.config import DEFAULT_CONFIG
from autopruner.detector.shards import generate_shard
from autopruner.event_io import iterate_events, read_events, read_generator_config, write_events
from autopruner.io_utils import CorruptInputError

CONFIG = yaml.safe_load(DEFAULT_CONFIG.read_text())
N = 120


@pytest.fixture(scope="module")
def shard_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("events")
    paths = {name: d / f"{name}.root" for name in ("a", "a_again", "other_shard", "calib")}
    generate_shard(CONFIG, "hbb", "shard000", paths["a"], n_events=N)
    generate_shard(CONFIG, "hbb", "shard000", paths["a_again"], n_events=N)
    generate_shard(CONFIG, "hbb", "shard001", paths["other_shard"], n_events=N)
    generate_shard(CONFIG, "qcd", "calib000", paths["calib"], n_events=N)
    return paths


def test_same_seed_gives_identical_bytes(shard_files):
    assert shard_files["a"].read_bytes() == shard_files["a_again"].read_bytes()


def test_other_shard_gives_other_events_and_unique_ids(shard_files):
    a, b = read_events(shard_files["a"]), read_events(shard_files["other_shard"])
    assert not np.array_equal(np.asarray(a.track_pt[0]), np.asarray(b.track_pt[0]))
    ids = np.concatenate([np.asarray(e.event_id) for e in (a, b, read_events(shard_files["calib"]))])
    assert np.unique(ids).size == ids.size == 3 * N
    assert int(b.event_id[5]) == (1 << 40) | (0 << 32) | (1 << 20) | 5
    calib = read_events(shard_files["calib"], ["event_id", "process_id"])
    assert int(calib.event_id[0]) == (0 << 40) | (1 << 32) and np.all(calib.process_id == 0)


def test_event_file_bytes_do_not_depend_on_the_chunking(shard_files, tmp_path, monkeypatch):
    """`generate_shard` simulates the toy's events `CHUNK_EVENTS` at a time; a file written in chunks of 13 events,
    or from the whole particle table at once (`write_shard`), has the same bytes."""
    from autopruner import seeding
    from autopruner.detector import shards
    from autopruner.generation.toy import generate_events

    monkeypatch.setattr(shards, "CHUNK_EVENTS", 13)
    generate_shard(CONFIG, "hbb", "shard000", tmp_path / "chunked.root", n_events=N)
    gen_rng, det_rng = seeding.stream(CONFIG["seed"], "hbb", "analysis", 0).spawn(2)
    shards.write_shard(tmp_path / "whole.root", generate_events(CONFIG, "hbb", N, gen_rng), CONFIG, "hbb", "shard000",
                       det_rng)
    assert (tmp_path / "chunked.root").read_bytes() == shard_files["a"].read_bytes()
    assert (tmp_path / "whole.root").read_bytes() == shard_files["a"].read_bytes()


def test_other_seed_gives_other_bytes(tmp_path):
    cfg = copy.deepcopy(CONFIG)
    cfg["seed"] += 1
    generate_shard(cfg, "hbb", "shard000", tmp_path / "x.root", n_events=20)
    generate_shard(CONFIG, "hbb", "shard000", tmp_path / "y.root", n_events=20)
    assert (tmp_path / "x.root").read_bytes() != (tmp_path / "y.root").read_bytes()


def test_layout_follows_design(shard_files):
    ev = read_events(shard_files["a"])
    assert len(ev) == N
    expected = {
        "event_id": "uint64",
        "process_id": "int32",
        "weight": "float64",
        "pv_x": "float32",
        "track_pt": "float32",
        "track_charge": "int8",
        "track_d0": "float32",
        "track_d0_err": "float32",
        "track_pdgid": "int32",
        "track_origin": "int8",
        "track_hadron_index": "int32",
        "track_e": "float32",
        "tower_e": "float32",
        "tower_e_em": "float32",
        "tower_e_had": "float32",
        "parton_role": "int8",
        "parton_pdgid": "int32",
        "hadron_flavour": "int8",
        "hadron_parent": "int32",
        "hadron_decay_z": "float32",
    }
    import awkward as ak

    for name, dtype in expected.items():
        arr = ev[name]
        assert str(ak.flatten(arr, axis=None).type.content) == dtype, name
    assert np.all(ev.process_id == 1) and np.all(ev.weight == 1.0)
    assert np.all(ak.sum(ev.parton_role == 2, axis=1) == 2) and np.all(
        ak.sum(ev.parton_role == 1, axis=1) == 1
    )
    # tracks point at existing heavy hadrons of their own event
    idx = ev.track_hadron_index
    assert ak.all(idx < ak.num(ev.hadron_pt)[:, None]) and ak.all(idx >= -1)
    assert ak.all((ev.track_origin == 1) | (ev.track_origin == 2) | (idx == -1))


def test_generator_config_is_stored(shard_files):
    stored = read_generator_config(shard_files["other_shard"])
    assert stored["seed"] == CONFIG["seed"] and stored["spawn_key"] == [1, 0, 1]
    assert stored["generation"] == json.loads(json.dumps(CONFIG["generation"]))
    assert stored["detector"]["d0_resolution"] == CONFIG["detector"]["d0_resolution"]


def test_missing_and_truncated_files_raise_errors_naming_them(shard_files, tmp_path):
    missing = tmp_path / "nope.root"
    with pytest.raises(FileNotFoundError, match="nope.root"):
        read_events(missing)
    truncated = tmp_path / "truncated.root"
    data = shard_files["a"].read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptInputError, match="truncated.root"):
        read_events(truncated)


def test_every_compressed_basket_is_zstd(shard_files):
    """The file declares ZSTD and its baskets are ZSTD blocks (ROOT's "ZS" block header; uproot's default ZLIB writes
    "ZL"); a basket is stored uncompressed only where compression would not shrink it."""
    import uproot

    raw = shard_files["a"].read_bytes()
    with uproot.open(shard_files["a"]) as f:
        assert f.file.compression.__class__ is uproot.ZSTD
        headers = {}
        for branch in f["events"].branches:
            for i in range(branch.num_baskets):
                packed = branch.basket_compressed_bytes(i) < branch.basket_uncompressed_bytes(i)
                start = branch.basket_key(i).data_cursor.index
                headers[(branch.name, i)] = raw[start : start + 2] if packed else b"raw"
    assert set(headers.values()) <= {b"ZS", b"raw"}
    assert headers[("track_pt", 0)] == headers[("tower_e", 0)] == b"ZS"


def test_failed_write_leaves_no_file(tmp_path):
    target = tmp_path / "broken.root"
    with pytest.raises(TypeError):
        write_events(target, {"bad": object()}, "{}", "key")
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_chunks_are_the_events_in_order(shard_files):
    """Chunks of a shard (one basket cluster, read once and sliced) hold exactly its events, in order."""
    import awkward as ak

    whole = read_events(shard_files["a"])
    chunks = list(iterate_events(shard_files["a"], 50))
    assert [len(c) for c in chunks] == [50, 50, N - 100]
    assert ak.to_list(ak.concatenate(chunks)) == ak.to_list(whole)


def test_chunks_never_straddle_basket_clusters(tmp_path):
    """A file written in two extends has two clusters; each is read once and chunked on its own."""
    import awkward as ak
    import uproot

    path = tmp_path / "two_clusters.root"
    values = ak.Array([[float(i)] * (i % 3) for i in range(120)])
    with uproot.recreate(path) as f:
        tree = f.mktree("events", {"x": values.type}, counter_name=lambda counted: f"n{counted}")
        tree.extend({"x": values[:70]})
        tree.extend({"x": values[70:]})
    chunks = list(iterate_events(path, 50))
    assert [len(c) for c in chunks] == [50, 20, 50]
    assert ak.to_list(ak.concatenate([c["x"] for c in chunks])) == ak.to_list(values)
