"""Event generator: orchestrates hard process, shower, hadronization, decays and underlying event for a shard.

`generate_events` returns the generic particle table (`autopruner.particles.ParticleTable`) that the detector consumes,
plus the truth partons and heavy hadrons. The event loop is one numba kernel; all randomness comes from the numpy
Generator passed in.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from autopruner.arrays import grown_capacity
from autopruner.fast_random import require_pcg64, uniform
from autopruner.generation.decays import (
    N_HEAVY_COLS,
    N_PARTICLE_COLS,
    PCHARGE,
    PE,
    PHADRON,
    PORIGIN,
    PPDG,
    PPX,
    PPY,
    PPZ,
    PVX,
    PVY,
    PVZ,
    XCHARGE,
    XFLAV,
    XM,
    XPARENT,
    XPDG,
    XPRODX,
    XPRODY,
    XPRODZ,
    XQSIGN,
    DecayParams,
    add_final,
    decay_heavy_hadrons,
    decay_params,
)
from autopruner.generation.events import PROCESS_ID, GeneratedEvents, check_process, four_vector_dict
from autopruner.generation.hadronization import (
    HCHARGE,
    HE,
    HFLAV,
    HM,
    HPDG,
    HPX,
    HPY,
    HPZ,
    HQSIGN,
    N_HADRON_COLS,
    HadronizationParams,
    conserve_momentum,
    fragment,
    hadronization_params,
    light_hadron,
    preconfine,
)
from autopruner.generation.hard_process import (
    MAX_ISR_EMISSIONS,
    MAX_SEEDS,
    N_TRUTH_COLS,
    HardParams,
    hard_params,
    higgs_event,
    qcd_event,
)
from autopruner.generation.shower import (
    N_COLS,
    N_FINAL_COLS,
    ShowerParams,
    shower_into,
    shower_params,
    shower_scratch,
    strictly_ordered,
)
from autopruner.jit import njit_hot, njit_no_refcount
from autopruner.kinematics import boost
from autopruner.particles import ORIGIN_PROMPT, ORIGIN_SOFT, ParticleTable

UE_PT_MEAN_GEV = 0.6  # underlying-event particles: pT ~ Exp(mean), uniform in |eta| < UE_ETA_MAX
UE_ETA_MAX = 5.0
# A group of showers is rescaled to its seeds once their mass exceeds GROUP_MASS_FACTOR * (sum of the hadron
# masses) + GROUP_MASS_MARGIN_GEV, so that the hadrons keep momentum to share.
GROUP_MASS_FACTOR = 1.05
GROUP_MASS_MARGIN_GEV = 0.5
N_SINGLET_SIGNAL = 2  # the b and b-bar from H -> b bbar: a colour singlet
# What of the H -> b bbar singlet happens in its rest frame (config generation.hadronization.fragmentation_frame).
SINGLET_NONE, SINGLET_FRAGMENTATION, SINGLET_REST_FRAME = 0, 1, 2
SINGLET_MODES = {"lab": SINGLET_NONE, "singlet": SINGLET_FRAGMENTATION, "rest_frame": SINGLET_REST_FRAME}


class EventParams(NamedTuple):
    """Event-level settings: primary-vertex spread and underlying event."""

    beam_spot_xy_mm: float
    beam_spot_z_mm: float
    ue_mean_particles: float
    singlet_mode: int  # SINGLET_NONE, SINGLET_FRAGMENTATION or SINGLET_REST_FRAME for H -> b bbar


class ParticleColumns(NamedTuple):
    """The generated particles as typed columns (what `ParticleTable` holds), filled event by event in the kernel.

    ``kin`` has one contiguous row per float field (`KIN_FIELDS`); the integer fields are stored in their final
    types, so that nothing is converted, or copied, after the event loop.
    """

    kin: np.ndarray
    pdgid: np.ndarray
    charge: np.ndarray
    origin: np.ndarray
    hadron_index: np.ndarray


#: float rows of `ParticleColumns.kin` and the particle-record columns they come from
KIN_FIELDS = ("px", "py", "pz", "e", "vx", "vy", "vz")
KIN_COLUMNS = (PPX, PPY, PPZ, PE, PVX, PVY, PVZ)
# Room reserved per event for the particle columns: above the ~620-635 of the tuned toy (Pythia 8: ~540). The
# columns are reserved, not written, up front, so the margin costs address space only; a shard that needs more
# is grown once, to what its events so far project (`_reserve`).
PARTICLES_PER_EVENT_RESERVED = 720


@njit_hot
def _particle_columns(capacity):
    """Empty `ParticleColumns` with room for `capacity` particles."""
    return ParticleColumns(
        np.empty((len(KIN_COLUMNS), capacity)),
        np.empty(capacity, dtype=np.int32),
        np.empty(capacity, dtype=np.int8),
        np.empty(capacity, dtype=np.int8),
        np.empty(capacity, dtype=np.int32),
    )


@njit_hot
def _reserve(cols, n_used, need, events_done, n_events):
    """`cols`, or a copy of its first n_used particles with room for `need`, or for the n_events that the mean of the
    events_done so far projects if that is more (one copy per shard, however the multiplicity was guessed)."""
    capacity = cols.pdgid.shape[0]
    if need <= capacity:
        return cols
    new = _particle_columns(grown_capacity(capacity, need, events_done, n_events))
    new.kin[:, :n_used] = cols.kin[:, :n_used]
    new.pdgid[:n_used] = cols.pdgid[:n_used]
    new.charge[:n_used] = cols.charge[:n_used]
    new.origin[:n_used] = cols.origin[:n_used]
    new.hadron_index[:n_used] = cols.hadron_index[:n_used]
    return new


@njit_no_refcount
def _store_particles(cols, start, part, n_part):
    """Copy one event's particle records part[:n_part] into the columns from `start` on (C casts for the integers,
    as numpy's astype); returns whether every stored momentum, energy and vertex coordinate is finite (the compiled
    generator divides under numpy's error model, `autopruner.jit`, so a division by zero would give inf or nan)."""
    finite = True
    for j in range(n_part):
        k = start + j
        for r in range(len(KIN_COLUMNS)):
            value = part[j, KIN_COLUMNS[r]]
            cols.kin[r, k] = value
            if not math.isfinite(value):
                finite = False
        cols.pdgid[k] = np.int32(part[j, PPDG])
        cols.charge[k] = np.int8(part[j, PCHARGE])
        cols.origin[k] = np.int8(part[j, PORIGIN])
        cols.hadron_index[k] = np.int32(part[j, PHADRON])
    return finite


