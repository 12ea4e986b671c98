"""RoomAudio: whole seconds out, bounded buffer, nothing kept after classify or clear."""

from __future__ import annotations

import numpy as np

from hub.sensing.audio import (
    CLASSES,
    EnergyClassifier,
    RoomAudio,
    SoundSecond,
    load_default_classifier,
)
from hub.sensing.audio.stream import BYTES_PER_SECOND, MAX_BUFFERED_SECONDS
from tests.audio.conftest import read_clip


def test_buffer_never_holds_more_than_the_cap() -> None:
    room = RoomAudio(EnergyClassifier())
    chunk = np.arange(1024, dtype=np.int16).tobytes()
    for _ in range(400):  # 12.8 s pushed without taking
        room.push(chunk)
        assert room.buffered_bytes <= MAX_BUFFERED_SECONDS * BYTES_PER_SECOND
    assert room.dropped_bytes == 400 * len(chunk) - MAX_BUFFERED_SECONDS * BYTES_PER_SECOND


def test_take_seconds_returns_whole_seconds_in_order_and_keeps_the_rest() -> None:
    room = RoomAudio(EnergyClassifier())
    pcm = np.arange(16000 + 500, dtype=np.int16)
    room.push(pcm.tobytes())
    seconds = room.take_seconds()
    assert seconds.shape == (1, 16000)
    assert np.array_equal(seconds[0], pcm[:16000])
    assert room.buffered_bytes == 1000
    assert room.take_seconds().shape == (0, 16000)


def test_clear_forgets_everything() -> None:
    room = RoomAudio(EnergyClassifier())
    room.push(b"\x01\x02" * 20000)
    room.clear()
    assert room.buffered_bytes == 0
    assert room.take_seconds().shape == (0, 16000)


def test_classify_gives_sound_seconds_from_the_model(audio_data) -> None:
    room = RoomAudio(load_default_classifier())
    snore = read_clip(audio_data / "snoring" / "1_10.wav")
    quiet = np.zeros(16000, np.int16)
    for pcm in (snore, quiet):
        room.push(pcm.tobytes())
    result = room.classify(room.take_seconds())
    assert all(isinstance(s, SoundSecond) and len(s.scores) == len(CLASSES) for s in result)
    assert [s.top for s in result] == ["snoring", "quiet"]
    assert room.buffered_bytes == 0
