"""Dataset merge: reproducible order-independent hash split, flattened p_T spectra, errors naming the file."""

import numpy as np
import pytest
import uproot

from autopruner.dataset.merge import SPLIT_CODES, assign_split, load_split, merge_candidates
from autopruner.io_utils import CorruptInputError

FRACTIONS = {"train": 0.6, "validation": 0.2, "test": 0.2}
PT_BINS = [250, 300, 350, 400, 450, 500, 600, 700, 850, 1000, 1500, 3000]
FEATURES = ["fj_pt", "fj_mass", "tj1_sd0_1"]


def _candidates(rng: np.random.Generator, n: int, label: int, first_id: int) -> dict[str, np.ndarray]:
    """Toy candidates: signal with a harder p_T spectrum than background, a label-dependent mass."""
    power = 3.5 if label else 5.5
    pt = 250.0 * (1.0 - rng.uniform(size=n)) ** (-1.0 / (power - 1.0))
    return {
        "fj_pt": pt.astype(np.float32),
        "fj_mass": rng.normal(115.0 if label else 60.0, 20.0, n).astype(np.float32),
        "tj1_sd0_1": rng.normal(5.0 * label, 3.0, n).astype(np.float32),
        "label": np.full(n, label, np.int8),
        "event_id": (np.uint64(label) << np.uint64(40)) + np.arange(first_id, first_id + n, dtype=np.uint64),
        "process_id": np.full(n, label, np.int32),
        "weight": np.ones(n),
        "higgs_matched": np.full(n, bool(label)),
        "tj1_flavour": np.full(n, 5 if label else 0, np.int8),
    }


def _write(path, columns):
    with uproot.recreate(path) as f:
        f["candidates"] = columns
    return str(path)


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """Two signal and two background shards."""
    rng = np.random.default_rng(123)
    d = tmp_path_factory.mktemp("features")
    return [
        _write(d / f"{lab}_{i}.root", _candidates(rng, 6000, lab, 10_000 * i))
        for lab in (1, 0)
        for i in (0, 1)
    ]


@pytest.fixture(scope="module")
def merged(shards, tmp_path_factory):
    out = tmp_path_factory.mktemp("merged") / "dataset.root"
    merge_candidates(shards, FRACTIONS, PT_BINS, out)
    return out


def test_split_reproducible_order_independent_and_fractions(shards, merged, tmp_path):
    other = tmp_path / "reversed.root"
    merge_candidates(shards[::-1], FRACTIONS, PT_BINS, other)
    a = uproot.open(merged)["candidates"].arrays(["event_id", "split", "train_weight"], library="np")
    b = uproot.open(other)["candidates"].arrays(["event_id", "split", "train_weight"], library="np")
    order_a, order_b = np.argsort(a["event_id"]), np.argsort(b["event_id"])
    np.testing.assert_array_equal(a["event_id"][order_a], b["event_id"][order_b])
    np.testing.assert_array_equal(a["split"][order_a], b["split"][order_b])
    np.testing.assert_allclose(a["train_weight"][order_a], b["train_weight"][order_b], rtol=1e-12)
    fractions = np.bincount(a["split"], minlength=3) / a["split"].size
    np.testing.assert_allclose(fractions, [0.6, 0.2, 0.2], atol=0.015)
    # the split is a function of the event id alone
    np.testing.assert_array_equal(assign_split(a["event_id"], FRACTIONS), a["split"])


def test_merged_dataset_is_byte_for_byte_reproducible(shards, tmp_path):
    """Merging the same shards again into the same path gives the same bytes (event_io.reproducible_root_file)."""
    out = tmp_path / "dataset.root"
    merge_candidates(shards, FRACTIONS, PT_BINS, out)
    first = out.read_bytes()
    out.unlink()
    merge_candidates(shards, FRACTIONS, PT_BINS, out)
    assert out.read_bytes() == first


