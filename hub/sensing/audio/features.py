"""The log-mel front end: whole seconds of 16 kHz PCM to log-mel patches, in numpy.

Training imports this module (``models/dataset.py``), so the hub and the model see exactly the
same features; change a constant here and the model must be retrained.
"""

from __future__ import annotations

import functools
from typing import Final

import numpy as np
import numpy.typing as npt

from hub.sensing.audio.classes import SAMPLE_RATE

N_FFT: Final = 512
"""32 ms frames: long enough to resolve voice pitch harmonics at 16 kHz."""
HOP: Final = 256
"""16 ms hop: keeps the patch small (61 frames) so inference stays far above real time."""
N_MELS: Final = 40
"""40 bands is the usual size for small keyword/event CNNs; more adds cost, not accuracy."""
F_MIN: Final = 60.0
F_MAX: Final = 7800.0
N_FRAMES: Final = 1 + (SAMPLE_RATE - N_FFT) // HOP
"""Frames per one-second patch (61)."""
FLOOR_DB: Final = -100.0
"""Power below this (relative to a full-scale sine) is clipped: digital silence stays finite."""


def log_mel(seconds: npt.NDArray[np.int16]) -> npt.NDArray[np.float32]:
    """Log-mel patches in dB, shape (n, N_FRAMES, N_MELS), for PCM of shape (n, SAMPLE_RATE)."""
    if seconds.ndim != 2 or seconds.shape[1] != SAMPLE_RATE:
        msg = f"expected PCM of shape (n, {SAMPLE_RATE}), got {seconds.shape}"
        raise ValueError(msg)
    x = seconds.astype(np.float32) * np.float32(1.0 / 32768.0)
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT, axis=1)[:, ::HOP]
    spectrum = np.fft.rfft(frames * _window(), axis=2)
    power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
    # einsum, not matmul: a BLAS call this small is slower than the loop, and BLAS threads
    # spinning on a busy or pinned core made it 25x slower still (tests/benchmarks).
    mel = np.einsum("nft,tm->nfm", power, _mel_filterbank())
    floor = np.float32(10 ** (FLOOR_DB / 10))
    db: npt.NDArray[np.float32] = np.float32(10.0) * np.log10(np.maximum(mel, floor))
    return db.astype(np.float32, copy=False)


@functools.cache
def _window() -> npt.NDArray[np.float32]:
    """Periodic Hann window scaled so a full-scale sine peaks near 0 dB."""
    n = np.arange(N_FFT, dtype=np.float64)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT)
    window *= 2.0 / window.sum()
    window.setflags(write=False)
    return window.astype(np.float32)


def _hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """HTK mel scale."""
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def _mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Inverse of ``_hz_to_mel``."""
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


@functools.cache
def _mel_filterbank() -> npt.NDArray[np.float32]:
    """Triangular filters, shape (N_FFT // 2 + 1, N_MELS), each band summing power, not area."""
    edges_mel = np.linspace(
        _hz_to_mel(np.array(F_MIN)), _hz_to_mel(np.array(F_MAX)), N_MELS + 2, dtype=np.float64
    )
    edges = _mel_to_hz(edges_mel)
    bins = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - lower) / (centre - lower)
    falling = (upper - bins[None, :]) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    bank = weights.T.astype(np.float32)
    bank.setflags(write=False)
    return bank
