"""Variable-radius (VR) anti-kT-like jet clustering in numba, batched over events.

The algorithm is fjcontrib's ``VariableRPlugin(rho, min_r, max_r, VariableRPlugin::AKTLIKE)`` (arXiv:0903.0392):
``d_ij = min(pT_i^-2, pT_j^-2) dR_ij^2`` and ``d_iB = pT_i^-2 R_eff(pT_i)^2`` with ``R_eff = rho / pT`` clipped to
``[min_r, max_r]``, E-scheme recombination, distances in (rapidity, phi). fastjet's Python package does not bind the
plugin, so this module ports its nearest-neighbour clustering (fastjet's ``NNFJN2Plain`` helper, including its table
bookkeeping, so that the merge order -- hence every floating-point sum -- is the plugin's). The result is checked
against the compiled C++ plugin in ``tests/test_vr_jets.py``.

Input and output are flat arrays with per-event offsets so that one call clusters a whole chunk of events."""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

_PI = np.pi
_TWOPI = 2.0 * np.pi
_MAX_RAP = 1e5  # fastjet's MaxRap: rapidity given to particles along the beam


@dataclass(frozen=True)
class VRJets:
    """Inclusive VR jets of a batch of events, jets ordered by decreasing pT within each event.

    ``jet_offsets[e]:jet_offsets[e+1]`` are the jets of event ``e``; ``particle_jet[i]`` is the event-local index (into
    that event's pT-ordered jets) of the jet holding input particle ``i``.
    """

    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    e: np.ndarray
    jet_offsets: np.ndarray
    particle_jet: np.ndarray

    @property
    def pt(self) -> np.ndarray:
        """Jet transverse momentum [GeV]."""
        return np.hypot(self.px, self.py)


@numba.njit(cache=True, inline="always")
def _rap_phi(px: float, py: float, pz: float, e: float) -> tuple[float, float]:
    """Rapidity and azimuth in [0, 2pi) exactly as fastjet's ``PseudoJet::_set_rap_phi``."""
    kt2 = px * px + py * py
    phi = 0.0 if kt2 == 0.0 else np.arctan2(py, px)
    if phi < 0.0:
        phi += _TWOPI
    if phi >= _TWOPI:
        phi -= _TWOPI
    if e == abs(pz) and kt2 == 0.0:
        rap = _MAX_RAP + abs(pz)
        if pz < 0.0:
            rap = -rap
    else:
        m2 = (e + pz) * (e - pz) - kt2
        effective_m2 = m2 if m2 > 0.0 else 0.0
        e_plus_pz = e + abs(pz)
        rap = 0.5 * np.log((kt2 + effective_m2) / (e_plus_pz * e_plus_pz))
        if pz > 0.0:
            rap = -rap
    return rap, phi


@numba.njit(cache=True, inline="always")
def _geo_dist(rap_a: float, phi_a: float, rap_b: float, phi_b: float) -> float:
    """Squared (rapidity, phi) distance as in fjcontrib's ``VariableRBriefJet::geometrical_distance``."""
    dphi = abs(phi_a - phi_b)
    deta = rap_a - rap_b
    if dphi > _PI:
        dphi = _TWOPI - dphi
    return dphi * dphi + deta * deta


