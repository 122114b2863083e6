"""Pythia 8 backend: record ancestry on a hand-made event record (no Pythia), then tiny Pythia shards end to end."""

from __future__ import annotations

import numpy as np
import pytest

from autopruner.config import REPO_ROOT, load_config
from autopruner.generation import record
from autopruner.particles import ORIGIN_B, ORIGIN_C, ORIGIN_PROMPT, ORIGIN_SOFT
from autopruner.schema import ROLE_HARD, ROLE_HIGGS, ROLE_HIGGS_B, ROLE_SPLITTING

# A b g -> H b event in Pythia 8's record conventions: (pdgid, status, mother1, mother2), local indices, 0 = none.
# The hard b (6) radiates a gluon that splits to c c-bar; the H (5 -> copy 7) decays to b b-bar (13, 14). One MPI
# (15-18) and two beam remnants (19, 20) make the underlying event. Strings: A = the H's b b-bar (21-22), B = hard b
# and c c-bar (23-25), C = MPI gluons and remnants (26-29), D = an initial-state-radiation gluon (72). Entries 70-72
# are appended last: in Pythia the initial-state shower adds an incoming parton's new mother after it. 74 merges a
# hard and an MPI gluon before hadronization (status 73), which must not make the MPI part of the hardest interaction.
HAND_MADE_RECORD = [
    (90, -11, 0, 0), (2212, -12, 0, 0), (2212, -12, 0, 0),                       # 0-2 system, beams
    (21, -21, 70, 70), (5, -21, 2, 0),                                           # 3-4 hard incoming
    (25, -22, 3, 4), (5, -23, 3, 4),                                             # 5-6 H, hard outgoing b
    (25, -44, 5, 5), (5, -44, 6, 6),                                             # 7-8 recoil copies
    (5, -51, 8, 0), (21, -51, 8, 0), (4, -51, 10, 0), (-4, -51, 10, 0),          # 9-12 b -> b g, g -> c cbar
    (5, -23, 7, 0), (-5, -23, 7, 0),                                             # 13-14 H -> b bbar
    (21, -31, 1, 0), (21, -31, 2, 0), (21, -33, 15, 16), (21, -33, 15, 16),      # 15-18 MPI
    (2, -63, 1, 0), (2101, -63, 2, 0),                                           # 19-20 beam remnants
    (5, -71, 13, 0), (-5, -71, 14, 0),                                           # 21-22 string A
    (5, -71, 9, 0), (4, -71, 11, 0), (-4, -71, 12, 0),                           # 23-25 string B
    (21, -71, 17, 0), (21, -71, 18, 0), (2, -71, 19, 0), (2101, -71, 20, 0),     # 26-29 string C
    (513, -83, 21, 22), (511, -91, 30, 0), (22, 91, 30, 0),                      # 30-32 B*0 -> B0 gamma
    (-411, -91, 31, 0), (211, 91, 31, 0),                                        # 33-34 B0 -> D- pi+
    (310, -91, 33, 0), (-211, 91, 33, 0),                                        # 35-36 D- -> K0S pi-
    (211, 91, 35, 0), (-211, 91, 35, 0),                                         # 37-38 K0S -> pi+ pi-
    (-521, -84, 21, 22), (421, -91, 39, 0), (13, 91, 39, 0), (-14, 91, 39, 0),   # 39-42 B- -> D0 mu nu
    (-321, 91, 40, 0), (211, 91, 40, 0),                                         # 43-44 D0 -> K- pi+
    (111, -83, 21, 22), (22, 91, 45, 0), (22, 91, 45, 0),                        # 45-47 pi0 -> gamma gamma
    (421, -83, 23, 25), (-321, 91, 48, 0), (211, 91, 48, 0),                     # 48-50 prompt D0
    (211, 83, 23, 25),                                                           # 51 prompt pion
    (5122, -84, 23, 25), (4122, -91, 52, 0), (-211, 91, 52, 0),                  # 52-54 Lambda_b -> Lambda_c pi
    (3122, -91, 53, 0), (211, 91, 53, 0),                                        # 55-56 Lambda_c -> Lambda pi
    (2212, 91, 55, 0), (-211, 91, 55, 0),                                        # 57-58 Lambda -> p pi
    (211, 83, 26, 29), (-211, 84, 26, 29), (2212, 83, 26, 29),                   # 59-61 underlying event
    (443, -83, 26, 29), (13, 91, 62, 0), (-13, 91, 62, 0),                       # 62-64 J/psi -> mu mu
    (413, -84, 23, 25), (421, -91, 65, 0), (211, 91, 65, 0),                     # 65-67 D*+ -> D0 pi+
    (-321, 91, 66, 0), (211, 91, 66, 0),                                         # 68-69 D0 -> K- pi+
    (21, -41, 1, 0), (21, -43, 70, 0), (21, -71, 71, 0),                         # 70-72 ISR: new incoming, emission
    (211, 83, 72, 72),                                                           # 73 hadron of the ISR gluon
    (21, -73, 10, 18), (211, 83, 74, 74),                                        # 74-75 hard + MPI gluon merged
]
#: the weakly-decaying heavy hadrons (record entries) in hadron-list order, and each one's parent b-hadron (list index)
WEAK = [31, 33, 39, 40, 48, 52, 53, 66]
PARENT = [-1, 0, -1, 2, -1, -1, 5, -1]
#: final-state entry: (origin, index into the hadron list)
EXPECTED = {
    32: (ORIGIN_PROMPT, -1), 34: (ORIGIN_B, 0), 36: (ORIGIN_B, 1), 37: (ORIGIN_B, 1), 38: (ORIGIN_B, 1),
    41: (ORIGIN_B, 2), 42: (ORIGIN_B, 2), 43: (ORIGIN_B, 3), 44: (ORIGIN_B, 3), 46: (ORIGIN_PROMPT, -1),
    47: (ORIGIN_PROMPT, -1), 49: (ORIGIN_C, 4), 50: (ORIGIN_C, 4), 51: (ORIGIN_PROMPT, -1), 54: (ORIGIN_B, 5),
    56: (ORIGIN_B, 6), 57: (ORIGIN_B, 6), 58: (ORIGIN_B, 6), 59: (ORIGIN_SOFT, -1), 60: (ORIGIN_SOFT, -1),
    61: (ORIGIN_SOFT, -1), 63: (ORIGIN_SOFT, -1), 64: (ORIGIN_SOFT, -1), 67: (ORIGIN_PROMPT, -1),
    68: (ORIGIN_C, 7), 69: (ORIGIN_C, 7), 73: (ORIGIN_PROMPT, -1), 75: (ORIGIN_PROMPT, -1),
}
#: parton-level entries of the hardest interaction (the rest of 3-29 and 70-74 are MPI or beam remnants)
HARD = [*range(3, 15), *range(21, 26), 70, 71, 72, 74]
PN_EVENTS = 30  # Pythia events per process in the shard tests