def test_split_is_not_correlated_with_consecutive_ids():
    ids = np.arange(200_000, dtype=np.uint64)
    split = assign_split(ids, FRACTIONS)
    np.testing.assert_allclose(np.bincount(split[::2], minlength=3) / 100_000, [0.6, 0.2, 0.2], atol=0.01)
    assert np.mean(split[1:] == split[:-1]) == pytest.approx(0.6**2 + 2 * 0.2**2, abs=0.01)


def test_flattened_pt_spectra_agree_and_classes_balance(merged):
    t = uproot.open(merged)["candidates"].arrays(["fj_pt", "label", "split", "train_weight"], library="np")
    raw_counts = [np.histogram(t["fj_pt"][t["label"] == lab], PT_BINS)[0] for lab in (0, 1)]
    assert np.all(t["train_weight"] >= 0) and np.all(np.isfinite(t["train_weight"]))
    for code in SPLIT_CODES.values():
        in_split = t["split"] == code
        hists = [
            np.histogram(
                t["fj_pt"][in_split & (t["label"] == lab)],
                PT_BINS,
                weights=t["train_weight"][in_split & (t["label"] == lab)],
            )[0]
            for lab in (0, 1)
        ]
        np.testing.assert_allclose(hists[0], hists[1], rtol=1e-9)
        assert hists[0].sum() == pytest.approx(in_split.sum() / 2)
        # the common shape lies between the two raw spectra, bin by bin (normalised)
        populated = hists[0] > 0
        raw = [c[populated] / c[populated].sum() for c in raw_counts]
        common = hists[0][populated] / hists[0][populated].sum()
        assert np.all(common >= np.minimum(*raw) - 0.02) and np.all(common <= np.maximum(*raw) + 0.02)
    # weights stay of order one: no candidate dominates its class (a flat target spectrum fails this)
    positive = t["train_weight"][t["train_weight"] > 0]
    assert positive.max() < 50 * positive.mean()  # a flat target gives several hundred on these spectra
    # the raw spectra differ a lot: the test above is not trivially true
    sig, bkg = t["fj_pt"][t["label"] == 1], t["fj_pt"][t["label"] == 0]
    assert np.mean(sig > 500) > 3 * np.mean(bkg > 500)


def test_load_split(merged):
    x, y, w = load_split(merged, "test", FEATURES)
    assert x.dtype == np.float32 and x.shape == (y.size, 3) and w.shape == y.shape
    assert 0.17 < y.size / 24_000 < 0.23
    assert set(np.unique(y)) == {0, 1}
    assert x[y == 1, 1].mean() > x[y == 0, 1].mean() + 30  # the columns are in the requested order
    with pytest.raises(ValueError, match="unknown split"):
        load_split(merged, "training", FEATURES)
    with pytest.raises(KeyError, match="no_such_feature"):
        load_split(merged, "train", ["no_such_feature"])


def test_missing_and_truncated_inputs_name_the_file(shards, tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.root"):
        merge_candidates([shards[0], str(tmp_path / "absent.root")], FRACTIONS, PT_BINS, tmp_path / "o.root")
    truncated = tmp_path / "truncated.root"
    data = open(shards[1], "rb").read()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptInputError, match="truncated.root"):
        merge_candidates([shards[0], str(truncated)], FRACTIONS, PT_BINS, tmp_path / "o.root")
    assert not (tmp_path / "o.root").exists()


def test_mismatched_columns_are_rejected(shards, tmp_path):
    rng = np.random.default_rng(0)
    columns = _candidates(rng, 10, 1, 0)
    del columns["fj_mass"]
    odd = _write(tmp_path / "odd.root", columns)
    with pytest.raises(CorruptInputError, match="odd.root"):
        merge_candidates([shards[0], odd], FRACTIONS, PT_BINS, tmp_path / "o.root")


def test_bad_fractions_rejected(shards, tmp_path):
    with pytest.raises(ValueError, match="sum to 1"):
        merge_candidates(shards, {"train": 0.7, "validation": 0.2, "test": 0.2}, PT_BINS, tmp_path / "o.root")
