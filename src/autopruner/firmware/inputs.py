"""Quantized, scaled firmware inputs: each feature in its own fixed-point format, sized from its range.

A trigger board hands the network fixed-point numbers, not floats. Feature j reaches the firmware as
u_j = x_j·2^−p_j with p_j = round(log2 σ_j): a power-of-two scale is a move of the binary point, so u_j is the same
bit pattern as x_j in a format with p_j more fractional bits, and it costs no logic. With u of order one the
standardization (x − μ)/σ folds into the first Dense as weights W·2^p/σ (within a factor √2 of W, so the default
weight type holds them and the first layer needs no wide products) and a bias b − (μ/σ)·W.

Each u_j is signed only if the feature can be negative, has the integer bits its training range needs
(``k + i`` of da4ml's (k, i, f) convention, the sign bit not counted in i) and ``frac_bits`` fractional bits: a
resolution of 2^−frac_bits in units of 2^p_j, i.e. between 0.7 and 1.4 times 2^−frac_bits standard deviations.
Conversion rounds to nearest and saturates, so a candidate outside the training range clips to the edge of the
format instead of wrapping around.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from autopruner.training.network import DenseStage


@dataclass(frozen=True)
class InputFormat:
    """The fixed-point format of one feature as the firmware reads it (u = x·2^−scale_exponent)."""

    name: str
    mean: float
    std: float
    scale_exponent: int  # p: the firmware reads u = x / 2^p
    signed: bool  # k
    integer_bits: int  # i, sign bit excluded
    frac_bits: int  # f
    train_min: float  # range of x on the training split
    train_max: float

    @property
    def total_bits(self) -> int:
        """Width of the feature's input port in bits."""
        return int(self.signed) + self.integer_bits + self.frac_bits

    @property
    def step(self) -> float:
        """Resolution in units of u."""
        return 2.0**-self.frac_bits

    @property
    def u_min(self) -> float:
        """Smallest representable u."""
        return -(2.0**self.integer_bits) if self.signed else 0.0

    @property
    def u_max(self) -> float:
        """Largest representable u."""
        return 2.0**self.integer_bits - self.step

    def as_dict(self) -> dict:
        """JSON record: the format, the raw-unit resolution and range it covers."""
        scale = 2.0**self.scale_exponent
        return {
            **asdict(self),
            "total_bits": self.total_bits,
            "step_raw": self.step * scale,
            "step_in_std": self.step * scale / self.std,
            "representable_min_raw": self.u_min * scale,
            "representable_max_raw": self.u_max * scale,
            "ap_type": ap_type(self),
        }


def ap_type(fmt: InputFormat) -> str:
    """The feature's format as an ``ap_fixed``/``ap_ufixed`` string (integer bits counting the sign)."""
    if fmt.signed:
        return f"ap_fixed<{fmt.total_bits},{fmt.integer_bits + 1},AP_RND_CONV,AP_SAT>"
    return f"ap_ufixed<{fmt.total_bits},{fmt.integer_bits},AP_RND_CONV,AP_SAT>"


def integer_bits_for(low: float, high: float, step: float, signed: bool) -> int:
    """Fewest integer bits (sign excluded) whose format [−2^i or 0, 2^i − step] holds [low, high]."""
    need = max(high + step, -low if signed else 0.0, step)
    return max(0, math.ceil(math.log2(need)))


def input_formats(
    names: Sequence[str],
    mean: np.ndarray,
    std: np.ndarray,
    x_min: np.ndarray,
    x_max: np.ndarray,
    frac_bits: int,
) -> list[InputFormat]:
    """One format per feature from the standardization (μ, σ) and the training range [x_min, x_max]."""
    formats = []
    for j, name in enumerate(names):
        exponent = round(math.log2(float(std[j])))
        scale = 2.0**exponent
        low, high = float(x_min[j]) / scale, float(x_max[j]) / scale
        signed = bool(low < 0)
        step = 2.0**-frac_bits
        formats.append(InputFormat(
            name=str(name),
            mean=float(mean[j]),
            std=float(std[j]),
            scale_exponent=exponent,
            signed=signed,
            integer_bits=integer_bits_for(low, high, step, signed),
            frac_bits=int(frac_bits),
            train_min=float(x_min[j]),
            train_max=float(x_max[j]),
        ))
    return formats


def scale_exponents(formats: Sequence[InputFormat]) -> np.ndarray:
    """p_j of every feature."""
    return np.array([f.scale_exponent for f in formats], dtype=np.int64)


def to_firmware_units(X: np.ndarray, formats: Sequence[InputFormat]) -> np.ndarray:
    """u = x·2^−p, not yet quantized (float64)."""
    return np.asarray(X, dtype=np.float64) * np.exp2(-scale_exponents(formats).astype(np.float64))


def quantize_inputs(X: np.ndarray, formats: Sequence[InputFormat]) -> np.ndarray:
    """Raw features → u in each feature's format: round to nearest (half up), saturate; exact float64 values."""
    u = to_firmware_units(X, formats)
    frac = np.array([f.frac_bits for f in formats], dtype=np.float64)
    lo = np.array([f.u_min for f in formats])
    hi = np.array([f.u_max for f in formats])
    q = np.floor(u * np.exp2(frac) + 0.5) * np.exp2(-frac)
    return np.clip(q, lo, hi)


def scale_first_layer(stages: list[DenseStage], formats: Sequence[InputFormat]) -> list[DenseStage]:
    """The folded chain for inputs u = x·2^−p: the first layer's rows multiplied by 2^p (exact in float64)."""
    first = stages[0]
    factor = np.exp2(scale_exponents(formats).astype(np.float64))
    scaled = DenseStage(first.kernel * factor[:, None], first.bias.copy(), first.activation, first.name)
    return [scaled, *stages[1:]]


def union_type(formats: Sequence[InputFormat]) -> str:
    """One ``ap_fixed`` that holds every feature's format exactly (hls4ml has one input type for all features)."""
    integer = max(f.integer_bits for f in formats) + 1
    frac = max(f.frac_bits for f in formats)
    return f"ap_fixed<{integer + frac},{integer},AP_RND_CONV,AP_SAT>"


def formats_to_json(formats: Sequence[InputFormat]) -> dict:
    """The document of the firmware inputs: what a trigger board must send, feature by feature."""
    return {
        "convention": (
            "the firmware reads u = x / 2^scale_exponent in the fixed-point format (signed, integer_bits without "
            "the sign, frac_bits); conversion rounds to nearest and saturates"
        ),
        "total_input_bits": int(sum(f.total_bits for f in formats)),
        "features": [f.as_dict() for f in formats],
    }


def formats_from_json(document: dict) -> list[InputFormat]:
    """Inverse of `formats_to_json`."""
    keys = InputFormat.__dataclass_fields__.keys()
    return [InputFormat(**{k: entry[k] for k in keys}) for entry in document["features"]]
