"""What each room of the virtual home sounds like, assembled second by second from real clips.

Clips come from the shared audio folder (Speech Commands voices, snoring, door and TV news clips,
dishes, a running tap) and are read lazily, level-normalised and cached. By default only clips
the shipped sound model never trained on are played (its held-out split), so the demo scores
the hub on unseen sound. Sounds with no labelled clips (knocks, footsteps, TV music, alarms) are
synthesised, and so is everything when no audio folder is found, so the demo runs anywhere.
Every second is a pure function of (label, voices, second,
key): asking for the same window twice, or windows in any order, gives the same samples.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import wave
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np

from hub.errors import AudioError
from hub.sensing.audio.classes import CLASSES, SAMPLE_RATE

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Samples = NDArray[np.float32]

_LOGGER = logging.getLogger(__name__)

ENV_AUDIO_DIR: Final = "HOMEHUB_AUDIO_DIR"
REPO_AUDIO_DIR: Final = Path(__file__).resolve().parents[3] / "shared" / "data" / "audio"
"""``../shared/data/audio`` next to the repository checkout (the shared data set)."""

LEVELS_DBFS: Final[dict[str, float]] = {
    "quiet": -62.0,  # room tone of a quiet flat at a wall-mounted I2S microphone
    "speech": -26.0,  # conversational speech at 1-3 m
    "conversation": -24.0,
    "tv": -28.0,
    "snoring": -30.0,
    "footsteps": -36.0,
    "door": -30.0,
    "knock": -30.0,
    "water": -32.0,
    "kitchen": -30.0,
    "alarm": -24.0,
    "baby": -26.0,
}
"""RMS level of each sound's foreground, dB relative to full scale."""

TURN_S: Final = 2
"""Seconds per speaker turn in a conversation (Speech Commands clips are single words)."""

TV_VOICES: Final = 8
"""Speakers the TV talks with."""
TV_VOICE_BASE: Final = 10_000
"""Voice numbers from here on are the TV's and fill-in talkers (people have small numbers)."""

NO_SNORING_BLOCK: Final[dict[str, int]] = {"door": 2, "conversation": 8, "tv": 9}
"""Which 50-clip block of ``no_snoring/0_<i>.wav`` holds door, talking and TV news clips (the
set is unlabelled; the audio model's dataset builder identified the blocks by spectrogram)."""
LONG_TRAIN_FRACTION: Final = 0.7
"""The model trains on the first 70% of each long background recording; we play the rest."""

_SECOND: Final = SAMPLE_RATE
_FRAME: Final = 320
"""20 ms frames for finding the active part of a clip."""
_SPEAKER = re.compile(r"^[a-z]+_([0-9a-f]{8})_nohash_\d+\.wav$")


def resolve_audio_dir(audio_dir: Path | None = None) -> Path | None:
    """The audio folder: the argument, else ``$HOMEHUB_AUDIO_DIR``, else the shared data set."""
    if audio_dir is not None:
        if not audio_dir.is_dir():
            raise AudioError(f"audio folder {audio_dir} does not exist")
        return audio_dir
    env = os.environ.get(ENV_AUDIO_DIR)
    if env:
        if not Path(env).is_dir():
            raise AudioError(f"{ENV_AUDIO_DIR}={env} is not a folder")
        return Path(env)
    return REPO_AUDIO_DIR if REPO_AUDIO_DIR.is_dir() else None


