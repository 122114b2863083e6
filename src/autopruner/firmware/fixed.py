"""The fixed-point network that both firmware implementations compute, and its exact integer emulation.

The types are those of the hls4ml project (`autopruner.firmware.hls`), as hls4ml 1.3 infers them for a Dense-only
model with ``auto`` result and accumulator types:

* inputs: each feature in its own format (`autopruner.firmware.inputs`), already quantized;
* weights and biases: the layer's ``weight``/``bias`` type (truncation towards −∞, as ``ap_fixed`` converts);
* the dense sum is exact (hls4ml's ``auto`` accumulator is wide enough; distributed arithmetic adds exactly);
* a hidden layer's ReLU output is cast to the ReLU result type (``ap_fixed<16,6>`` by default: truncation and
  wrap-around on overflow, as ``ap_fixed`` does);
* the last layer's sum is the output, exact: the score before the sigmoid (the logit). The sigmoid is monotonic,
  so a cut on the logit selects the same candidates as a cut on the score; the DA design leaves it out and
  hls4ml's lookup table is not emulated here.

`emulate` evaluates this in int64 arithmetic, bit for bit; it is the reference the DA design is checked against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from autopruner.firmware.inputs import InputFormat
from autopruner.training.network import DenseStage

_TYPE = re.compile(r"^(?:ap_)?(u?)fixed<\s*(\d+)\s*,\s*(-?\d+)\s*(?:,(.*))?>$")
#: widest intermediate the int64 emulation accepts (bits)
MAX_EMULATION_BITS = 62


@dataclass(frozen=True)
class FixedType:
    """A fixed-point type in da4ml's convention: sign bit k, integer bits i (sign excluded), fractional bits f."""

    signed: bool
    integer_bits: int
    frac_bits: int
    rounding: str = "TRN"  # TRN (towards −∞) or RND (to nearest, half up)
    overflow: str = "WRAP"  # WRAP or SAT

    @property
    def width(self) -> int:
        """Total bits."""
        return int(self.signed) + self.integer_bits + self.frac_bits


def parse_type(text: str) -> FixedType:
    """``ap_fixed<W,I[,Q,O]>`` / ``ap_ufixed<W,I>`` (I counts the sign bit) → FixedType."""
    match = _TYPE.match(text.strip())
    if not match:
        raise ValueError(f"not a fixed-point type: {text!r}")
    unsigned, width, integer, modes = match.group(1), int(match.group(2)), int(match.group(3)), match.group(4) or ""
    signed = not unsigned
    rounding = "RND" if "RND" in modes.upper() else "TRN"
    overflow = "SAT" if "SAT" in modes.upper() else "WRAP"
    return FixedType(signed, integer - int(signed), width - integer, rounding, overflow)


@dataclass
class FixedLayer:
    """One dense layer in integers: y = x @ weight·2^−weight_frac + bias·2^−bias_frac, then the activation."""

    weight: np.ndarray  # int64 (n_in, n_out)
    weight_frac: int
    bias: np.ndarray  # int64 (n_out,)
    bias_frac: int
    activation: str  # "relu" (then cast to result) or "linear" (exact output)
    result: FixedType | None  # type of the ReLU output; None for the exact last layer


@dataclass
class FixedNetwork:
    """Input formats and integer layers: everything the firmware computes."""

    inputs: list[InputFormat]
    layers: list[FixedLayer]

    @property
    def input_frac(self) -> int:
        """Fractional bits of the common integer grid of the inputs."""
        return max(f.frac_bits for f in self.inputs)


def wrap_or_saturate(values: np.ndarray, fmt: FixedType) -> np.ndarray:
    """Integers (in units of 2^−f) brought into the type's range by wrap-around or saturation."""
    low = -(1 << (fmt.width - 1)) if fmt.signed else 0
    span = 1 << fmt.width
    if fmt.overflow == "SAT":
        return np.clip(values, low, low + span - 1)
    return (values - low) % span + low


def quantize_constant(values: np.ndarray, fmt: FixedType) -> np.ndarray:
    """Float constants → integers in units of 2^−f of the type (how ``ap_fixed`` converts a literal)."""
    scaled = np.asarray(values, dtype=np.float64) * 2.0**fmt.frac_bits
    ints = np.floor(scaled + (0.5 if fmt.rounding == "RND" else 0.0)).astype(np.int64)
    return wrap_or_saturate(ints, fmt)


def shift_round(values: np.ndarray, drop_bits: int, rounding: str) -> np.ndarray:
    """Integers divided by 2^drop_bits (drop_bits ≥ 0) with truncation towards −∞ or rounding half up."""
    if drop_bits <= 0:
        return values << (-drop_bits)
    if rounding == "RND":
        values = values + (1 << (drop_bits - 1))
    return values >> drop_bits


def build_network(
    stages: list[DenseStage],
    formats: list[InputFormat],
    weight_types: list[str],
    bias_types: list[str],
    result_types: list[str],
) -> FixedNetwork:
    """The fixed-point network of a folded chain (inputs in firmware units u) with the project's types."""
    layers = []
    last = len(stages) - 1
    for k, stage in enumerate(stages):
        wt, bt = parse_type(weight_types[k]), parse_type(bias_types[k])
        relu = stage.activation == "relu"
        if not relu and not (k == last and stage.activation in ("linear", "sigmoid")):
            raise ValueError(f"layer {stage.name}: activation {stage.activation} has no fixed-point model here")
        layers.append(FixedLayer(
            weight=quantize_constant(stage.kernel, wt),
            weight_frac=wt.frac_bits,
            bias=quantize_constant(stage.bias, bt),
            bias_frac=bt.frac_bits,
            activation="relu" if relu else "linear",
            result=parse_type(result_types[k]) if relu else None,
        ))
    return FixedNetwork(list(formats), layers)


def input_integers(network: FixedNetwork, U: np.ndarray) -> np.ndarray:
    """Quantized inputs u (exact float64 values) → int64 in units of 2^−input_frac."""
    scaled = np.asarray(U, dtype=np.float64) * 2.0**network.input_frac
    ints = np.rint(scaled)
    if not np.array_equal(ints, scaled):
        raise ValueError("inputs are not on their formats' grid: quantize them first")
    return ints.astype(np.int64)


def _check_width(values: np.ndarray, what: str) -> None:
    """Refuse results that could have overflowed int64."""
    peak = int(np.max(np.abs(values))) if values.size else 0
    if peak.bit_length() > MAX_EMULATION_BITS:
        raise OverflowError(f"{what}: {peak.bit_length()} bits exceed the int64 emulation")


def emulate(network: FixedNetwork, U: np.ndarray) -> np.ndarray:
    """Exact outputs (float64, shape (n, n_out)) of the fixed-point network on quantized inputs u."""
    x, frac = input_integers(network, U), network.input_frac
    for k, layer in enumerate(network.layers):
        z_frac = frac + layer.weight_frac
        if z_frac < layer.bias_frac:
            raise ValueError(f"layer {k}: bias has more fractional bits than the products")
        z = x @ layer.weight + (layer.bias << (z_frac - layer.bias_frac))
        _check_width(z, f"layer {k}")
        if layer.activation == "linear":
            x, frac = z, z_frac
            continue
        fmt = layer.result
        x = wrap_or_saturate(shift_round(np.maximum(z, 0), z_frac - fmt.frac_bits, fmt.rounding), fmt)
        frac = fmt.frac_bits
    return x.astype(np.float64) * 2.0**-frac