def hand_made_record(kinematics: np.ndarray) -> record.EventRecord:
    """The hand-made event as an `EventRecord`, kinematics and charges read from the given per-entry table."""
    pdgid, status, mother1, mother2 = (np.array(c) for c in zip(*HAND_MADE_RECORD, strict=True))
    positive, negative = np.isin(pdgid, (211, 2212, 4122, -13)), np.isin(pdgid, (-211, -321, 13))
    charge = np.where(positive, 1.0, np.where(negative, -1.0, 0.0))

    def read(rows: np.ndarray, heavy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return kinematics[rows], charge[rows]

    return record.make_record(pdgid, status, mother1, mother2, read)


def test_hadron_flavour_of_pdg_ids():
    ids = np.array([511, -521, 5122, 541, 421, -4122, 10411, 443, 553, 100443, 211, 310, 3122, 5, -4, 5101, 21, 25])
    expected = [5, 5, 5, 5, 4, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert record.hadron_flavour(ids).tolist() == expected


def test_nearest_marked_ancestor_follows_long_chains():
    parent = np.array([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, -1, 10])  # a chain of ten and a chain of two
    marked = np.zeros(12, dtype=bool)
    marked[[2, 6, 10]] = True
    assert record.nearest_marked_ancestor(parent, marked).tolist() == [-1, -1, -1, 2, 2, 2, 2, 6, 6, 6, -1, 10]


def test_hardest_interaction_is_separated_from_mpi_and_remnants():
    pdgid, status, mother1, mother2 = (np.array(c) for c in zip(*HAND_MADE_RECORD, strict=True))
    m1, m2 = record.concatenate_mothers([mother1]), record.concatenate_mothers([mother2])
    hard = record.hard_interaction(status, m1, m2, seeds=np.array([record.HARD_INCOMING]))
    assert np.flatnonzero(hard).tolist() == HARD


def test_hand_made_record_gives_origin_hadron_index_and_parent():
    rng = np.random.default_rng(0)
    kinematics = rng.normal(size=(len(HAND_MADE_RECORD), record.N_KINEMATICS))
    kinematics[:, 3] = 50.0 + np.abs(kinematics[:, 3])  # energies above the momenta
    rec = hand_made_record(kinematics)
    pv = np.array([[0.01, -0.02, 3.0]])
    gen = record.build_events([rec], pv, process_id=1)

    final = [i for i, row in enumerate(HAND_MADE_RECORD) if row[1] > 0]
    assert sorted(EXPECTED) == final
    p = gen.particles
    assert p.counts.tolist() == [len(final)]
    assert p.origin.tolist() == [EXPECTED[i][0] for i in final]
    assert p.hadron_index.tolist() == [EXPECTED[i][1] for i in final]
    assert p.pdgid.tolist() == [HAND_MADE_RECORD[i][0] for i in final]
    np.testing.assert_allclose(p.vx, kinematics[final, 5] + pv[0, 0])
    np.testing.assert_allclose(p.vz, kinematics[final, 7] + pv[0, 2])
    np.testing.assert_allclose(p.e, kinematics[final, 3])

    h = gen.hadrons
    assert gen.hadron_counts.tolist() == [len(WEAK)]
    assert h["pdgid"].tolist() == [HAND_MADE_RECORD[i][0] for i in WEAK]
    assert h["flavour"].tolist() == [5, 4, 5, 4, 4, 5, 4, 4]
    assert h["parent"].tolist() == PARENT
    np.testing.assert_allclose(h["decay_y"], kinematics[WEAK, 9] + pv[0, 1])
    np.testing.assert_allclose(h["m"], kinematics[WEAK, 4])

    # truth partons: the H's last copy, its two b quarks, the hard b's last copy, the g -> c cbar pair
    assert gen.parton_counts.tolist() == [6]
    assert rec.truth.tolist() == [7, 13, 14, 8, 11, 12]
    assert gen.partons["role"].tolist() == [ROLE_HIGGS, ROLE_HIGGS_B, ROLE_HIGGS_B, ROLE_HARD, ROLE_SPLITTING,
                                            ROLE_SPLITTING]
    assert gen.partons["pdgid"].tolist() == [25, 5, -5, 5, 4, -4]


def test_records_concatenate_with_local_indices_per_event():
    kinematics = np.ones((len(HAND_MADE_RECORD), record.N_KINEMATICS))
    one = hand_made_record(kinematics)
    gen = record.build_events([one, one, one], np.zeros((3, 3)), process_id=1)
    assert gen.hadron_counts.tolist() == [len(WEAK)] * 3
    assert gen.hadrons["parent"].tolist() == PARENT * 3
    per_event = [EXPECTED[i][1] for i in sorted(EXPECTED)]
    assert gen.particles.hadron_index.tolist() == per_event * 3


# --- Pythia 8 -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pythia_config():
    pytest.importorskip("pythia8mc")
    config = load_config(REPO_ROOT / "config" / "pythia.yaml")
    assert config["generation"]["backend"] == "pythia8"
    return config


@pytest.fixture(scope="module")
def pythia_shards(pythia_config, tmp_path_factory):
    from autopruner.detector.shards import generate_shard

    out = tmp_path_factory.mktemp("pythia_events")
    paths = {}
    for name, process, shard in (("hbb", "hbb", "shard000"), ("hbb_again", "hbb", "shard000"),
                                 ("qcd", "qcd", "shard000")):
        paths[name] = out / f"{name}.root"
        generate_shard(pythia_config, process, shard, paths[name], n_events=PN_EVENTS)
    return paths


def test_pythia_settings_come_from_the_config(pythia_config):
    from autopruner.generation.pythia import pythia_settings

    settings = pythia_settings(pythia_config, "hbb", 1234)
    gen = pythia_config["generation"]
    assert settings[0].startswith("Tune:pp")
    assert "Random:seed = 1234" in settings and "HiggsSM:qg2Hq = on" in settings and "25:onIfMatch = 5 -5" in settings
    assert f"PhaseSpace:pTHatMin = {float(gen['pt_min_gev'])!r}" in settings
    assert f"Beams:eCM = {float(gen['sqrt_s_gev'])!r}" in settings
    assert "HardQCD:all = on" in pythia_settings(pythia_config, "qcd", 1)


def test_pythia_shard_is_reproducible_byte_for_byte(pythia_shards):
    assert pythia_shards["hbb"].read_bytes() == pythia_shards["hbb_again"].read_bytes()


def test_pythia_shard_stores_its_generator_and_b_initiated_signal(pythia_shards):
    import awkward as ak

    from autopruner.event_io import read_events, read_generator_config

    stored = read_generator_config(pythia_shards["hbb"])
    assert stored["backend"] == "pythia8" and stored["generator"]["backend"] == "pythia8"
    assert 1 <= stored["generator"]["pythia_seed"] <= 900_000_000
    assert stored["generator"]["events_accepted"] == PN_EVENTS <= stored["generator"]["events_generated"]
    qcd_seed = read_generator_config(pythia_shards["qcd"])["generator"]["pythia_seed"]
    assert qcd_seed != stored["generator"]["pythia_seed"]
    ev = read_events(pythia_shards["hbb"])
    assert len(ev) == PN_EVENTS
    assert ak.all(ak.sum(ev.parton_role == ROLE_HIGGS, axis=1) == 1)
    assert ak.all(ak.sum(ev.parton_role == ROLE_HIGGS_B, axis=1) == 2)
    hard = ev.parton_pdgid[ev.parton_role == ROLE_HARD]
    assert ak.all(ak.num(hard) == 1) and ak.all(abs(ak.flatten(hard)) == 5)  # b g -> H b only
    higgs_m = ak.flatten(ev.parton_m[ev.parton_role == ROLE_HIGGS]).to_numpy()
    np.testing.assert_allclose(higgs_m, 125.1, atol=0.5)
    # every signal event has weakly-decaying b-hadrons, tracks point into the event's hadron list
    assert ak.all(ak.sum(ev.hadron_flavour == 5, axis=1) >= 2)
    assert ak.all(ev.track_hadron_index < ak.num(ev.hadron_pt)[:, None])
    assert ak.all((ev.track_origin <= 2) | (ev.track_hadron_index == -1))
    assert ak.sum(ev.track_origin == ORIGIN_B) > 0 and ak.sum(ev.track_origin == ORIGIN_SOFT) > 0


def test_pythia_shard_holds_the_generated_events(pythia_config, pythia_shards):
    import awkward as ak

    from autopruner import seeding
    from autopruner.event_io import read_events
    from autopruner.generation import pythia

    gen_rng, _ = seeding.stream(pythia_config["seed"], "qcd", "analysis", 0).spawn(2)
    gen = pythia.generate_events(pythia_config, "qcd", PN_EVENTS, gen_rng)
    ev = read_events(pythia_shards["qcd"])
    np.testing.assert_array_equal(ev.pv_z.to_numpy(), gen.particles.pv[:, 2].astype(np.float32))
    np.testing.assert_array_equal(ak.num(ev.hadron_pt).to_numpy(), gen.hadron_counts)
    np.testing.assert_array_equal(ak.flatten(ev.hadron_pdgid).to_numpy(), gen.hadrons["pdgid"])
    np.testing.assert_array_equal(ak.flatten(ev.hadron_decay_x).to_numpy(), gen.hadrons["decay_x"].astype(np.float32))
    np.testing.assert_array_equal(ak.flatten(ev.parton_pt).to_numpy(), gen.partons["pt"].astype(np.float32))
    np.testing.assert_array_equal(ak.flatten(ev.parton_role).to_numpy(), gen.partons["role"])
    assert np.all(ev.process_id == 0)


def test_pythia_events_have_displaced_v0_decay_products(pythia_config):
    from autopruner.generation import pythia

    py = pythia.make_pythia(pythia.pythia_settings(pythia_config, "qcd", 4321))
    radii = []
    for _ in range(10):
        pythia.next_accepted(py, lambda event: True)
        event = py.event
        for i in range(event.size()):
            p = event[i]
            if p.isFinal() and abs(event[p.mother1()].id()) in (310, 3122):
                radii.append(np.hypot(p.xProd(), p.yProd()))
    radii = np.array(radii)
    assert radii.size >= 10 and np.all(radii > 0) and np.median(radii) > 1.0  # mm: K0S c tau = 27 mm


def test_pythia_shards_reconstruct(pythia_config, pythia_shards, tmp_path):
    import awkward as ak

    from autopruner.event_io import read_events
    from autopruner.reconstruction import features
    from autopruner.schema import FEATURE_NAMES

    reco_cfg = pythia_config["reconstruction"]
    templates = features.fit_ip_templates([pythia_shards["hbb"], pythia_shards["qcd"]], reco_cfg)
    templates_path = tmp_path / "ip_templates.npz"
    templates.save(templates_path)
    for name in ("hbb", "qcd"):
        candidates, cutflow = features.reconstruct_shard(pythia_shards[name], templates_path, reco_cfg)
        assert cutflow["events"] == PN_EVENTS
        assert cutflow["candidates"] == candidates["label"].size > 0
        for feature in FEATURE_NAMES:
            assert np.all(np.isfinite(candidates[feature])), feature
    signal = features.reconstruct_shard(pythia_shards["hbb"], templates_path, reco_cfg)[0]
    assert np.median(signal["fj_mass"][signal["label"] == 1]) > 80.0  # the H jet's mass peak
    # displaced light-hadron decays (K0S, Lambda) reach the tracker: large |d0| among non-heavy-flavour tracks
    ev = read_events(pythia_shards["qcd"])
    light = ak.flatten(ev.track_d0[(ev.track_origin == ORIGIN_PROMPT) | (ev.track_origin == ORIGIN_SOFT)])
    assert np.sum(np.abs(light.to_numpy()) > 2.0) > 0


def _record_bytes(rec: record.EventRecord) -> list[bytes]:
    return [getattr(rec, name).tobytes() for name in ("pdgid", "status", "mother1", "mother2", "read", "kinematics",
                                                      "charge", "truth", "roles")]


def test_batch_records_equal_the_record_walk_bit_for_bit(pythia_config):
    """`records_of_batch` on ``nextBatch``'s array gives, entry for entry and bit for bit, the records `read_event`
    reads from ``pythia.event`` one pybind call at a time (NaN where a column is not read included)."""
    from autopruner.generation import pythia

    settings = pythia.pythia_settings(pythia_config, "hbb", 2468)
    walker, batcher = pythia.make_pythia(settings), pythia.make_pythia(settings)
    charges = pythia.ChargeTable(walker.particleData)
    walked = []
    for _ in range(12):
        pythia.next_accepted(walker, lambda event: True)
        walked.append(pythia.read_event(walker.event, charges))
    batched = pythia.records_of_batch(pythia.next_batch(batcher, 12), pythia.ChargeTable(batcher.particleData))
    assert len(batched) == 12
    heavy_rows = 0
    for one, other in zip(walked, batched, strict=True):
        assert _record_bytes(one) == _record_bytes(other)
        heavy_rows += int(np.sum(np.isfinite(one.kinematics[:, record.KINEMATICS.index("x_decay")])))
    assert heavy_rows > 12  # decay vertices were compared, not only NaN


def test_batched_backend_generates_the_events_of_one_next_at_a_time(pythia_config, monkeypatch):
    """The backend asks ``nextBatch`` for no more events than it still needs, so with b g -> H b selected out of the
    batches and chunks of 7 events it holds the events, the count of generated events and the cross section that
    one ``next()`` at a time gives."""
    from autopruner import seeding
    from autopruner.generation import pythia
    from autopruner.generation.events import PROCESS_ID, concatenate_events

    monkeypatch.setattr(pythia, "CHUNK_EVENTS", 7)
    n = 17
    gen_rng, _ = seeding.stream(pythia_config["seed"], "hbb", "analysis", 3).spawn(2)
    batched = pythia.generate_events(pythia_config, "hbb", n, gen_rng)

    gen_rng, _ = seeding.stream(pythia_config["seed"], "hbb", "analysis", 3).spawn(2)
    seed = pythia.pythia_seed(gen_rng)
    pv_mm = pythia.primary_vertices(gen_rng, n, pythia_config["detector"])
    walker = pythia.make_pythia(pythia.pythia_settings(pythia_config, "hbb", seed))
    charges = pythia.ChargeTable(walker.particleData)
    tried, records = 0, []
    for _ in range(n):
        tried += pythia.next_accepted(walker, pythia.is_b_initiated)
        records.append(pythia.read_event(walker.event, charges))
    walked = concatenate_events([pythia.build_events(records, pv_mm, PROCESS_ID["hbb"])])

    assert batched.generator["events_generated"] == tried > n  # c g -> H c events were generated and dropped
    assert batched.generator["sigma_gen_mb"] == walker.infoPython().sigmaGen()
    for name in ("px", "e", "vx", "vz", "pdgid", "charge", "origin", "hadron_index", "counts", "pv"):
        assert getattr(batched.particles, name).tobytes() == getattr(walked.particles, name).tobytes(), name
    for group in ("partons", "hadrons"):
        for name, values in getattr(walked, group).items():
            assert getattr(batched, group)[name].tobytes() == values.tobytes(), (group, name)
