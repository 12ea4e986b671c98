"""Real clips for the audio tests, read from ../shared/data/audio (never copied into the repo)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from models.dataset import DATA


def read_clip(path: Path) -> np.ndarray:
    """Mono int16 samples of a 16 kHz WAV from the shared data set."""
    with wave.open(str(path), "rb") as w:
        ch = w.getnchannels()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, ch)
    return x.mean(axis=1).astype(np.int16)


def write_wav(
    path: Path, samples: np.ndarray, rate: int, channels: int = 1, width: int = 2
) -> Path:
    """Write float samples in [-1, 1] as integer PCM WAV."""
    x = np.repeat(samples[:, None], channels, axis=1)
    if width == 1:
        raw = np.clip(np.round(x * 127 + 128), 0, 255).astype(np.uint8).tobytes()
    else:
        scale = 2 ** (8 * width - 1) - 1
        raw = np.round(x * scale).astype(f"<i{width}").tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(raw)
    return path


@pytest.fixture(scope="session")
def audio_data() -> Path:
    if not (DATA / "snoring").is_dir():
        pytest.skip(f"shared audio data not found at {DATA}")
    return DATA
