"""The validation report on synthetic candidate files: its JSON keys, pass counts, heavy flavour, k-fold transfer."""

from __future__ import annotations

import json

import numpy as np
import pytest
import uproot

from autopruner.io_utils import CorruptInputError, write_json
from autopruner.schema import FEATURE_NAMES
from autopruner.validation.report import main, make_validation_report, seed_average, target_checks

pypdf = pytest.importorskip("pypdf")


def write_candidates(path, rng, n, shift=0.0, hf_share=0.2, mass_peak_gev=120.0):
    """A candidates file: Gaussian features (the first shifted by ``shift``), half signal, some b/c-labelled; the
    signal's fj_mass a Gaussian of 8 GeV around ``mass_peak_gev``."""
    label = (np.arange(n) % 2).astype(np.int8)
    columns = {name: rng.normal(0.0, 1.0, n).astype(np.float32) for name in FEATURE_NAMES}
    columns[FEATURE_NAMES[0]] = columns[FEATURE_NAMES[0]] + np.float32(shift)
    columns["fj_mass"] = np.where(label == 1, rng.normal(mass_peak_gev, 8.0, n), columns["fj_mass"]).astype(np.float32)
    flavour = np.where(rng.random(n) < hf_share, rng.choice([4, 5], n), 0).astype(np.int8)
    with uproot.recreate(path) as f:
        f["candidates"] = {**columns, "label": label, "weight": np.ones(n), "tj1_flavour": flavour}


def pooled_metrics(r50: float, err: float, n_folds: int = 5) -> dict:
    """A pooled k-fold metrics file as `autopruner.validation.crossval.run_pool` writes it (the keys the report
    reads): per-fold rejections spread +-20 % around the pooled one."""
    values = list(np.linspace(0.8, 1.2, n_folds) * r50)
    spread = {"values": values, "err": [2 * err] * n_folds, "mean": float(np.mean(values)),
              "std": float(np.std(values, ddof=1)), "sem": float(np.std(values, ddof=1) / np.sqrt(n_folds))}
    return {"auc": 0.98, "auc_err": 0.002, "n_signal": 5000, "n_background": 4000,
            "rejection": {"0.5": {"value": r50, "err": err}},
            "folds": {"n_folds": n_folds, "rejection": {"0.5": spread}}}


def cross_generator_metrics(r50: float, err: float, n_folds: int = 5) -> dict:
    """As `pooled_metrics`, with each fold model's rejection on the whole (other generator's) sample."""
    metrics = pooled_metrics(r50, err, n_folds)
    return metrics | {"models_on_whole_sample": metrics["folds"]}