def mix(a: int, b: int) -> int:
    """A 64-bit hash of two integers (splitmix64 finaliser): cheap counter-based randomness."""
    z = (a * 0x9E3779B97F4A7C15 + b + 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return z ^ (z >> 31)


class SoundBank:
    """Level-normalised clips and synthesised sounds, loaded on first use and kept in memory."""

    def __init__(self, audio_dir: Path | None, seed: int, *, held_out: bool = True) -> None:
        self.audio_dir = audio_dir
        self.seed = seed
        self.held_out = held_out
        """Use only the clips the shipped sound model never trained on (see ``is_held_out``)."""
        self._lock = threading.Lock()
        self._buffers: dict[str, Samples] = {}
        self._clips: dict[str, list[Samples]] = {}
        self._speaker_files: list[list[Path]] | None = None
        self._speakers: dict[int, list[Samples]] = {}

    @property
    def real(self) -> bool:
        """Whether real clips are used (False: everything is synthesised)."""
        return self.audio_dir is not None

    def second(self, label: str, voices: Sequence[int], index: int, key: int) -> Samples:
        """One second of a room: room tone plus the sound ``label`` (voices: who is talking)."""
        if label not in LEVELS_DBFS:
            raise AudioError(f"unknown sound label {label!r}; expected one of {CLASSES}")
        out = self._slice("tone", key) * _gain("quiet")
        if label != "quiet":
            out += self._foreground(label, voices, index, key) * _gain(label)
        return out

    def _foreground(self, label: str, voices: Sequence[int], index: int, key: int) -> Samples:
        if label == "speech":
            return self._speech(voices[0] if voices else 0, key)
        if label == "conversation":
            return self._conversation(voices, index, key)
        if label == "tv":
            news = self._real_clips("tv")
            if news and key % 3:
                return news[(key >> 3) % len(news)].copy()
            voice = TV_VOICE_BASE + (key >> 20) % TV_VOICES
            return self._speech(voice, key) * 0.8 + self._slice("music", key >> 7) * 0.5
        if label in {"snoring", "door"}:
            clips = self._real_clips(label)
            if clips:
                return clips[key % len(clips)].copy()
            return self._slice(f"{label}_synth", key)
        source = {"kitchen": "dishes", "water": "tap"}.get(label, label)
        return self._slice(source, key)

    def _speech(self, voice: int, key: int) -> Samples:
        """One or two words of one speaker somewhere in the second."""
        out = np.zeros(_SECOND, np.float32)
        words = self._speaker(voice)
        pos = int((key >> 5) % 2000) * 2
        for k in range(1 + (key >> 17) % 2):
            word = words[(key + 7 * k) % len(words)]
            pos = _put(out, word, pos) + 800 + (key >> (21 + k)) % 2400
        return out

    def _conversation(self, voices: Sequence[int], index: int, key: int) -> Samples:
        """Voices taking turns inside the second: a word, the next speaker cutting in, and so on."""
        talkers = list(dict.fromkeys(voices))
        while len(talkers) < 2:
            talkers.append(TV_VOICE_BASE + TV_VOICES + len(talkers))
        out = np.zeros(_SECOND, np.float32)
        first = index // TURN_S
        pos = int((key >> 4) % 1600)
        for k in range(3):
            if pos >= _SECOND - 1600:
                break
            words = self._speaker(talkers[(first + k) % len(talkers)])
            word = words[(key >> (3 * k)) % len(words)][: int(0.55 * _SECOND)]
            # Overlaps and short gaps: people do not wait for silence.
            pos = _put(out, word, pos) - 800 + int((key >> (9 + 4 * k)) % 2800)
        return out

    def _slice(self, name: str, key: int) -> Samples:
        """One second from a cached buffer at an offset picked by ``key``."""
        buffer = self._buffer(name)
        if name in _EVENTS:
            return buffer[(key % (len(buffer) // _SECOND)) * _SECOND :][:_SECOND].copy()
        start = key % (len(buffer) - _SECOND)
        return buffer[start : start + _SECOND].copy()

    def _buffer(self, name: str) -> Samples:
        found = self._buffers.get(name)
        if found is None:
            with self._lock:
                found = self._buffers.get(name)
                if found is None:
                    found = self._buffers[name] = self._make_buffer(name)
        return found

    def _make_buffer(self, name: str) -> Samples:
        real_file = {"dishes": "doing_the_dishes.wav", "tap": "running_tap.wav"}.get(name)
        if real_file and self.audio_dir is not None:
            path = self.audio_dir / "background_noise" / real_file
            if path.is_file():
                samples = read_wav(path)
                if self.held_out:
                    samples = samples[int(len(samples) * LONG_TRAIN_FRACTION) :]
                # A continuous recording: its plain RMS is its level.
                rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
                return (samples / max(rms, 1e-6)).astype(np.float32)
            _LOGGER.warning("%s missing; synthesising %s", path, name)
        rng = np.random.default_rng([self.seed, _name_id(name)])
        return _normalise(_SYNTH[name](rng))

    def _real_clips(self, label: str) -> list[Samples]:
        """Held-out real clips for a label (empty when there are none)."""
        found = self._clips.get(label)
        if found is None:
            with self._lock:
                found = self._clips[label] = [
                    _fit(_normalise(read_wav(p))) for p in self._clip_files(label)
                ]
        return found

    def _clip_files(self, label: str) -> list[Path]:
        if self.audio_dir is None:
            return []
        if label == "snoring":
            folder, block_offset, first, count = "snoring", 100, 0, 500
        else:
            block = NO_SNORING_BLOCK[label]
            folder, block_offset, first, count = "no_snoring", 0, 50 * block, 50
        prefix = "1" if folder == "snoring" else "0"
        out = []
        for i in range(first, first + count):
            if self.held_out and not is_held_out(i, block_offset):
                continue
            path = self.audio_dir / folder / f"{prefix}_{i}.wav"
            if path.is_file():
                out.append(path)
        return out

    def _speaker(self, voice: int) -> list[Samples]:
        found = self._speakers.get(voice)
        if found is not None:
            return found
        with self._lock:
            files = self._speaker_list()
            if files:
                clips = [_active(_normalise(read_wav(p))) for p in files[voice % len(files)]]
            else:
                rng = np.random.default_rng([self.seed, _name_id("voice"), voice])
                clips = [_active(_normalise(_synth_word(rng, voice))) for _ in range(6)]
            self._speakers[voice] = clips
        return clips

    def _speaker_list(self) -> list[list[Path]]:
        if self._speaker_files is None:
            by_speaker: dict[str, list[Path]] = {}
            folder = self.audio_dir / "speech_commands" if self.audio_dir else None
            if folder is not None and folder.is_dir():
                for path in sorted(folder.iterdir()):
                    match = _SPEAKER.match(path.name)
                    if match and (not self.held_out or is_held_out_speaker(match.group(1))):
                        by_speaker.setdefault(match.group(1), []).append(path)
            speakers = [v for _, v in sorted(by_speaker.items()) if len(v) >= 2]
            order = np.random.default_rng([self.seed, _name_id("speakers")]).permutation(
                len(speakers)
            )
            self._speaker_files = [speakers[i] for i in order]
        return self._speaker_files


def is_held_out_speaker(speaker: str) -> bool:
    """Whether a Speech Commands speaker is in the sound model's held-out split."""
    return zlib.crc32(speaker.encode()) % 5 == 0


def is_held_out(index: int, block_offset: int = 0) -> bool:
    """Whether clip ``index`` of a 50-clip block is in the model's held-out group of ten."""
    block = block_offset + index // 50
    return (index % 50) // 10 == (block * 3 + 1) % 5


def read_wav(path: Path) -> Samples:
    """A 16 kHz 16-bit WAV as float32 mono in [-1, 1]; stereo is averaged."""
    try:
        with wave.open(str(path), "rb") as w:
            rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            raw = w.readframes(w.getnframes())
    except (OSError, wave.Error, EOFError) as err:
        raise AudioError(f"{path}: not a readable WAV file: {err}") from err
    if rate != SAMPLE_RATE or width != 2:
        raise AudioError(f"{path}: expected 16 kHz 16-bit PCM, got {rate} Hz {8 * width}-bit")
    samples = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1, dtype=np.float32)
    return samples


def to_int16(samples: Samples) -> NDArray[np.int16]:
    """Float samples in [-1, 1] to clipped int16 PCM."""
    out: NDArray[np.int16] = np.clip(np.rint(samples * 32767.0), -32768, 32767).astype(np.int16)
    return out


def _gain(label: str) -> float:
    return float(10.0 ** (LEVELS_DBFS[label] / 20.0))


def _normalise(samples: Samples) -> Samples:
    """Scale so the active part (frames above a tenth of the loudest) has unit RMS."""
    usable = len(samples) // _FRAME * _FRAME
    if usable == 0:
        return samples.astype(np.float32)
    frames = samples[:usable].reshape(-1, _FRAME)
    rms = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1))
    active = rms[rms >= 0.1 * rms.max()]
    level = float(np.sqrt((active**2).mean())) if active.size else 0.0
    if level < 1e-6:
        return np.zeros_like(samples, dtype=np.float32)
    return (samples / level).astype(np.float32)


def _fit(samples: Samples) -> Samples:
    """Exactly one second: pad with silence or cut."""
    if len(samples) >= _SECOND:
        return samples[:_SECOND]
    return np.concatenate([samples, np.zeros(_SECOND - len(samples), np.float32)])


def _active(samples: Samples) -> Samples:
    """The spoken part of a word clip: first to last frame above a tenth of the loudest."""
    usable = len(samples) // _FRAME * _FRAME
    frames = samples[:usable].reshape(-1, _FRAME)
    rms = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1))
    if not rms.size or rms.max() <= 0:
        return samples[:_FRAME].copy()
    loud = np.flatnonzero(rms >= 0.1 * rms.max())
    if len(loud) == 0:
        return samples[:_FRAME].copy()
    return samples[loud[0] * _FRAME : (loud[-1] + 1) * _FRAME].copy()