@njit_hot
def _grow(buf, need):
    """Return `buf`, or a copy with at least `need` rows (doubling) if it is too small."""
    if need <= buf.shape[0]:
        return buf
    new = np.empty((max(need, 2 * buf.shape[0]), buf.shape[1]))
    new[: buf.shape[0]] = buf
    return new


@njit_hot
def _underlying_event(rng, ev_p, had_p, out, n, pvx, pvy, pvz):
    """Soft particles from the underlying event (origin 3): Poisson count, exponential pT, flat eta."""
    for _ in range(rng.poisson(ev_p.ue_mean_particles)):
        pdg, q, m = light_hadron(rng, had_p.charged_fraction, had_p.vector_meson_fraction)
        pt = rng.exponential(UE_PT_MEAN_GEV) + 0.05
        eta = UE_ETA_MAX * (2.0 * uniform(rng) - 1.0)
        phi = 2.0 * math.pi * uniform(rng) - math.pi
        px, py, pz = pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(eta)
        e = math.sqrt(px * px + py * py + pz * pz + m * m)
        n = add_final(rng, out, n, px, py, pz, e, pdg, q, pvx, pvy, pvz, ORIGIN_SOFT, -1)
    return n


@njit_hot
def _reachable(prim, h0, h1, tx, ty, tz, te, factor, margin):
    """Whether hadrons prim[h0:h1] can be boosted and rescaled to the four-vector t: there are at least two of
    them and its mass exceeds `factor` times the sum of theirs plus `margin` [GeV].

    A lone hadron is never reachable: in its own rest frame it has no momentum to rescale, so it cannot take
    on the target's mass (`conserve_momentum` would divide by a zero derivative).
    """
    if h1 - h0 < 2:
        return False
    m_sum = 0.0
    for i in range(h0, h1):
        m_sum += prim[i, HM]
    m2 = te * te - tx * tx - ty * ty - tz * tz
    return m2 > 0.0 and math.sqrt(m2) > factor * m_sum + margin


@njit_hot
def _fits(prim, h0, h1, tx, ty, tz, te):
    """Whether hadrons prim[h0:h1] close a group: reachable, with the target mass above theirs by a
    margin."""
    return _reachable(prim, h0, h1, tx, ty, tz, te, GROUP_MASS_FACTOR, GROUP_MASS_MARGIN_GEV)


