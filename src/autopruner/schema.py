"""The file contracts every stage shares: tree names, event and candidate branch layouts, the 39 feature names.

These names live in the core so that later stages (dataset, training, evaluation, firmware) learn the feature list
without importing the reconstruction, and the generator backends write exactly the branches the reconstruction reads.
docs/design.md describes each branch.
"""

from __future__ import annotations

import numpy as np

#: event files (stage generate)
EVENTS_TREE = "events"
GENERATOR_CONFIG_NAME = "generator_config"
TRACK_FIELDS = ("pt", "eta", "phi", "charge", "d0", "z0", "d0_err", "z0_err", "pdgid", "origin", "hadron_index", "e")
TOWER_FIELDS = ("e", "pt", "eta", "phi", "e_em", "e_had")
PARTON_FIELDS: dict[str, type] = {
    "pt": np.float32, "eta": np.float32, "phi": np.float32, "m": np.float32, "pdgid": np.int32, "role": np.int8,
}
HADRON_FIELDS: dict[str, type] = {
    "pt": np.float32, "eta": np.float32, "phi": np.float32, "m": np.float32, "pdgid": np.int32,
    "flavour": np.int8, "parent": np.int32, "prod_x": np.float32, "prod_y": np.float32, "prod_z": np.float32,
    "decay_x": np.float32, "decay_y": np.float32, "decay_z": np.float32,
}
#: parton roles: hard outgoing parton, the Higgs boson, a b quark from the Higgs decay, a g -> Q Qbar quark
ROLE_HARD, ROLE_HIGGS, ROLE_HIGGS_B, ROLE_SPLITTING = 0, 1, 2, 3
#: heavy-hadron flavour codes and the process id of the signal
FLAVOUR_B, FLAVOUR_C, SIGNAL_PROCESS_ID = 5, 4, 1

#: candidate files and the dataset (stage reconstruct, dataset)
CANDIDATES_TREE = "candidates"
TRACK_JET_FEATURES = ("pt_frac", "dr_fj", "mass", "n_tracks", "ip2d_llr", "ip3d_llr", "sd0_1", "sd0_2",
                      "sd0_3", "sv_mass", "sv_efrac", "sv_lxy_sig")
FEATURE_NAMES: tuple[str, ...] = (
    "fj_pt", "fj_eta", "fj_mass", "fj_tau21", "fj_tau32", "fj_c2", "fj_d2", "fj_split12", "fj_split23",
    "fj_zcut12", "fj_n_constituents", "fj_n_tracks", "fj_n_trackjets", "tj_dr12", "tj_mass12",
    *(f"tj{k}_{name}" for k in (1, 2) for name in TRACK_JET_FEATURES),
)
#: the non-feature branches of the candidates tree and their types
EXTRA_BRANCHES: dict[str, type] = {
    "label": np.int8, "event_id": np.uint64, "process_id": np.int32, "weight": np.float64,
    "n_b_hadrons": np.int32, "higgs_matched": np.bool_, "tj1_flavour": np.int8, "tj2_flavour": np.int8,
}
CUTFLOW_STEPS = ("events", "fj_pt", "fj_eta", "fj_mass", "two_track_jets", "higgs_matched", "candidates")
#: the dataset's split column: code of each split
SPLIT_CODES = {"train": 0, "validation": 1, "test": 2}