def _put(out: Samples, clip: Samples, pos: int) -> int:
    """Add ``clip`` into ``out`` at ``pos`` (cut at the end); return where it ended."""
    pos = max(0, pos)
    end = min(len(out), pos + len(clip))
    if end > pos:
        out[pos:end] += clip[: end - pos]
    return end


def _name_id(name: str) -> int:
    return int.from_bytes(name.encode()[:8].ljust(8, b"\0"), "little")


# Synthesised sounds: one buffer each, several seconds long, made once per bank.

_T = np.arange(_SECOND, dtype=np.float64) / SAMPLE_RATE


def _pinkish(rng: np.random.Generator, n: int) -> NDArray[np.float64]:
    """Noise with a 1/f-like slope (sum of first-order low-passed white noise)."""
    white = rng.standard_normal(n)
    spectrum = np.fft.rfft(white)
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    spectrum /= np.sqrt(np.maximum(freqs, 20.0))
    out: NDArray[np.float64] = np.fft.irfft(spectrum, n)
    return out


def _decay(length_s: float, tau_s: float) -> NDArray[np.float64]:
    t = np.arange(int(length_s * SAMPLE_RATE)) / SAMPLE_RATE
    out: NDArray[np.float64] = np.exp(-t / tau_s)
    return out


def _place(out: NDArray[np.float64], event: NDArray[np.float64], at: int) -> None:
    end = min(len(out), at + len(event))
    out[at:end] += event[: end - at]