@njit_no_refcount
def fragment_in_frame(rng, fin, f0, f1, had_p, prim, n_prim, bx, by, bz):
    """Fragment final partons fin[f0:f1] in the frame moving with velocity (bx, by, bz); returns the hadron count.

    Each parton is boosted into that frame, fragmented there, and its hadrons are boosted back to the lab.
    """
    for j in range(f0, f1):
        qx, qy, qz, qe = boost(fin[j, 0], fin[j, 1], fin[j, 2], fin[j, 3], -bx, -by, -bz)
        n0 = n_prim
        n_prim = fragment(rng, qx, qy, qz, qe, int(fin[j, 4]), had_p, prim, n_prim)
        boost_hadrons(prim, n0, n_prim, bx, by, bz)
    return n_prim


@njit_no_refcount
def boost_hadrons(prim, h0, h1, bx, by, bz):
    """Boost hadrons prim[h0:h1] by velocity (bx, by, bz), in place."""
    for i in range(h0, h1):
        lx, ly, lz, le = boost(prim[i, HPX], prim[i, HPY], prim[i, HPZ], prim[i, HE], bx, by, bz)
        prim[i, HPX], prim[i, HPY], prim[i, HPZ], prim[i, HE] = lx, ly, lz, le


@njit_hot
def hadronize_seeds(rng, seeds, n_seeds, n_singlet, mode, bx, by, bz, sp, singlet_sp, had_p, fin, prim):
    """Shower and fragment seeds[:n_seeds] into primary hadrons prim[:n]; returns n.

    The first `n_singlet` seeds form a colour singlet (the b and b-bar of H -> b bbar) moving with velocity
    (bx, by, bz); they shower with `singlet_sp`, the others with `sp`. `mode` says what happens in the singlet's rest
    frame:
    - SINGLET_REST_FRAME: the seeds are given in that frame (`higgs_event` with `decay_in_rest_frame`); they shower
      and fragment there, and their hadrons are made to sum to the singlet's four-momentum there before being
      boosted to the lab. The singlet radiates and hadronizes as one object, as Pythia's dipole shower and string
      do for a resonance decay: the number of soft hadrons grows with the singlet's mass, not with its boost.
    - SINGLET_FRAGMENTATION: the seeds are in the lab frame and shower there; only their partons fragment in the
      rest frame (where Field and Feynman defined independent fragmentation for e+e-).
    - SINGLET_NONE (or n_singlet = 0): every seed showers and fragments in the lab frame.

    Consecutive showers form a group until their hadrons fit the summed four-momentum of their seeds
    (`_fits`); each group is then boosted and rescaled to that sum. Hadrons of trailing showers that close no
    group join the previous group, or, where there is none or it cannot reach the joint four-momentum, the
    whole event. The hadrons then sum exactly to the seeds unless even the whole event cannot be reached.
    """
    stack, row = shower_scratch(sp)
    n_fin = 0
    n_prim = 0
    g_start = 0  # first hadron of the group of showers whose four-momentum is being collected
    gx = gy = gz = ge = 0.0
    prev_start = -1  # last group already made to conserve four-momentum
    px_ = py_ = pz_ = pe_ = 0.0
    ax = ay = az = ae = 0.0  # all seeds of the event
    s0 = 0
    if mode == SINGLET_REST_FRAME and n_singlet > 0:
        n_fin, n_prim = _hadronize_group(rng, seeds, 0, n_singlet, singlet_sp, had_p, fin, prim, n_fin, stack, row)
        boost_hadrons(prim, 0, n_prim, bx, by, bz)
        for s in range(n_singlet):
            lx, ly, lz, le = boost(seeds[s, 0], seeds[s, 1], seeds[s, 2], seeds[s, 3], bx, by, bz)
            px_, py_, pz_, pe_ = px_ + lx, py_ + ly, pz_ + lz, pe_ + le
        prev_start, g_start, s0 = 0, n_prim, n_singlet
        ax, ay, az, ae = px_, py_, pz_, pe_
    for s in range(s0, n_seeds):
        f0 = n_fin
        seed_sp = singlet_sp if s < n_singlet else sp
        n_fin = preconfine(fin, f0, shower_into(rng, seeds[s], seed_sp, fin, n_fin, stack, row), had_p.cluster_mass_gev)
        if s < n_singlet and mode == SINGLET_FRAGMENTATION:
            n_prim = fragment_in_frame(rng, fin, f0, n_fin, had_p, prim, n_prim, bx, by, bz)
        else:
            n_prim = fragment_in_frame(rng, fin, f0, n_fin, had_p, prim, n_prim, 0.0, 0.0, 0.0)
        gx += seeds[s, 0]
        gy += seeds[s, 1]
        gz += seeds[s, 2]
        ge += seeds[s, 3]
        ax += seeds[s, 0]
        ay += seeds[s, 1]
        az += seeds[s, 2]
        ae += seeds[s, 3]
        if _fits(prim, g_start, n_prim, gx, gy, gz, ge):
            conserve_momentum(prim, g_start, n_prim, gx, gy, gz, ge)
            prev_start, px_, py_, pz_, pe_ = g_start, gx, gy, gz, ge
            g_start = n_prim
            gx = gy = gz = ge = 0.0
    if n_prim > g_start:  # hadrons of trailing showers that closed no group
        px_, py_, pz_, pe_ = px_ + gx, py_ + gy, pz_ + gz, pe_ + ge
        if prev_start >= 0 and _reachable(prim, prev_start, n_prim, px_, py_, pz_, pe_, 1.0, 0.0):
            conserve_momentum(prim, prev_start, n_prim, px_, py_, pz_, pe_)  # join the previous group
        elif _reachable(prim, 0, n_prim, ax, ay, az, ae, 1.0, 0.0):
            conserve_momentum(prim, 0, n_prim, ax, ay, az, ae)  # or the whole event
    return n_prim


