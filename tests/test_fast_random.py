"""`autopruner.fast_random.uniform` draws numpy's PCG64 stream, interleaved with numpy's own draws."""

import numba as nb
import numpy as np
import pytest

from autopruner.config import load_config
from autopruner.fast_random import require_pcg64, uniform
from autopruner.generation.toy import generate_events


@nb.njit
def _mixed(rng, n, inline):
    """n uniforms, from `uniform` or from ``rng.random()``, with numpy's other draws of the toy in between."""
    out = np.empty(n)
    for i in range(n):
        out[i] = uniform(rng) if inline else rng.random()
        if i % 3 == 0:
            rng.standard_normal()
        if i % 5 == 0:
            rng.standard_exponential()
        if i % 7 == 0:
            rng.poisson(3.5)
        if i % 11 == 0:
            rng.integers(0, 10)
    return out


@pytest.mark.parametrize("seed", [0, 7, 2**63 + 5])
def test_uniform_is_numpys_random_draw_for_draw(seed):
    """Same numbers as ``Generator.random()``, and the same generator state after any mix of draws."""
    ours, numpys = np.random.default_rng(seed), np.random.default_rng(seed)
    np.testing.assert_array_equal(_mixed(ours, 20_000, True), _mixed(numpys, 20_000, False))
    assert ours.bit_generator.state == numpys.bit_generator.state
    assert ours.random() == numpys.random()


def test_other_bit_generators_are_refused_with_their_name():
    """`uniform` advances PCG64's state only: a Philox generator is refused before any draw."""
    philox = np.random.Generator(np.random.Philox(1))
    with pytest.raises(TypeError, match="Philox"):
        require_pcg64(philox)
    with pytest.raises(TypeError, match="Philox"):
        generate_events(load_config(), "qcd", 5, philox)


def test_a_stream_that_is_not_numpys_stops_the_toy(monkeypatch):
    """Should `uniform` ever draw other numbers than numpy (another numpy layout, another platform), the toy
    refuses to run instead of writing irreproducible events."""
    import autopruner.fast_random as fast_random

    monkeypatch.setattr(fast_random, "_stream_is_numpys", lambda: False)
    with pytest.raises(RuntimeError, match="does not reproduce numpy's PCG64 stream"):
        generate_events(load_config(), "qcd", 5, np.random.default_rng(1))
