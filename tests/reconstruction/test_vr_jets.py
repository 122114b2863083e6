"""VR track jets against the reference: fjcontrib's VariableRPlugin compiled from the fastjet wheel."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from autopruner.reconstruction.large_r_jets import GHOST_SCALE, FlatP4, concatenate_per_event
from autopruner.reconstruction.vr_jets import cluster_variable_r

ORACLE_SOURCE = Path(__file__).with_name("vr_oracle.cc")
RHO_GEV, R_MIN, R_MAX = 30.0, 0.02, 0.4
PION_MASS_GEV = 0.13957


def _fastjet_dirs() -> tuple[Path, Path]:
    """Include and library directories shipped inside the installed fastjet wheel."""
    import fastjet

    root = Path(fastjet.__file__).resolve().parent
    headers = sorted(root.rglob("VariableRPlugin.hh"))
    libs = sorted(root.rglob("libfastjetcontribfragile.so*"))
    if not headers or not libs:
        pytest.fail(f"fastjet wheel under {root} lacks VariableRPlugin.hh or libfastjetcontribfragile.so")
    include_dir = headers[0].parents[2]  # .../include/fastjet/contrib/VariableRPlugin.hh
    return include_dir, libs[0].parent


@pytest.fixture(scope="session")
def oracle(request, tmp_path_factory) -> Path:
    """The compiled reference program, built once and cached (keyed by source and fastjet version)."""
    if shutil.which("g++") is None:
        pytest.skip("g++ not found: cannot compile the fjcontrib VariableRPlugin reference")
    import fastjet

    include_dir, lib_dir = _fastjet_dirs()
    key = hashlib.sha256(ORACLE_SOURCE.read_bytes() + fastjet.__version__.encode()).hexdigest()[:16]
    try:
        cache_dir = request.config.cache.mkdir("vr_oracle")
    except AttributeError:  # cache provider disabled
        cache_dir = tmp_path_factory.mktemp("vr_oracle")
    binary = Path(cache_dir) / f"vr_oracle_{key}"
    if not binary.exists():
        tmp = binary.with_suffix(".tmp")
        cmd = ["g++", "-O2", "-std=c++17", str(ORACLE_SOURCE), f"-I{include_dir}", f"-L{lib_dir}",
               f"-Wl,-rpath,{lib_dir}", "-lfastjetcontribfragile", "-lfastjet", "-o", str(tmp)]
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        tmp.replace(binary)
    return binary


Jets = list[list[tuple[float, tuple[int, ...]]]]  # per event: (pt, sorted constituent indices) per jet


def _run_oracle(binary: Path, p4: np.ndarray, offsets: np.ndarray) -> Jets:
    """Cluster with the C++ plugin; per event a pT-ordered list of (pt, sorted constituent indices)."""
    lines = [f"{RHO_GEV!r} {R_MIN!r} {R_MAX!r} {len(offsets) - 1}"]
    for lo, hi in zip(offsets[:-1], offsets[1:], strict=True):
        lines.append(str(hi - lo))
        lines.extend(" ".join(repr(float(v)) for v in row) for row in p4[lo:hi])
    out = subprocess.run([str(binary)], input="\n".join(lines) + "\n", capture_output=True, text=True,
                         check=True)
    events: Jets = []
    for line in out.stdout.splitlines():
        fields = line.split()
        if fields[0] == "EVENT":
            events.append([])
        else:
            events[-1].append((float(fields[0]), tuple(int(i) for i in fields[2:])))
    return events


def _random_events(rng: np.random.Generator, n_events: int) -> tuple[np.ndarray, np.ndarray]:
    """Track-like events: a soft spray plus collimated prongs (some across phi = +-pi, some very hard)."""
    chunks, counts = [], []
    for _ in range(n_events):
        n_soft = int(rng.integers(0, 40))
        n_prongs = int(rng.integers(0, 5))
        pt = [rng.pareto(2.0, n_soft) + 0.5]
        eta = [rng.uniform(-2.5, 2.5, n_soft)]
        phi = [rng.uniform(-np.pi, np.pi, n_soft)]
        for _ in range(n_prongs):
            n_in = int(rng.integers(1, 25))
            scale = rng.choice([20.0, 200.0, 2000.0])
            width = rng.choice([0.01, 0.05, 0.2])
            centre_phi = rng.choice([np.pi - 0.01, rng.uniform(-np.pi, np.pi)])
            pt.append(rng.dirichlet(np.full(n_in, 0.7)) * scale + 0.5)
            eta.append(rng.uniform(-2.0, 2.0) + rng.normal(0.0, width, n_in))
            phi.append(centre_phi + rng.normal(0.0, width, n_in))
        pt_a, eta_a, phi_a = (np.concatenate(x) for x in (pt, eta, phi))
        px, py, pz = pt_a * np.cos(phi_a), pt_a * np.sin(phi_a), pt_a * np.sinh(eta_a)
        e = np.sqrt(px**2 + py**2 + pz**2 + PION_MASS_GEV**2)
        chunks.append(np.stack([px, py, pz, e], axis=1))
        counts.append(len(pt_a))
    return np.concatenate(chunks), np.concatenate([[0], np.cumsum(counts)])


def _python_jets(p4: np.ndarray, offsets: np.ndarray) -> Jets:
    """The numba clustering in the oracle's format."""
    jets = cluster_variable_r(p4[:, 0], p4[:, 1], p4[:, 2], p4[:, 3], offsets, RHO_GEV, R_MIN, R_MAX)
    events = []
    for ev in range(len(offsets) - 1):
        lo, hi = offsets[ev], offsets[ev + 1]
        local = jets.particle_jet[lo:hi]
        pts = jets.pt[jets.jet_offsets[ev]:jets.jet_offsets[ev + 1]]
        events.append([(float(pt), tuple(np.flatnonzero(local == k).tolist())) for k, pt in enumerate(pts)])
    return events


