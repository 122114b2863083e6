"""numba decorators of the generator's and the detector's hot paths (`njit_hot`) and of those that allocate nothing.

numba counts references to every array (and to a random generator) that a compiled function receives: an atomic
increment on entry and a decrement on exit, which its pruning pass removes only in simple control flow. The
generator and the detector call small functions per particle and per calorimeter cell with the event buffers and
the random generator as arguments; profiling a default shard with `perf` showed those atomic counts taking 29 % of
the generator's time and 9 % of the detector's. A function that allocates nothing needs no counting: it only
borrows what its caller owns, so it is compiled without numba's runtime (NRT) and emits none.

Such a function may call only others of its kind: allocating an array, slicing with a copy, or drawing from
distributions whose numba implementation needs the runtime (`Generator.poisson`, `binomial`) fails at compile time
with "NRT required but not enabled", never silently.

The generator's and the detector's compiled functions (`njit_hot`, and these through it) use numpy's error
model, not numba's default Python one: Python's tests every float divisor and raises ZeroDivisionError where numpy
gives inf or nan. Those tests cost the generator 3 % and the detector 1 % of their time (interleaved runs of a
default QCD shard), and no division by zero happens in a correct event, so the results are bit for bit the same.
A division by zero would now leave a non-finite value instead of an exception: the generator checks every particle
it stores (`generation.toy`), and tests/generation/test_generator_fuzz.py checks every field of 300 000 events.

numba compiles a function called from compiled code once per distinct tuple of argument types, and an integer
constant argument has a type of its own (``Literal[int](211)``). The decay chain passes PDG ids, origins and parent
indices as constants at dozens of call sites, so each function below it was compiled up to 30 times: 248
specializations, 161 s of the generator's first compile. Those functions declare their signatures
(`signatures`): numba compiles each once, when its module is imported (or loads it from the cache), and converts a
constant argument to the declared type.
"""

from __future__ import annotations

import functools
import itertools

import numba as nb
import numpy as np
from numba import types

#: `numba.njit` of the generator's and the detector's compiled functions: cached, numpy's error model (see the module
#: docstring); takes numba's other options, e.g. ``@njit_hot(inline="always")``
njit_hot = functools.partial(nb.njit, cache=True, error_model="numpy")
#: `njit_hot` without reference counting, for functions that allocate nothing (see the module docstring)
njit_no_refcount = njit_hot(_nrt=False)


#: numba types of the compiled functions' arguments (`signatures`)
I8, F8, ROWS = types.int64, types.float64, types.float64[:, ::1]
#: the type of a numpy ``Generator``, as numba's compiled functions receive it
RNG = nb.typeof(np.random.default_rng(0))


def signatures(return_type: types.Type, *arg_types: types.Type | tuple[types.Type, ...]) -> list:
    """Explicit numba signatures: one per combination of the argument types, where an argument that takes more than
    one type gives a tuple of them (e.g. a PDG id stored as an int or read back from a float column)."""
    options = [t if isinstance(t, tuple) else (t,) for t in arg_types]
    return [return_type(*combination) for combination in itertools.product(*options)]