def test_report_on_synthetic_samples(tmp_path):
    rng = np.random.default_rng(5)
    write_candidates(tmp_path / "toy.root", rng, 6000, shift=1.0, hf_share=0.05)
    write_candidates(tmp_path / "pythia.root", rng, 6000, hf_share=0.2)
    cutflows = {}
    for generator in ("toy", "pythia8"):
        cutflows[generator] = []
        for process in ("hbb", "qcd"):
            path = tmp_path / generator / process / "shard000.cutflow.json"
            path.parent.mkdir(parents=True)
            write_json(path, {"events": 10000, "candidates": 3000})
            cutflows[generator].append(str(path))
    metrics = {}
    # two training seeds, the second 20 % above the first on every case: the report averages them
    for case, value in (("toy_on_toy", 600.0), ("toy_on_pythia", 300.0), ("pythia_on_pythia", 200.0)):
        make = cross_generator_metrics if case == "toy_on_pythia" else pooled_metrics
        metrics[case] = []
        for seed, scale in ((3, 1.0), (8, 1.2)):
            metrics[case].append(str(tmp_path / f"{case}_seed{seed}.json"))
            write_json(metrics[case][-1], make(scale * value, err=0.1 * value))
    result = make_validation_report({"toy": str(tmp_path / "toy.root"), "pythia8": str(tmp_path / "pythia.root")},
                                    cutflows, metrics, 7, 24000, tmp_path / "out.json", tmp_path / "out.pdf",
                                    feature_names=FEATURE_NAMES[:4], training_seeds=[3, 8])
    saved = json.loads((tmp_path / "out.json").read_text())
    assert {"features", "n_features_js_excess_below_0p1", "hf_fraction_qcd", "r50", "events_per_process"} <= set(saved)
    first = saved["features"][FEATURE_NAMES[0]]
    assert set(first) == {"hbb", "qcd"} and {"js", "js_floor", "js_excess"} <= set(first["qcd"])
    assert first["qcd"]["js_excess"] > 0.3  # the shifted feature fails, every other one passes
    assert result["n_features_js_excess_below_0p1"] == 4 - 1
    assert saved["hf_fraction_qcd"]["toy"] == pytest.approx(0.05, abs=0.015)
    assert saved["hf_fraction_qcd"]["pythia"] == pytest.approx(0.2, abs=0.02)
    n_qcd = 3000  # unit weights: the binomial error on the 3000 QCD candidates
    assert saved["hf_composition_qcd"]["pythia"]["n_eff"] == pytest.approx(n_qcd)
    hf = saved["hf_fraction_qcd"]["pythia"]
    assert saved["hf_fraction_qcd_err"]["pythia"] == pytest.approx(np.sqrt(hf * (1 - hf) / n_qcd))
    assert saved["candidates_per_event"]["toy"] == {"hbb": 0.3, "qcd": 0.3}
    assert saved["training_seeds"] == [3, 8]
    assert saved["r50"]["toy_on_toy"] == pytest.approx(660.0)
    seeds = saved["r50_seeds"]["toy_on_toy"]
    assert seeds["values"] == pytest.approx([600.0, 720.0]) and seeds["err"] == pytest.approx([60.0, 60.0])
    assert seeds["std"] == pytest.approx(120.0 / np.sqrt(2)) and seeds["sem"] == pytest.approx(60.0)
    # the shared test-sample error (60) and the training's sem (60) in quadrature
    assert saved["r50_err"]["toy_on_toy"] == pytest.approx(60.0 * np.sqrt(2))
    assert saved["transfer"]["toy_over_pythia"] == pytest.approx(3.0)
    assert saved["transfer"]["toy_on_pythia_over_toy_on_toy"] == pytest.approx(0.5)
    # both rejections carry sqrt(2) x 10 % of the first seed's value on 1.1 x it: the ratio's error adds them
    assert saved["transfer_err"]["toy_over_pythia"] == pytest.approx(3.0 * np.sqrt(2) * 0.1 * np.sqrt(2) / 1.1)
    assert saved["transfer_seeds"]["toy_over_pythia"]["values"] == pytest.approx([3.0, 3.0])
    assert saved["transfer_seeds"]["toy_over_pythia"]["std"] == pytest.approx(0.0)
    assert saved["auc"]["pythia_on_pythia"] == pytest.approx(0.98)
    assert saved["auc_err"]["pythia_on_pythia"] == pytest.approx(0.002)  # the seeds agree: the bootstrap error
    folds = saved["r50_folds"]["pythia_on_pythia"]  # the first seed's
    assert folds["n_folds"] == 5 and len(folds["values"]) == 5 and folds["mean"] == pytest.approx(200.0)
    assert set(saved["r50_models"]) == {"toy_on_pythia"} and len(saved["r50_models"]["toy_on_pythia"]["values"]) == 5
    assert "bootstrap" in saved["r50_errors"] and saved["test_candidates"]["toy_on_pythia"] == {"hbb": 5000,
                                                                                                  "qcd": 4000}
    peaks = saved["signal_mass"]
    assert peaks["toy"]["peak_gev"] == pytest.approx(120.0, abs=4 * peaks["toy"]["peak_err_gev"])
    assert peaks["pythia8"]["sigma_gev"] == pytest.approx(8.0, rel=0.15)
    targets = saved["targets"]
    assert targets["features_js_excess_below_0p1"]["met"] is None  # 4 features: no target for the count
    assert targets["hf_fraction_qcd_toy_over_pythia"]["value"] == pytest.approx(0.25, abs=0.08)
    assert targets["hf_fraction_qcd_toy_over_pythia"]["met"] is False
    assert targets["r50_toy_on_toy_over_pythia_on_pythia"]["value"] == pytest.approx(3.0)
    assert targets["r50_toy_on_toy_over_pythia_on_pythia"]["met"] is False
    assert targets["r50_loss_toy_on_pythia"]["value"] == pytest.approx(0.5)
    assert targets["r50_loss_toy_on_pythia"]["met"] is False
    assert targets["signal_mass_peak_gev"]["met"] is True
    assert targets["auc_pythia_on_pythia"]["met"] is True
    # targets, summary, composition, transfer, signal mass, then the 4 features
    assert len(pypdf.PdfReader(tmp_path / "out.pdf").pages) == 5 + 4