@numba.njit(cache=True)
def _cluster_one_event(
    px, py, pz, en, rho2, min_r2, max_r2, out_px, out_py, out_pz, out_e, particle_jet
):  # pragma: no cover - compiled
    """Cluster one event; write its inclusive jets (in beam-recombination order) and return their number."""
    n = px.shape[0]
    if n == 0:
        return 0
    n_hist = 2 * n
    # history of PseudoJets: 4-momenta and a linked list of the particles each one holds
    h_px = np.empty(n_hist)
    h_py = np.empty(n_hist)
    h_pz = np.empty(n_hist)
    h_e = np.empty(n_hist)
    h_first = np.empty(n_hist, np.int64)
    h_last = np.empty(n_hist, np.int64)
    nxt = np.full(n, -1, np.int64)
    # brief jets, addressed by table position (NNFJN2Plain's pointers)
    b_rap = np.empty(n)
    b_phi = np.empty(n)
    b_mom = np.empty(n)
    b_beam = np.empty(n)
    b_index = np.empty(n, np.int64)
    nn_dist = np.empty(n)
    nn = np.full(n, -1, np.int64)
    dij = np.empty(n)
    where_is = np.full(n_hist, -1, np.int64)

    for i in range(n):
        h_px[i] = px[i]
        h_py[i] = py[i]
        h_pz[i] = pz[i]
        h_e[i] = en[i]
        h_first[i] = i
        h_last[i] = i

    def init_brief(pos, hidx):
        rap, phi = _rap_phi(h_px[hidx], h_py[hidx], h_pz[hidx], h_e[hidx])
        pt2 = h_px[hidx] * h_px[hidx] + h_py[hidx] * h_py[hidx]
        beam = rho2 / pt2
        if beam > max_r2:
            beam = max_r2
        elif beam < min_r2:
            beam = min_r2
        b_rap[pos] = rap
        b_phi[pos] = phi
        b_mom[pos] = 1.0 / pt2
        b_beam[pos] = beam
        b_index[pos] = hidx
        nn_dist[pos] = beam
        nn[pos] = -1
        where_is[hidx] = pos

    def compute_dij(pos):
        mom = b_mom[pos]
        if nn[pos] >= 0:
            other = b_mom[nn[pos]]
            if other < mom:
                mom = other
        return nn_dist[pos] * mom

    def move_tail_to(pos, tail):
        """Fill the slot ``pos`` with the last active brief jet ``tail`` (fastjet's compaction step)."""
        b_rap[pos] = b_rap[tail]
        b_phi[pos] = b_phi[tail]
        b_mom[pos] = b_mom[tail]
        b_beam[pos] = b_beam[tail]
        b_index[pos] = b_index[tail]
        nn_dist[pos] = nn_dist[tail]
        nn[pos] = nn[tail]
        where_is[b_index[pos]] = pos
        dij[pos] = dij[tail]

    def set_nn_nocross(pos, end):
        best = b_beam[pos]
        best_j = -1
        for j in range(end):
            if j == pos:
                continue
            d = _geo_dist(b_rap[pos], b_phi[pos], b_rap[j], b_phi[j])
            if d < best:
                best = d
                best_j = j
        nn[pos] = best_j
        nn_dist[pos] = best

    for i in range(n):
        init_brief(i, i)
    for a in range(1, n):  # set_NN_crosscheck(jetA, head, jetA)
        best = b_beam[a]
        best_j = -1
        for b in range(a):
            d = _geo_dist(b_rap[a], b_phi[a], b_rap[b], b_phi[b])
            if d < best:
                best = d
                best_j = b
            if d < nn_dist[b]:
                nn_dist[b] = d
                nn[b] = a
        nn[a] = best_j
        nn_dist[a] = best
    for i in range(n):
        dij[i] = compute_dij(i)

    n_active = n
    n_next = n  # next free history index
    n_jets = 0
    while n_active > 0:
        best_pos = 0
        best_d = dij[0]
        for i in range(1, n_active):
            if dij[i] < best_d:
                best_d = dij[i]
                best_pos = i
        ia = b_index[best_pos]
        ib = b_index[nn[best_pos]] if nn[best_pos] >= 0 else -1
        if ib >= 0:
            # record the ij recombination (E scheme) as a new history entry
            k = n_next
            n_next += 1
            h_px[k] = h_px[ia] + h_px[ib]
            h_py[k] = h_py[ia] + h_py[ib]
            h_pz[k] = h_pz[ia] + h_pz[ib]
            h_e[k] = h_e[ia] + h_e[ib]
            nxt[h_last[ia]] = h_first[ib]
            h_first[k] = h_first[ia]
            h_last[k] = h_last[ib]
            # NNFJN2Plain::merge_jets
            pa = where_is[ia]
            pb = where_is[ib]
            if pa < pb:
                pa, pb = pb, pa
            init_brief(pb, k)
            n_active -= 1
            tail = n_active
            move_tail_to(pa, tail)  # *jetA = *tail
            for i in range(n_active):
                if nn[i] == pa or nn[i] == pb:
                    set_nn_nocross(i, n_active)
                    dij[i] = compute_dij(i)
                d = _geo_dist(b_rap[i], b_phi[i], b_rap[pb], b_phi[pb])
                if d < nn_dist[i] and i != pb:
                    nn_dist[i] = d
                    nn[i] = pb
                    dij[i] = compute_dij(i)
                if d < nn_dist[pb] and i != pb:
                    nn_dist[pb] = d
                    nn[pb] = i
                if nn[i] == tail:
                    nn[i] = pa
            dij[pb] = compute_dij(pb)
        else:
            # record the iB recombination: ia is an inclusive jet
            out_px[n_jets] = h_px[ia]
            out_py[n_jets] = h_py[ia]
            out_pz[n_jets] = h_pz[ia]
            out_e[n_jets] = h_e[ia]
            p = h_first[ia]
            while p >= 0:
                particle_jet[p] = n_jets
                p = nxt[p]
            n_jets += 1
            # NNFJN2Plain::remove_jet
            pa = where_is[ia]
            n_active -= 1
            tail = n_active
            move_tail_to(pa, tail)
            for i in range(n_active):
                if nn[i] == pa:
                    set_nn_nocross(i, n_active)
                    dij[i] = compute_dij(i)
                if nn[i] == tail:
                    nn[i] = pa
    return n_jets