@njit_hot
def _hadronize_group(rng, seeds, s0, s1, sp, had_p, fin, prim, n_fin, stack, row):
    """Shower and fragment seeds[s0:s1] in their own frame and make their hadrons sum to the seeds' four-momentum
    there: seed by seed where a seed's hadrons can reach it, else together; returns (n_fin, n_prim).

    Hadrons are written from prim[0]; a group that cannot reach its four-momentum at all is left as fragmented.
    """
    n_prim = 0
    g_start = 0
    gx = gy = gz = ge = 0.0
    tx = ty = tz = te = 0.0
    for s in range(s0, s1):
        f0 = n_fin
        n_fin = preconfine(fin, f0, shower_into(rng, seeds[s], sp, fin, n_fin, stack, row), had_p.cluster_mass_gev)
        n_prim = fragment_in_frame(rng, fin, f0, n_fin, had_p, prim, n_prim, 0.0, 0.0, 0.0)
        gx, gy, gz, ge = gx + seeds[s, 0], gy + seeds[s, 1], gz + seeds[s, 2], ge + seeds[s, 3]
        tx, ty, tz, te = tx + seeds[s, 0], ty + seeds[s, 1], tz + seeds[s, 2], te + seeds[s, 3]
        if _fits(prim, g_start, n_prim, gx, gy, gz, ge):
            conserve_momentum(prim, g_start, n_prim, gx, gy, gz, ge)
            g_start = n_prim
            gx = gy = gz = ge = 0.0
    if n_prim > g_start and _reachable(prim, 0, n_prim, tx, ty, tz, te, 1.0, 0.0):
        conserve_momentum(prim, 0, n_prim, tx, ty, tz, te)
    return n_fin, n_prim


