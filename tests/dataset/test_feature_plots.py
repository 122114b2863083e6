"""Feature plots, cut-flow table and single-feature AUCs on a small hand-made dataset."""

import csv
import json

import numpy as np
import pytest
import uproot
from scipy.stats import norm

from autopruner.dataset.plots import axis_label, plot_features, single_feature_auc, write_cutflow_table
from autopruner.io_utils import CorruptInputError

FEATURES = ["fj_pt", "fj_mass", "fj_n_tracks", "tj1_sv_mass"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """4000 candidates: fj_mass separates by a known amount, tj1_sv_mass is *lower* for signal."""
    rng = np.random.default_rng(7)
    n = 4000
    label = (np.arange(n) % 2).astype(np.int8)
    columns = {
        "fj_pt": 250 + rng.exponential(100, n),
        "fj_mass": rng.normal(0, 1, n) + 1.0 * label,
        "fj_n_tracks": rng.poisson(20 + 10 * label).astype(np.float32),
        "tj1_sv_mass": np.where(rng.uniform(size=n) < 0.7, -1.0, rng.uniform(0.5, 5, n)) - 2.0 * label,
        "label": label,
        "weight": np.ones(n),
        "split": (np.arange(n) // 2 % 3).astype(np.int8),
    }
    path = tmp_path_factory.mktemp("ds") / "dataset.root"
    with uproot.recreate(path) as f:
        f["candidates"] = columns
    return path


def test_plot_features_one_page_per_feature(dataset, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    out = tmp_path / "plots" / "features.pdf"
    assert plot_features(dataset, out, FEATURES) == len(FEATURES)
    assert len(pypdf.PdfReader(out).pages) == len(FEATURES)


def test_axis_labels_carry_units():
    assert axis_label("fj_mass").endswith("[GeV]")
    assert axis_label("tj2_sv_mass").endswith("[GeV]") and "2" in axis_label("tj2_sv_mass")
    assert "[" not in axis_label("fj_tau21")


def test_single_feature_auc_orientation_free(dataset):
    aucs = single_feature_auc(dataset, FEATURES)
    assert list(aucs) == FEATURES
    # two unit Gaussians one sigma apart: AUC = Phi(1/sqrt(2)) = 0.760; 1334 test candidates -> +-0.015
    assert aucs["fj_mass"] == pytest.approx(norm.cdf(1 / np.sqrt(2)), abs=0.04)
    assert aucs["tj1_sv_mass"] == pytest.approx(0.78, abs=0.04)  # signal lower: still counted as separating
    assert 0.5 <= aucs["fj_pt"] < 0.56
    assert all(0.5 <= v <= 1.0 for v in aucs.values())


def test_cutflow_sums_shards_per_process(tmp_path):
    steps = ["events", "fj_pt", "fj_mass", "candidates"]
    for process, base in (("hbb", [100, 80, 60, 50]), ("qcd", [100, 70, 20, 10])):
        for shard in range(2):
            path = tmp_path / process / f"shard00{shard}.cutflow.json"
            path.parent.mkdir(exist_ok=True)
            path.write_text(json.dumps(dict(zip(steps, [b + shard for b in base], strict=True))))
    files = sorted(str(p) for p in tmp_path.glob("*/*.cutflow.json"))
    out = tmp_path / "cutflow.csv"
    totals = write_cutflow_table(files, out)
    assert totals["hbb"]["candidates"] == 101 and totals["qcd"]["events"] == 201
    rows = list(csv.DictReader(out.open()))
    assert [r["step"] for r in rows] == steps
    assert rows[-1]["qcd"] == "21" and float(rows[0]["hbb_fraction"]) == 1.0
    assert float(rows[-1]["hbb_fraction"]) == pytest.approx(101 / 201)
    bad = tmp_path / "qcd" / "bad.cutflow.json"
    bad.write_text("{not json")
    with pytest.raises(CorruptInputError, match="bad.cutflow.json"):
        write_cutflow_table([*files, str(bad)], out)
