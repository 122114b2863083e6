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

The other compiled functions are called with constants too (a PDG id, an origin, a starting row of 0), and each such
call site used to compile a specialization of its own: the generator and the detector compiled their 99 functions
144 times for a shard, and spent 89 s compiling on a cold cache. `njit_hot` therefore gives every function it
compiles dispatch on the arguments' plain types (`unliteral_calls`): a constant ``0`` is typed as the ``int64`` it
stands for, so one specialization serves every call site. The 99 functions now compile 106 times, in ~70 s; the
event files are byte-identical and the generator runs as fast, within the machine's noise. numba still specializes
on genuinely different types (an int or a float, a C-contiguous or a strided array).
"""

from __future__ import annotations

import inspect
import itertools

import numba as nb
import numpy as np
from numba import types
from numba.core.dispatcher import Dispatcher


def unliteral_calls(dispatcher: Dispatcher) -> Dispatcher:
    """``dispatcher``, made to type the calls that compiled code makes to it by the arguments' plain types
    (``types.unliteral``: ``Literal[int](0)`` as ``int64``), so that a constant argument does not compile a
    specialization of its own (see the module docstring).

    numba resolves such a call through the callee's ``get_call_template``, which compiles the callee for the argument
    types it receives; the wrapper hands it the unliteral types. Calls from Python are typed by value and are not
    affected, and a function inlined by numba (``inline="always"``) is typed in its caller's code.
    """
    typed_call = dispatcher.get_call_template

    def get_call_template(args: tuple, kws: dict):
        return typed_call(tuple(types.unliteral(a) for a in args), {k: types.unliteral(v) for k, v in kws.items()})

    dispatcher.get_call_template = get_call_template
    return dispatcher


def njit_hot(*args, **options):
    """`numba.njit` of the generator's and the detector's compiled functions: cached, numpy's error model, calls from
    compiled code typed without literals (see the module docstring, `unliteral_calls`). Used as numba's decorator is:
    bare (``@njit_hot``) or with numba's signatures and options (``@njit_hot(inline="always")``)."""
    options = {"cache": True, "error_model": "numpy", **options}
    if len(args) == 1 and inspect.isfunction(args[0]):
        return unliteral_calls(nb.njit(**options)(args[0]))
    decorate = nb.njit(*args, **options)
    return lambda func: unliteral_calls(decorate(func))


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