@njit_hot
def _one_event(rng, is_signal, hp, sp, had_p, dec_p, ev_p, seeds, kicks, truth, fin, prim, heavy, part):
    """Generate one event into the scratch buffers; returns (n_truth, n_heavy, n_particles, pv x, y, z)."""
    pvx = rng.normal(0.0, ev_p.beam_spot_xy_mm)
    pvy = rng.normal(0.0, ev_p.beam_spot_xy_mm)
    pvz = rng.normal(0.0, ev_p.beam_spot_z_mm)
    # the H -> b bbar colour singlet showers strictly angular-ordered, unless it is treated as two independent partons
    singlet_sp = sp if ev_p.singlet_mode == SINGLET_NONE else strictly_ordered(sp)
    if is_signal:
        n_seeds, n_truth = higgs_event(rng, hp, sp, singlet_sp, seeds, truth, kicks,
                                       ev_p.singlet_mode == SINGLET_REST_FRAME)
    else:
        n_seeds, n_truth = qcd_event(rng, hp, sp, seeds, truth, kicks)
    n_singlet = N_SINGLET_SIGNAL if is_signal and ev_p.singlet_mode != SINGLET_NONE else 0
    bx = by = bz = 0.0
    if is_signal:  # the Higgs velocity (truth row 0)
        bx, by, bz = truth[0, 0] / truth[0, 3], truth[0, 1] / truth[0, 3], truth[0, 2] / truth[0, 3]
    n_prim = hadronize_seeds(rng, seeds, n_seeds, n_singlet, ev_p.singlet_mode, bx, by, bz, sp, singlet_sp, had_p, fin,
                             prim)
    n_heavy = 0
    n_part = 0
    for j in range(n_prim):
        if prim[j, HFLAV] > 0:
            heavy[n_heavy, :] = 0.0
            heavy[n_heavy, 0:4] = prim[j, HPX : HE + 1]
            heavy[n_heavy, XM] = prim[j, HM]
            heavy[n_heavy, XPDG] = prim[j, HPDG]
            heavy[n_heavy, XCHARGE] = prim[j, HCHARGE]
            heavy[n_heavy, XFLAV] = prim[j, HFLAV]
            heavy[n_heavy, XQSIGN] = prim[j, HQSIGN]
            heavy[n_heavy, XPARENT] = -1
            heavy[n_heavy, XPRODX], heavy[n_heavy, XPRODY], heavy[n_heavy, XPRODZ] = pvx, pvy, pvz
            n_heavy += 1
        else:
            n_part = add_final(
                rng,
                part,
                n_part,
                prim[j, HPX],
                prim[j, HPY],
                prim[j, HPZ],
                prim[j, HE],
                prim[j, HPDG],
                prim[j, HCHARGE],
                pvx,
                pvy,
                pvz,
                ORIGIN_PROMPT,
                -1,
            )
    n_heavy, n_part = decay_heavy_hadrons(rng, heavy, n_heavy, dec_p, part, n_part)
    n_part = _underlying_event(rng, ev_p, had_p, part, n_part, pvx, pvy, pvz)
    return n_truth, n_heavy, n_part, pvx, pvy, pvz


@njit_hot
def generate_kernel(rng, n_events, is_signal, hp, sp, had_p, dec_p, ev_p):
    """Generate n_events; returns typed particle columns, truth-parton and heavy-hadron arrays with per-event
    counts, and the primary vertices."""
    seeds = np.empty((MAX_SEEDS, N_COLS))
    kicks = np.empty((MAX_ISR_EMISSIONS, 3))
    truth = np.empty((16, N_TRUTH_COLS))
    fin = np.empty((MAX_SEEDS * (int(sp.max_emissions) + 1) + 16, N_FINAL_COLS))
    prim = np.empty((8192, N_HADRON_COLS))
    heavy = np.empty((256, N_HEAVY_COLS))
    part = np.empty((16384, N_PARTICLE_COLS))
    cols = _particle_columns(n_events * PARTICLES_PER_EVENT_RESERVED + 1024)
    all_truth = np.empty((n_events * 6 + 16, N_TRUTH_COLS))
    all_heavy = np.empty((n_events * 4 + 16, N_HEAVY_COLS))
    n_part_ev = np.empty(n_events, dtype=np.int64)
    n_truth_ev = np.empty(n_events, dtype=np.int64)
    n_heavy_ev = np.empty(n_events, dtype=np.int64)
    pv = np.empty((n_events, 3))
    np_tot = 0
    nt_tot = 0
    nh_tot = 0
    first_non_finite = -1
    for ev in range(n_events):
        n_truth, n_heavy, n_part, pvx, pvy, pvz = _one_event(
            rng, is_signal, hp, sp, had_p, dec_p, ev_p, seeds, kicks, truth, fin, prim, heavy, part
        )
        cols = _reserve(cols, np_tot, np_tot + n_part, ev + 1, n_events)
        all_truth = _grow(all_truth, nt_tot + n_truth)
        all_heavy = _grow(all_heavy, nh_tot + n_heavy)
        if not _store_particles(cols, np_tot, part, n_part) and first_non_finite < 0:
            first_non_finite = ev
        all_truth[nt_tot : nt_tot + n_truth] = truth[:n_truth]
        all_heavy[nh_tot : nh_tot + n_heavy] = heavy[:n_heavy]
        np_tot += n_part
        nt_tot += n_truth
        nh_tot += n_heavy
        n_part_ev[ev] = n_part
        n_truth_ev[ev] = n_truth
        n_heavy_ev[ev] = n_heavy
        pv[ev, 0], pv[ev, 1], pv[ev, 2] = pvx, pvy, pvz
    return (
        ParticleColumns(
            cols.kin[:, :np_tot],
            cols.pdgid[:np_tot],
            cols.charge[:np_tot],
            cols.origin[:np_tot],
            cols.hadron_index[:np_tot],
        ),
        n_part_ev,
        all_truth[:nt_tot],
        n_truth_ev,
        all_heavy[:nh_tot],
        n_heavy_ev,
        pv,
        first_non_finite,
    )


