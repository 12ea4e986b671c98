"""``homehub audio classify``: per-second sound classes of a WAV recording."""

from __future__ import annotations

import argparse
import json
import sys
import wave
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import AudioError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

SAMPLE_WIDTHS = {1: "u1", 2: "<i2", 4: "<i4"}
"""WAV integer PCM sample widths we read (8-bit WAV is unsigned)."""


def register(sub: Any) -> None:
    """Add the ``audio`` command group."""
    group = sub.add_parser("audio", help="sound-event model tools")
    commands = group.add_subparsers(dest="audio_command", required=True, metavar="SUBCOMMAND")
    classify = commands.add_parser(
        "classify", help="print the top class and every class score for each second of a WAV"
    )
    classify.add_argument("file", type=Path, metavar="FILE.wav")
    classify.add_argument("--json", action="store_true", help="one JSON object per line")
    classify.set_defaults(func=_classify)


def read_wav(path: Path) -> tuple[npt.NDArray[np.float32], int]:
    """Mono float samples in [-1, 1] and the sample rate of an integer-PCM WAV file."""
    import numpy as np  # noqa: PLC0415 - keeps `homehub --help` fast

    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except (OSError, EOFError, wave.Error) as err:
        msg = f"{path}: not a readable WAV file ({err})"
        raise AudioError(msg) from err
    if width not in SAMPLE_WIDTHS:
        msg = f"{path}: {8 * width}-bit samples; expected 8, 16 or 32-bit integer PCM"
        raise AudioError(msg)
    if channels < 1 or rate <= 0:
        msg = f"{path}: {channels} channels at {rate} Hz is not audio"
        raise AudioError(msg)
    frames = len(raw) // (width * channels)
    samples = np.frombuffer(raw[: frames * width * channels], dtype=SAMPLE_WIDTHS[width])
    x = samples.reshape(frames, channels).astype(np.float64).mean(axis=1)
    if width == 1:
        x = (x - 128.0) / 128.0
    else:
        x /= float(2 ** (8 * width - 1))
    return x.astype(np.float32), rate


def classify_file(path: Path) -> list[tuple[int, str, tuple[float, ...]]]:
    """(second, top class, scores) for each whole second of the recording at ``path``."""
    import numpy as np  # noqa: PLC0415

    from hub.sensing.audio import SAMPLE_RATE, RoomAudio, load_default_classifier  # noqa: PLC0415
    from hub.sensing.audio.resample import resample  # noqa: PLC0415

    x, rate = read_wav(path)
    x = resample(x, rate, SAMPLE_RATE)
    n = len(x) // SAMPLE_RATE
    if n == 0:
        msg = f"{path}: shorter than one second; nothing to classify"
        raise AudioError(msg)
    pcm = np.clip(np.round(x[: n * SAMPLE_RATE] * 32768.0), -32768, 32767).astype(np.int16)
    room = RoomAudio(load_default_classifier())
    return [(t, s.top, s.scores) for t, s in enumerate(room.classify(pcm.reshape(n, SAMPLE_RATE)))]


def _classify(args: argparse.Namespace) -> int:
    """Print one line per second."""
    from hub.sensing.audio import CLASSES  # noqa: PLC0415

    for t, top, scores in classify_file(args.file):
        if args.json:
            line = json.dumps(
                {
                    "t": t,
                    "top": top,
                    "scores": dict(zip(CLASSES, (round(v, 4) for v in scores), strict=True)),
                }
            )
        else:
            line = f"{t:6d}s {top:<13}" + " ".join(
                f"{name}={v:.2f}" for name, v in zip(CLASSES, scores, strict=True)
            )
        sys.stdout.write(line + "\n")
    return 0