def test_report_needs_one_metrics_file_per_training_seed(tmp_path):
    metrics = {case: [str(tmp_path / f"{case}.json")] for case in ("toy_on_toy", "toy_on_pythia", "pythia_on_pythia")}
    with pytest.raises(ValueError, match=r"toy_on_toy: expected one metrics file per training seed \[0, 1\]"):
        make_validation_report({}, {}, metrics, 7, 24000, tmp_path / "out.json", tmp_path / "out.pdf",
                               training_seeds=[0, 1])
    assert not (tmp_path / "out.json").exists()


def test_seed_average_with_one_seed_is_that_seed():
    average = seed_average([{"value": 250.0, "err": 30.0}])
    assert average["value"] == 250.0 and average["total_err"] == pytest.approx(30.0)
    assert average["std"] is None and average["sem"] is None


def test_seed_average_leaves_out_a_seed_without_a_value():
    average = seed_average([{"value": 200.0, "err": 20.0}, {"value": None, "err": None},
                            {"value": 300.0, "err": 20.0}])
    assert average["value"] == pytest.approx(250.0) and average["values"] == [200.0, None, 300.0]
    assert average["sem"] == pytest.approx(50.0)
    assert average["total_err"] == pytest.approx(np.hypot(20.0, 50.0))
    assert seed_average([{"value": None, "err": None}])["value"] is None


def _measured(toy_peak_gev, pythia_peak_gev, n_passing=33, auc=0.97, loss_kept=0.9):
    """The parts of a report's result that `target_checks` reads."""
    hf = {"toy": {"b_or_c": 0.13, "b_or_c_err": 0.005}, "pythia": {"b_or_c": 0.14, "b_or_c_err": 0.005}}
    peak = {"toy": toy_peak_gev, "pythia8": pythia_peak_gev}
    return {"hf_composition_qcd": hf, "n_features_js_excess_below_0p1": n_passing,
            "transfer": {"toy_over_pythia": 1.1, "toy_on_pythia_over_toy_on_toy": loss_kept},
            "transfer_err": {"toy_over_pythia": 0.2, "toy_on_pythia_over_toy_on_toy": 0.2},
            "signal_mass": {g: {"peak_gev": p, "peak_err_gev": None if p is None else 0.3} for g, p in peak.items()},
            "auc": {"pythia_on_pythia": auc}, "auc_err": {"pythia_on_pythia": 0.002}}


def test_targets_judge_each_central_value():
    targets = target_checks(_measured(118.0, 117.0), len(FEATURE_NAMES))
    assert all(t["met"] for t in targets.values())
    assert targets["hf_fraction_qcd_toy_over_pythia"]["value"] == pytest.approx(0.13 / 0.14)
    assert targets["r50_loss_toy_on_pythia"]["value"] == pytest.approx(0.1)
    assert targets["signal_mass_peak_gev"]["value"] == {"toy": 118.0, "pythia8": 117.0}
    missed = target_checks(_measured(105.0, 117.0, n_passing=31, auc=0.94, loss_kept=0.7), len(FEATURE_NAMES))
    assert [name for name, t in missed.items() if t["met"] is False] == [
        "features_js_excess_below_0p1", "r50_loss_toy_on_pythia", "signal_mass_peak_gev", "auc_pythia_on_pythia"]
    unmeasured = target_checks(_measured(None, 117.0), len(FEATURE_NAMES))["signal_mass_peak_gev"]
    assert unmeasured["met"] is None and unmeasured["value"]["toy"] is None


def test_targets_print_as_a_table(tmp_path, capsys):
    targets = target_checks(_measured(105.0, 117.0), len(FEATURE_NAMES))
    path = tmp_path / "toy_vs_pythia.json"
    write_json(path, {"targets": targets})
    assert main([str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{path}:" and lines[1].split() == ["target", "measured", "criterion"]
    mass = next(line for line in lines if line.startswith("signal_mass_peak_gev"))
    assert "toy 105 ± 0.3, Pythia 117 ± 0.3" in mass and mass.endswith("MISSED")
    assert "0.9286 ± 0.049" in next(line for line in lines if line.startswith("hf_fraction"))
    assert next(line for line in lines if line.startswith("auc_pythia_on_pythia")).endswith(" met")
    write_json(path, {"r50": {}})
    with pytest.raises(CorruptInputError, match="holds no targets"):
        main([str(path)])