def event_params(config: dict) -> EventParams:
    """EventParams from the full config (beam spot from `detector`, underlying event from `generation`)."""
    det = config["detector"]
    return EventParams(
        float(det["beam_spot_xy_mm"]),
        float(det["beam_spot_z_mm"]),
        float(config["generation"]["underlying_event_mean_particles"]),
        SINGLET_MODES[config["generation"]["hadronization"]["fragmentation_frame"]],
    )


def generator_params(
    config: dict,
) -> tuple[HardParams, ShowerParams, HadronizationParams, DecayParams, EventParams]:
    """All numba parameter tuples of the generator from the full config."""
    gen = config["generation"]
    return (
        hard_params(gen),
        shower_params(gen["shower"]),
        hadronization_params(gen["hadronization"]),
        decay_params(gen["hadronization"]),
        event_params(config),
    )


def check_finite(first_non_finite_event: int, truth: np.ndarray, heavy: np.ndarray, process: str) -> None:
    """Raise RuntimeError if the kernel stored a non-finite particle (its first such event, -1: none) or a truth
    parton or heavy hadron is not finite: a bug in the generator, reported instead of written to a shard."""
    if first_non_finite_event >= 0:
        raise RuntimeError(
            f"toy generator ({process}): event {first_non_finite_event} of this call has a particle with a non-finite "
            "momentum, energy or vertex; please report the seed and shard"
        )
    for name, values in (("truth parton", truth), ("heavy hadron", heavy)):
        if not np.all(np.isfinite(values)):
            raise RuntimeError(f"toy generator ({process}): a {name} has a non-finite value; please report the seed")


def generate_events(config: dict, process: str, n_events: int, rng: np.random.Generator) -> GeneratedEvents:
    """Generate `n_events` events of `process` ('hbb' or 'qcd') with the settings of the full `config`."""
    check_process(process, n_events)
    cols, n_part, truth, n_truth, heavy, n_heavy, pv, first_non_finite = generate_kernel(
        require_pcg64(rng), int(n_events), process == "hbb", *generator_params(config)
    )
    check_finite(first_non_finite, truth, heavy, process)
    kin = dict(zip(KIN_FIELDS, cols.kin, strict=True))  # every row is contiguous
    particles = ParticleTable(
        **kin,
        pdgid=cols.pdgid,
        charge=cols.charge,
        origin=cols.origin,
        hadron_index=cols.hadron_index,
        counts=n_part,
        pv=pv,
    )
    partons = four_vector_dict(truth[:, :4])
    partons.update(pdgid=truth[:, 4].astype(np.int32), role=truth[:, 5].astype(np.int8))
    hadrons = four_vector_dict(heavy[:, :4])
    hadrons.update(
        m=heavy[:, XM],
        pdgid=heavy[:, XPDG].astype(np.int32),
        charge=heavy[:, XCHARGE].astype(np.int8),
        flavour=heavy[:, XFLAV].astype(np.int8),
        parent=heavy[:, XPARENT].astype(np.int32),
        prod_x=heavy[:, XPRODX],
        prod_y=heavy[:, XPRODY],
        prod_z=heavy[:, XPRODZ],
        decay_x=heavy[:, XPRODX + 3],
        decay_y=heavy[:, XPRODY + 3],
        decay_z=heavy[:, XPRODZ + 3],
    )
    return GeneratedEvents(particles, partons, n_truth, hadrons, n_heavy, PROCESS_ID[process], {"backend": "toy"})



def generate_event_chunks(
    config: dict, process: str, n_events: int, rng: np.random.Generator, chunk_events: int
) -> Iterator[GeneratedEvents]:
    """`generate_events`' ``n_events`` events, yielded in order as chunks of ``chunk_events`` (the last may be smaller;
    no events: one empty chunk).

    The same events, bit for bit, however they are chunked: each event draws from `rng` in turn and its particles,
    partons and hadrons index only within the event (tested). A shard's detector takes them chunk by chunk
    (`autopruner.detector.shards`), so a chunk's particle table can be dropped before the next one is made.
    """
    check_process(process, n_events)
    if chunk_events < 1:
        raise ValueError(f"chunk_events must be >= 1, got {chunk_events}")
    done = 0
    while True:
        n = min(chunk_events, n_events - done)
        yield generate_events(config, process, n, rng)
        done += n
        if done >= n_events:
            return