def _synth_tone(rng: np.random.Generator) -> Samples:
    t = np.arange(10 * _SECOND) / SAMPLE_RATE
    hum = 0.05 * np.sin(2 * np.pi * 50 * t)  # mains hum, faint
    return (_pinkish(rng, len(t)) / 3e2 + hum / 50).astype(np.float32)


def _synth_music(rng: np.random.Generator) -> Samples:
    """Chords that change every half second: enough to read as music under TV speech."""
    roots = [220.0, 246.9, 196.0, 261.6, 174.6, 293.7]
    out = np.zeros(8 * _SECOND)
    half = _SECOND // 2
    env = _decay(0.5, 0.25)[:half]
    t = np.arange(half) / SAMPLE_RATE
    for i in range(len(out) // half):
        root = roots[int(rng.integers(len(roots)))]
        chord = sum(np.sin(2 * np.pi * root * r * t) for r in (1.0, 1.26, 1.5, 2.0))
        out[i * half : (i + 1) * half] = chord * env
    return out.astype(np.float32)


def _synth_footsteps(rng: np.random.Generator) -> Samples:
    out = np.zeros(8 * _SECOND)
    step = _decay(0.08, 0.015) * np.sin(2 * np.pi * 90 * np.arange(int(0.08 * _SECOND)) / _SECOND)
    for s in range(8):
        for base in (0.1, 0.6):
            at = int((s + base + rng.uniform(-0.05, 0.05)) * _SECOND)
            click = rng.standard_normal(len(step)) * _decay(0.08, 0.004)
            _place(out, step + 0.3 * click, at)
    return out.astype(np.float32)


def _synth_door(rng: np.random.Generator) -> Samples:
    out = np.zeros(8 * _SECOND)
    for s in range(8):
        creak_t = np.arange(int(0.35 * _SECOND)) / _SECOND
        creak = np.sin(2 * np.pi * (300 + 500 * creak_t) * creak_t) * 0.3
        thump = _decay(0.3, 0.06) * np.sin(2 * np.pi * 70 * np.arange(int(0.3 * _SECOND)) / _SECOND)
        latch = rng.standard_normal(int(0.02 * _SECOND)) * _decay(0.02, 0.003)
        at = int((s + rng.uniform(0.05, 0.3)) * _SECOND)
        _place(out, creak, at)
        _place(out, thump + np.pad(latch, (0, len(thump) - len(latch))), at + len(creak))
    return out.astype(np.float32)


def _synth_knock(rng: np.random.Generator) -> Samples:
    out = np.zeros(8 * _SECOND)
    n = int(0.06 * _SECOND)
    knock = _decay(0.06, 0.01) * (
        np.sin(2 * np.pi * 180 * np.arange(n) / _SECOND) + 0.5 * rng.standard_normal(n)
    )
    for s in range(8):
        start = s + rng.uniform(0.05, 0.3)
        for k in range(3):
            _place(out, knock, int((start + 0.17 * k) * _SECOND))
    return out.astype(np.float32)


def _synth_alarm(rng: np.random.Generator) -> Samples:
    t = np.arange(2 * _SECOND) / SAMPLE_RATE
    gate = (np.floor(t * 4) % 2 == 0).astype(np.float64)
    beeps: Samples = (np.sin(2 * np.pi * 3000 * t) * gate).astype(np.float32)
    return beeps + 0.01 * rng.standard_normal(len(t)).astype(np.float32)


def _synth_baby(rng: np.random.Generator) -> Samples:
    t = np.arange(4 * _SECOND) / SAMPLE_RATE
    f0 = 450 + 60 * np.sin(2 * np.pi * 3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    wail = sum(np.sin(k * phase) / k for k in range(1, 6))
    env = np.clip(np.sin(2 * np.pi * 0.6 * t), 0, None)
    return (wail * env + 0.02 * rng.standard_normal(len(t))).astype(np.float32)


def _synth_dishes(rng: np.random.Generator) -> Samples:
    out = _pinkish(rng, 10 * _SECOND) / 200
    n = int(0.05 * _SECOND)
    for at in rng.integers(0, len(out) - n, 60):
        ring = np.sin(2 * np.pi * rng.uniform(2000, 5000) * np.arange(n) / _SECOND)
        _place(out, ring * _decay(0.05, 0.01), int(at))
    return out.astype(np.float32)


def _synth_tap(rng: np.random.Generator) -> Samples:
    white = rng.standard_normal(10 * _SECOND)
    hiss: Samples = np.diff(white, prepend=0.0).astype(np.float32)
    return hiss


def _synth_snore(rng: np.random.Generator) -> Samples:
    t = np.arange(8 * _SECOND) / SAMPLE_RATE
    rumble = np.convolve(rng.standard_normal(len(t)), np.ones(40) / 40, mode="same")
    rumble *= 1 + np.sin(2 * np.pi * 35 * t)  # palate flutter
    env = np.clip(np.sin(2 * np.pi * 0.5 * t), 0, None) ** 2
    snore: Samples = (rumble * env).astype(np.float32)
    return snore


def _synth_word(rng: np.random.Generator, voice: int) -> Samples:
    """A voiced syllable or two: harmonics of a per-voice pitch under a syllable envelope."""
    f0 = 100.0 + (voice * 37) % 130
    formant = rng.uniform(500, 900)
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.05 * np.sin(2 * np.pi * 3 * _T))) / SAMPLE_RATE
    harmonics = sum(np.sin(k * phase) / (1 + abs(k * f0 - formant) / 300) for k in range(1, 20))
    start, length = rng.uniform(0.1, 0.3), rng.uniform(0.3, 0.6)
    env = np.clip(np.sin(np.pi * (_T - start) / length), 0, None) * (
        (start < _T) & (start + length > _T)
    )
    return (harmonics * env).astype(np.float32)


_SYNTH: Final[dict[str, Callable[[np.random.Generator], Samples]]] = {
    "tone": _synth_tone,
    "music": _synth_music,
    "footsteps": _synth_footsteps,
    "knock": _synth_knock,
    "alarm": _synth_alarm,
    "baby": _synth_baby,
    "dishes": _synth_dishes,
    "tap": _synth_tap,
    "snoring_synth": _synth_snore,
    "door_synth": _synth_door,
}
_EVENTS: Final = frozenset({"footsteps", "door_synth", "knock"})
"""Buffers made of one event per second: slice them on second boundaries so none is cut."""
