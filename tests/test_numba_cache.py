"""Compiled kernels are cached per package source, so an edit to any module never reuses stale machine code."""

from __future__ import annotations

import os
import shutil

import autopruner
from autopruner.provenance import PACKAGE_ROOT


def test_cache_folder_follows_the_source(tmp_path):
    copy = tmp_path / "autopruner"
    shutil.copytree(PACKAGE_ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = autopruner.numba_cache_dir(copy)
    assert before == autopruner.numba_cache_dir(copy)  # stable
    decays = copy / "generation" / "decays.py"
    decays.write_text(decays.read_text() + "\n# an edit\n")
    assert autopruner.numba_cache_dir(copy) != before


def test_numba_uses_the_source_keyed_folder():
    import numba

    assert os.environ["NUMBA_CACHE_DIR"] == numba.config.CACHE_DIR
    assert os.environ["NUMBA_CACHE_DIR"].endswith(autopruner.numba_cache_dir().name)


def test_declared_signatures_cover_every_combination_and_convert_constants():
    from numba import njit, types

    from autopruner.jit import F8, I8, signatures

    sigs = signatures(I8, I8, (I8, F8), (F8, I8))
    assert [tuple(s.args) for s in sigs] == [(I8, I8, F8), (I8, I8, I8), (I8, F8, F8), (I8, F8, I8)]
    assert all(s.return_type == I8 for s in sigs)

    @njit(signatures(I8, I8))
    def twice(n):
        return 2 * n

    @njit
    def caller():
        return twice(21) + twice(4)  # two constants, one compiled version

    assert caller() == 50
    assert list(twice.overloads) == [(types.int64,)]


def test_constant_arguments_share_one_specialization():
    """A constant passed from compiled code is typed as its plain type, not as a literal of its own value."""
    from numba import njit

    from autopruner.arrays import grown_capacity
    from autopruner.jit import njit_hot

    @njit_hot(cache=False)
    def scaled(n, factor):
        return factor * n

    @njit
    def caller():
        return scaled(21, 2) + scaled(4, 0.5) + scaled(5, 3)

    assert caller() == 59.0
    assert sorted(str(s) for s in scaled.overloads) == ["(int64, float64)", "(int64, int64)"]

    @njit
    def grow():  # a module's function under the bare decorator
        return grown_capacity(10, 20, 1, 100)

    assert grow() == grown_capacity(10, 20, 1, 100)
    assert not any("Literal" in str(s) for s in grown_capacity.overloads)