@numba.njit(cache=True)
def _cluster_batch(px, py, pz, en, offsets, rho2, min_r2, max_r2):  # pragma: no cover - compiled
    """Cluster every event; jets sorted by decreasing pT per event, particle -> event-local jet index."""
    n_events = offsets.shape[0] - 1
    n_total = px.shape[0]
    jpx = np.empty(n_total)
    jpy = np.empty(n_total)
    jpz = np.empty(n_total)
    je = np.empty(n_total)
    particle_jet = np.full(n_total, -1, np.int64)
    n_jets = np.zeros(n_events, np.int64)
    for ev in range(n_events):
        lo = offsets[ev]
        hi = offsets[ev + 1]
        n_jets[ev] = _cluster_one_event(
            px[lo:hi], py[lo:hi], pz[lo:hi], en[lo:hi], rho2, min_r2, max_r2,
            jpx[lo:], jpy[lo:], jpz[lo:], je[lo:], particle_jet[lo:hi],
        )
    jet_offsets = np.zeros(n_events + 1, np.int64)
    for ev in range(n_events):
        jet_offsets[ev + 1] = jet_offsets[ev] + n_jets[ev]
    out_px = np.empty(jet_offsets[-1])
    out_py = np.empty(jet_offsets[-1])
    out_pz = np.empty(jet_offsets[-1])
    out_e = np.empty(jet_offsets[-1])
    for ev in range(n_events):
        lo = offsets[ev]
        nj = n_jets[ev]
        pt2 = jpx[lo:lo + nj] ** 2 + jpy[lo:lo + nj] ** 2
        order = np.argsort(-pt2, kind="mergesort")
        rank = np.empty(nj, np.int64)
        for r in range(nj):
            rank[order[r]] = r
            dst = jet_offsets[ev] + r
            out_px[dst] = jpx[lo + order[r]]
            out_py[dst] = jpy[lo + order[r]]
            out_pz[dst] = jpz[lo + order[r]]
            out_e[dst] = je[lo + order[r]]
        for p in range(lo, offsets[ev + 1]):
            particle_jet[p] = rank[particle_jet[p]]
    return out_px, out_py, out_pz, out_e, jet_offsets, particle_jet


def cluster_variable_r(
    px_gev: np.ndarray,
    py_gev: np.ndarray,
    pz_gev: np.ndarray,
    e_gev: np.ndarray,
    offsets: np.ndarray,
    rho_gev: float,
    r_min: float,
    r_max: float,
) -> VRJets:
    """Cluster flat particle arrays (events delimited by ``offsets``) with the VR anti-kT-like algorithm.

    Every particle must have pT > 0. Returns all inclusive jets (no pT cut), pT-ordered per event.
    """
    if not 0.0 <= r_min <= r_max:
        raise ValueError(f"need 0 <= r_min <= r_max, got r_min={r_min}, r_max={r_max}")
    arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in (px_gev, py_gev, pz_gev, e_gev)]
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    if offsets.ndim != 1 or offsets[0] != 0 or offsets[-1] != arrays[0].shape[0]:
        raise ValueError("offsets must start at 0 and end at the number of particles")
    if np.any(arrays[0] ** 2 + arrays[1] ** 2 <= 0.0):
        raise ValueError("VR clustering needs particles with pT > 0")
    out = _cluster_batch(*arrays, offsets, rho_gev**2, r_min**2, r_max**2)
    return VRJets(*out)