def _assert_same_jets(ours, reference) -> None:
    """Identical constituent sets, pT equal to 1e-9 relative, event by event."""
    assert len(ours) == len(reference)
    for ev, (mine, ref) in enumerate(zip(ours, reference, strict=True)):
        assert sorted(c for _, c in mine) == sorted(c for _, c in ref), f"event {ev}: constituents differ"
        ref_pt = {c: pt for pt, c in ref}
        for pt, c in mine:
            assert pt == pytest.approx(ref_pt[c], rel=1e-9, abs=0.0), f"event {ev}: jet pT differs"


def test_random_events_match_fjcontrib(oracle):
    rng = np.random.default_rng(20240611)
    p4, offsets = _random_events(rng, 1200)
    ours, reference = _python_jets(p4, offsets), _run_oracle(oracle, p4, offsets)
    _assert_same_jets(ours, reference)
    n_jets = sum(len(ev) for ev in ours)
    multi = sum(len(c) > 1 for ev in ours for _, c in ev)
    assert n_jets > 10_000 and multi > 2_000  # the sample exercises real merging, not just singletons
    hard = sum(pt > RHO_GEV / R_MIN for ev in ours for pt, _ in ev)
    assert hard > 0  # ... and the R_min clip


def _generated_tracks(path: Path, reco: dict, with_ghosts: bool) -> tuple[np.ndarray, np.ndarray]:
    """Flat (px, py, pz, E) and offsets of a generated shard's tracks above the VR input threshold.

    ``with_ghosts`` appends the hadrons as ghosts, exactly the input the track-jet flavour labelling clusters.
    """
    from autopruner.event_io import read_events
    from autopruner.reconstruction.features import load_chunk

    chunk = load_chunk(read_events(path), reco)
    t, h = chunk.tracks, chunk.hadrons
    parts = [FlatP4.from_pt_eta_phi(t["pt"], t["eta"], t["phi"], t["e"], t.offsets)]
    if with_ghosts:
        parts.append(FlatP4.from_pt_eta_phi(h["pt"], h["eta"], h["phi"], h["m"], h.offsets,
                                            is_mass=True).scaled(GHOST_SCALE))
    merged = concatenate_per_event(parts)[0]
    return np.stack([merged.px, merged.py, merged.pz, merged.e], axis=1), merged.offsets


@pytest.mark.parametrize("with_ghosts", [False, True], ids=["tracks", "tracks+hadron_ghosts"])
def test_generated_events_match_fjcontrib(oracle, generated_shards, tiny_config, with_ghosts):
    """All events of a generated hbb and qcd shard (tracks with pT > 0.5 GeV), hadron ghosts optional."""
    reco = tiny_config["reconstruction"]
    assert reco["track_jets"]["track_pt_min_gev"] == 0.5
    assert (reco["track_jets"]["rho_gev"], reco["track_jets"]["r_min"], reco["track_jets"]["r_max"]) == (
        RHO_GEV, R_MIN, R_MAX)
    n_events = 0
    for process in ("hbb", "qcd"):
        p4, offsets = _generated_tracks(generated_shards[process, "shard000"], reco, with_ghosts)
        ours, reference = _python_jets(p4, offsets), _run_oracle(oracle, p4, offsets)
        _assert_same_jets(ours, reference)
        n_events += len(ours)
        hard_jets = sum(pt > 5.0 and len(c) >= 2 for ev in ours for pt, c in ev)
        assert hard_jets > len(ours)  # real multi-track jets above the selection, not only soft singletons
    assert n_events >= 200


def test_edge_cases_match_fjcontrib(oracle):
    """Empty events, single particles, exact back-to-back and phi-wrapping pairs."""
    rows = [
        [],
        [[3.0, 0.0, 0.0, 3.1]],
        [[10.0, 0.0, 5.0, 11.2], [-10.0, 1e-3, 5.0, 11.2]],
        [[-5.0, 1e-4, 1.0, 5.2], [-5.0, -1e-4, 1.0, 5.2], [-4.0, 0.3, -2.0, 4.6]],
        [[2000.0, 1.0, 100.0, 2003.0], [1999.0, 25.0, 100.0, 2001.0], [50.0, 2.0, 3.0, 51.0]],
    ]
    p4 = np.array([r for ev in rows for r in ev], dtype=float).reshape(-1, 4)
    offsets = np.concatenate([[0], np.cumsum([len(ev) for ev in rows])])
    _assert_same_jets(_python_jets(p4, offsets), _run_oracle(oracle, p4, offsets))


def test_rejects_bad_radii_and_zero_pt():
    p4 = np.array([[1.0, 0.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match="r_min"):
        cluster_variable_r(*p4.T, np.array([0, 1]), RHO_GEV, 0.5, 0.4)
    with pytest.raises(ValueError, match="pT > 0"):
        cluster_variable_r(np.zeros(1), np.zeros(1), np.ones(1), np.ones(1), np.array([0, 1]), 30.0, 0.0, 0.4)
