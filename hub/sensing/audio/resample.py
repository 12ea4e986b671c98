"""Sample-rate conversion to 16 kHz for recordings made at other rates (numpy only)."""

from __future__ import annotations

from fractions import Fraction
from typing import Final

import numpy as np
import numpy.typing as npt

HALF_WIDTH: Final = 16
"""Sinc taps each side of an output sample, in units of the lower rate's period: about 80 dB
stop-band with the Kaiser window below, plenty for log-mel features."""
KAISER_BETA: Final = 8.0
CHUNK: Final = 8192
"""Output samples computed at once: bounds the (CHUNK, 2 * taps) weight matrix to a few MB."""


def resample(x: npt.NDArray[np.float32], rate_in: int, rate_out: int) -> npt.NDArray[np.float32]:
    """Band-limited resampling of a mono float signal by windowed-sinc interpolation."""
    if rate_in <= 0 or rate_out <= 0:
        msg = f"sample rates must be positive, got {rate_in} -> {rate_out}"
        raise ValueError(msg)
    if rate_in == rate_out or len(x) == 0:
        return x.astype(np.float32, copy=True)
    step = Fraction(rate_in, rate_out)  # input samples per output sample, exactly
    cutoff = min(1.0, rate_out / rate_in)  # of the input Nyquist: anti-alias when going down
    taps = int(np.ceil(HALF_WIDTH / cutoff))
    offsets = np.arange(-taps + 1, taps + 1)
    # The fractional position of output m repeats every `denominator` outputs: one weight row each.
    phases = np.arange(step.denominator) * step.numerator % step.denominator / step.denominator
    dist = phases[:, None] - offsets[None, :]
    weights = (cutoff * np.sinc(cutoff * dist) * _kaiser(dist / (taps + 1))).astype(np.float32)
    padded = np.concatenate(
        [np.zeros(taps, np.float32), x.astype(np.float32), np.zeros(taps + 1, np.float32)]
    )
    n_out = len(x) * rate_out // rate_in
    out = np.empty(n_out, dtype=np.float32)
    for start in range(0, n_out, CHUNK):
        m = np.arange(start, min(start + CHUNK, n_out))
        base = m * step.numerator // step.denominator
        phase = m % step.denominator
        idx = base[:, None] + offsets[None, :] + taps
        out[m] = np.einsum("ij,ij->i", weights[phase], padded[idx])
    return out


def _kaiser(u: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Kaiser window evaluated at positions ``u`` in [-1, 1] (zero outside)."""
    inside = np.clip(1.0 - u * u, 0.0, None)
    return np.asarray(np.i0(KAISER_BETA * np.sqrt(inside)) / np.i0(KAISER_BETA), dtype=np.float64)
