"""Uniform draws from numpy's PCG64 inlined into numba kernels: the same numbers, at half the cost of `rng.random()`.

numba compiles ``Generator.random()`` to an indirect call of numpy's ``next_double`` through the bit generator's
function pointer, which nothing can inline: with the registers it makes the caller save, it cost the generator 5.6 ns
per draw, and the toy draws some 10^7 uniforms per shard. `uniform` performs the same step of the same generator
(numpy's PCG64: a 128-bit linear congruential step, the XSL-RR output function, the upper 53 bits as a double) on the
generator's own state, in the caller's code: 2.7 ns per draw. The state it advances is the one numpy's own draws read
and write, so `uniform` and the Generator's methods (normal, exponential, poisson...) can be mixed freely and the
stream stays numpy's: `tests/test_fast_random.py` compares them draw by draw.

It relies on numpy's PCG64 state layout on platforms with native 128-bit integers (``pcg64_state`` starting with a
pointer to the ``{state, inc}`` pair of ``__uint128_t``): `require_pcg64` checks the generator's type, and the tests
check the stream, so another bit generator or layout fails loudly rather than drawing different numbers.
"""

from __future__ import annotations

import functools

import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.core.extending import intrinsic

from autopruner.jit import njit_hot

#: PCG64's 128-bit LCG multiplier (numpy's PCG_DEFAULT_MULTIPLIER_128)
PCG64_MULTIPLIER = 0x2360ED051FC65DA44385DF649FCCF645
_TWO_TO_MINUS_53 = 1.0 / 9007199254740992.0


@intrinsic
def _pcg64_next_double(typingctx, generator):
    """numpy's ``pcg64_double`` on the state of a numba `Generator` whose bit generator is PCG64."""
    if not isinstance(generator, types.NumPyRandomGeneratorType):
        return None
    signature = types.float64(generator)

    def codegen(context, builder, sig, args):
        gen = cgutils.create_struct_proxy(generator)(context, builder, value=args[0])
        bit_gen = cgutils.create_struct_proxy(types.NumPyRandomBitGeneratorType("bit_generator"))(
            context, builder, value=gen.bit_generator
        )
        i64, i128 = ir.IntType(64), ir.IntType(128)
        # pcg64_state* -> its first member, the pcg64_random_t* {__uint128_t state, inc}
        pair = builder.load(builder.inttoptr(bit_gen.state, i128.as_pointer().as_pointer()))
        # align 8, not 16: numpy keeps the pair inside its Python object, and only 8 is guaranteed everywhere
        state = builder.load(pair, align=8)
        inc = builder.load(builder.gep(pair, [ir.Constant(ir.IntType(32), 1)]), align=8)
        state = builder.add(builder.mul(state, ir.Constant(i128, PCG64_MULTIPLIER)), inc)
        builder.store(state, pair, align=8)
        # XSL-RR: rotate (high ^ low) right by the state's top 6 bits
        high = builder.trunc(builder.lshr(state, ir.Constant(i128, 64)), i64)
        folded = builder.xor(high, builder.trunc(state, i64))
        rotation = builder.trunc(builder.lshr(state, ir.Constant(i128, 122)), i64)
        rotate_right = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(i64, [i64, i64, i64]), "llvm.fshr.i64"
        )
        bits = builder.call(rotate_right, [folded, folded, rotation])
        mantissa = builder.uitofp(builder.lshr(bits, ir.Constant(i64, 11)), ir.DoubleType())
        return builder.fmul(mantissa, ir.Constant(ir.DoubleType(), _TWO_TO_MINUS_53))

    return signature, codegen


@njit_hot(inline="always")
def uniform(rng):
    """A uniform double in [0, 1): exactly ``rng.random()`` of a PCG64 Generator (see the module docstring)."""
    return _pcg64_next_double(rng)


@njit_hot
def _uniforms(rng, n):
    """n draws of `uniform`, for the self-check."""
    out = np.empty(n)
    for i in range(n):
        out[i] = uniform(rng)
    return out


@functools.cache
def _stream_is_numpys() -> bool:
    """Whether `uniform` draws numpy's own PCG64 numbers here (checked once per process)."""
    seed = 20260127
    return bool(np.array_equal(_uniforms(np.random.default_rng(seed), 64), np.random.default_rng(seed).random(64)))


def require_pcg64(rng: np.random.Generator) -> np.random.Generator:
    """`rng`, after checking that its bit generator is numpy's PCG64, the only one `uniform` can draw from, and
    (once per process) that `uniform` reproduces numpy's own draws on this platform and numpy version."""
    if type(rng.bit_generator) is not np.random.PCG64:
        name = type(rng.bit_generator).__name__
        raise TypeError(f"the toy generator draws from numpy's PCG64 (np.random.default_rng), got {name}")
    if not _stream_is_numpys():
        raise RuntimeError(
            "autopruner.fast_random.uniform does not reproduce numpy's PCG64 stream here (numpy's PCG64 state "
            f"layout differs, numpy {np.__version__}): the toy generator cannot run reproducibly"
        )
    return rng
