"""Room audio: labels have the right levels, real clips are used, assembly is fast and stable."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest

from hub.errors import AudioError
from hub.sensing.audio.classes import CLASSES, SAMPLE_RATE
from hub.sim.home import VirtualHome
from hub.sim.scenario import load_scenario
from hub.sim.sound import (
    LEVELS_DBFS,
    SoundBank,
    is_held_out,
    is_held_out_speaker,
    mix,
    resolve_audio_dir,
)

AUDIO = Path(__file__).parents[2].parent / "shared" / "data" / "audio"
needs_audio = pytest.mark.skipif(not AUDIO.is_dir(), reason="shared audio data set not present")


def _dbfs(x: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
    return 20 * math.log10(max(rms, 1e-9))


@pytest.fixture(scope="module", params=["real", "synth"])
def bank(request: pytest.FixtureRequest) -> SoundBank:
    if request.param == "real":
        if not AUDIO.is_dir():
            pytest.skip("shared audio data set not present")
        return SoundBank(AUDIO, seed=3)
    return SoundBank(None, seed=3)


def test_every_label_renders_at_its_level(bank: SoundBank) -> None:
    quiet = np.concatenate([bank.second("quiet", (), s, s * 7919) for s in range(4)])
    assert _dbfs(quiet) == pytest.approx(LEVELS_DBFS["quiet"], abs=3)
    for label in CLASSES[1:]:
        x = np.concatenate([bank.second(label, (0, 1), s, mix(3, s)) for s in range(12)])
        assert x.dtype == np.float32
        assert len(x) == 12 * SAMPLE_RATE
        level = _dbfs(x)
        # Foregrounds are normalised on their active part, so the whole second is at most that.
        assert LEVELS_DBFS[label] - 15 < level < LEVELS_DBFS[label] + 2, label
        assert level > _dbfs(quiet) + 15, label


def test_speech_louder_than_quiet_and_snoring_in_between(bank: SoundBank) -> None:
    def level(label: str) -> float:
        return _dbfs(np.concatenate([bank.second(label, (2,), s, s) for s in range(10)]))

    assert level("speech") > level("snoring") > level("quiet") + 20


def test_conversation_alternates_speakers() -> None:
    bank = SoundBank(None, seed=3)
    # Synthesised voices differ in pitch: the talkers' turns are different signals.
    a = bank.second("conversation", (4, 9), 0, 5)
    b = bank.second("conversation", (4, 9), 2, 5)
    same_speaker = bank.second("conversation", (4, 9), 1, 5)
    assert np.array_equal(a, same_speaker)
    assert not np.array_equal(a, b)


@needs_audio
def test_real_clips_are_used() -> None:
    real = SoundBank(AUDIO, seed=3)
    synth = SoundBank(None, seed=3)
    for label in ("speech", "snoring", "kitchen", "water"):
        assert not np.array_equal(real.second(label, (0,), 0, 1), synth.second(label, (0,), 0, 1))


def test_unknown_label_and_bad_dir_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="cough"):
        SoundBank(None, 1).second("cough", (), 0, 0)
    with pytest.raises(AudioError, match="does not exist"):
        resolve_audio_dir(tmp_path / "nope")


def test_env_variable_selects_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMEHUB_AUDIO_DIR", str(tmp_path))
    assert resolve_audio_dir() == tmp_path
    assert resolve_audio_dir(AUDIO if AUDIO.is_dir() else tmp_path) is not None


@pytest.fixture(scope="module")
def home() -> VirtualHome:
    return VirtualHome(load_scenario(), audio_dir=AUDIO if AUDIO.is_dir() else None)


def test_home_audio_follows_the_truth(home: VirtualHome) -> None:
    by_label: dict[str, list[float]] = {}
    for minute in range(home.start // 60, home.start // 60 + 1440, 5):
        label = home.state(minute).sound["living"]
        pcm = home.audio("living", minute * 60, minute * 60 + 1)
        by_label.setdefault(label, []).append(_dbfs(pcm / 32768))
    assert {"quiet", "tv", "conversation"} <= set(by_label)
    quiet = float(np.median(by_label["quiet"]))
    assert float(np.median(by_label["tv"])) > quiet + 20
    assert float(np.median(by_label["conversation"])) > quiet + 20


def test_home_audio_is_deterministic_and_order_independent(home: VirtualHome) -> None:
    t = home.start + 15.5 * 3600
    whole = home.audio("living", t, t + 3)
    assert whole.dtype == np.int16
    assert len(whole) == 3 * SAMPLE_RATE
    parts = [home.audio("living", t + 2, t + 3), home.audio("living", t, t + 2)]
    assert np.array_equal(whole, np.concatenate(parts[::-1]))
    odd = home.audio("living", t + 0.25, t + 1.75)
    assert np.array_equal(odd, whole[SAMPLE_RATE // 4 : SAMPLE_RATE * 7 // 4])
    fresh = VirtualHome(home.scenario, audio_dir=home._sound.audio_dir)  # noqa: SLF001
    assert np.array_equal(fresh.audio("living", t, t + 3), whole)


def test_audio_assembly_is_fast(home: VirtualHome) -> None:
    t = home.start + 19.8 * 3600
    home.audio("living", t, t + 60)  # warm the clip cache
    cpu = time.process_time()
    seconds = 0
    for room in ("living", "bedroom", "kitchen", "hallway"):
        for k in range(0, 600, 10):
            home.audio(room, t + k, t + k + 2)
            seconds += 2
    per_second = (time.process_time() - cpu) / seconds
    print(f"audio assembly: {per_second * 1e3:.3f} ms CPU per second of audio")
    assert per_second < 5e-3  # generous bound for a loaded CI machine; typically < 1 ms


@needs_audio
def test_only_clips_the_model_never_trained_on() -> None:
    bank = SoundBank(AUDIO, seed=3)
    speakers = bank._speaker_list()  # noqa: SLF001
    assert len(speakers) >= 20
    for files in speakers:
        assert all(is_held_out_speaker(p.name.split("_")[1]) for p in files)
    doors = bank._clip_files("door")  # noqa: SLF001
    assert [p.name for p in doors] == [f"0_{i}.wav" for i in range(120, 130)]
    assert all(is_held_out(int(p.stem[2:]), 100) for p in bank._clip_files("snoring"))  # noqa: SLF001
    everything = SoundBank(AUDIO, seed=3, held_out=False)
    assert len(everything._clip_files("door")) == 50  # noqa: SLF001
    assert len(everything._speaker_list()) > 3 * len(speakers)  # noqa: SLF001


def test_conversation_mixes_voices_within_a_second() -> None:
    bank = SoundBank(None, seed=3)
    # Synthesised voices have distinct pitches: a conversation second holds both.
    second = bank.second("conversation", (0, 5), 0, 12345)
    spectrum = np.abs(np.fft.rfft(second))
    f0 = [100.0 + (v * 37) % 130 for v in (0, 5)]  # pitch rule of the synthesised voices
    for f in f0:
        band = spectrum[int(f * 0.97) : int(f * 1.03) + 1]
        assert band.max() > 50 * np.median(spectrum), f  # one voice alone gives < 20
