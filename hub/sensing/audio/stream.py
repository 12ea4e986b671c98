"""Streaming PCM into whole seconds, and classifying them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from hub.sensing.audio.classes import CLASSES, SAMPLE_RATE

MAX_BUFFERED_SECONDS: Final = 2
"""PCM waiting for a whole second is capped here; older samples are dropped and counted."""

BYTES_PER_SECOND: Final = SAMPLE_RATE * 2


@dataclass(frozen=True, slots=True)
class SoundSecond:
    """One second of sound reduced to class scores (no samples)."""

    top: str
    scores: tuple[float, ...]
    """Aligned with ``CLASSES``."""


class Classifier(Protocol):
    """Turns whole seconds of PCM into class scores."""

    def classify(self, seconds: npt.NDArray[np.int16]) -> npt.NDArray[np.float32]:
        """``seconds`` has shape (n, 16000); returns shape (n, len(CLASSES))."""
        ...


class EnergyClassifier:
    """A speech/quiet detector on loudness alone: the fallback when no model is available."""

    def __init__(self, quiet_dbfs: float = -45.0) -> None:
        self._quiet_dbfs = quiet_dbfs
        self._speech = CLASSES.index("speech")
        self._quiet = CLASSES.index("quiet")

    def classify(self, seconds: npt.NDArray[np.int16]) -> npt.NDArray[np.float32]:
        x = seconds.astype(np.float32) / 32768.0
        rms = np.sqrt(np.mean(x * x, axis=1) + 1e-12)
        dbfs = 20 * np.log10(rms)
        loud = 1.0 / (1.0 + np.exp(-(dbfs - self._quiet_dbfs)))
        out = np.zeros((len(seconds), len(CLASSES)), dtype=np.float32)
        out[:, self._speech] = loud
        out[:, self._quiet] = 1.0 - loud
        return out


class RoomAudio:
    """Collects one room's PCM into whole seconds; the buffer is bounded and never persisted."""

    def __init__(self, classifier: Classifier) -> None:
        self._classifier = classifier
        self._buffer = bytearray()
        self.dropped_bytes = 0

    def push(self, pcm: bytes) -> None:
        """Append little-endian int16 PCM; drops the oldest beyond the cap."""
        self._buffer += pcm
        excess = len(self._buffer) - MAX_BUFFERED_SECONDS * BYTES_PER_SECOND
        if excess > 0:
            del self._buffer[:excess]
            self.dropped_bytes += excess

    def take_seconds(self) -> npt.NDArray[np.int16]:
        """Remove and return every whole buffered second, shape (n, 16000)."""
        n = len(self._buffer) // BYTES_PER_SECOND
        if n == 0:
            return np.zeros((0, SAMPLE_RATE), dtype=np.int16)
        raw = bytes(self._buffer[: n * BYTES_PER_SECOND])
        del self._buffer[: n * BYTES_PER_SECOND]
        return np.frombuffer(raw, dtype="<i2").reshape(n, SAMPLE_RATE).copy()

    def clear(self) -> None:
        """Forget buffered PCM (pause, shutdown)."""
        self._buffer[:] = b"\x00" * len(self._buffer)
        self._buffer.clear()

    @property
    def buffered_bytes(self) -> int:
        return len(self._buffer)

    def classify(self, seconds: npt.NDArray[np.int16]) -> list[SoundSecond]:
        """Scores for each second; CPU-bound, so callers run it off the event loop."""
        if len(seconds) == 0:
            return []
        scores = self._classifier.classify(seconds)
        return [
            SoundSecond(top=CLASSES[int(np.argmax(row))], scores=tuple(float(v) for v in row))
            for row in scores
        ]
