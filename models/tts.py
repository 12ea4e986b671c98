"""Synthesised voices (espeak-ng) for training only: more distinct speakers for turn-taking.

Each voice is (accent, variant, pitch); the held-out split never uses them, so the held-out
figures stay on real speakers. WAVs are cached under models/.cache/tts (never committed).
"""

from __future__ import annotations

import shutil
import subprocess
import wave
import zlib
from pathlib import Path

import numpy as np

from hub.sensing.audio.resample import resample

CACHE = Path(__file__).resolve().parent / ".cache" / "tts"
ACCENTS = ("en-gb", "en-us", "en-gb-scotland", "en-029", "en-gb-x-rp", "en-gb-x-gbclan")
PHRASES = (
    "turn it off",
    "left",
    "where is the house",
    "one more",
    "I'll learn it",
    "okay then",
    "no, not that",
    "come here",
    "what time is it",
    "marvin",
    "go on",
    "yes please",
)


def variants() -> list[str]:
    out = subprocess.run(
        ["espeak-ng", "--voices=variant"], capture_output=True, text=True, check=True
    )
    return [line.split()[3] for line in out.stdout.splitlines()[1:] if len(line.split()) > 3]


def voices(count: int = 80, seed: int = 7) -> dict[str, list[np.ndarray]]:
    """``count`` synthetic speakers, each with its phrases as float32 at 16 kHz."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    rng = np.random.default_rng(seed)
    names = variants()
    out: dict[str, list[np.ndarray]] = {}
    CACHE.mkdir(parents=True, exist_ok=True)
    for k in range(count):
        accent = ACCENTS[int(rng.integers(len(ACCENTS)))]
        variant = names[int(rng.integers(len(names)))]
        pitch, speed = int(rng.integers(15, 90)), int(rng.integers(130, 200))
        speaker = f"tts-{accent}-{variant}-{pitch}"
        clips = []
        for j, phrase in enumerate(PHRASES):
            path = CACHE / f"{zlib.crc32(speaker.encode()):08x}-{j}.wav"
            if not path.exists():
                subprocess.run(
                    [
                        "espeak-ng",
                        "-v",
                        f"{accent}+{variant}",
                        "-p",
                        str(pitch),
                        "-s",
                        str(speed),
                        "-w",
                        str(path),
                        phrase,
                    ],
                    check=True,
                    capture_output=True,
                )
            with wave.open(str(path), "rb") as w:
                x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
                rate = w.getframerate()
            clips.append(resample(x, rate, 16000))
        out[speaker] = clips
    return out
