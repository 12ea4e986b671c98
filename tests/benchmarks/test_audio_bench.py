"""The audio path PCM -> per-second class scores: speed on one core, 8 rooms, load time, RSS.

Prints figures; asserts only that the work was done (no timing assertions).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from hub.sensing.audio import RoomAudio, TFLiteClassifier
from models import dataset

pytestmark = pytest.mark.benchmark

REPEATS = 5
"""Timed runs; the best is printed (the machine is shared, the median too)."""
CHUNK = 1024
"""Bytes per push: ESPHome's voice_assistant sends 512-sample (1024-byte) audio chunks."""


@pytest.fixture(scope="module")
def pcm() -> np.ndarray:
    """60 s of held-out material of every class, as one stream."""
    return dataset.build("test", per_class=5).pcm.reshape(-1)


@pytest.fixture(autouse=True)
def one_core():
    """Pin to one core so the figures are per core (restored afterwards)."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    yield
    os.sched_setaffinity(0, before)


def stream(room: RoomAudio, pcm: np.ndarray) -> int:
    """Push PCM as the link does, classifying every whole second; returns seconds classified."""
    raw = pcm.tobytes()
    n = 0
    for i in range(0, len(raw), CHUNK):
        room.push(raw[i : i + CHUNK])
        seconds = room.take_seconds()
        if len(seconds):
            n += len(room.classify(seconds))
    return n


def test_real_time_factor_one_room(pcm) -> None:
    room = RoomAudio(TFLiteClassifier.from_package())
    stream(room, pcm[:16000])  # warm-up
    runs = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        n = stream(room, pcm)
        runs.append(time.perf_counter() - t0)
        assert n == len(pcm) // 16000
    best, median = min(runs), sorted(runs)[len(runs) // 2]
    print(
        f"\naudio path, 1 room, 1 core: {n} s of audio, best {n / best:.0f}x real time"
        f" ({1000 * best / n:.2f} ms per second), median {n / median:.0f}x"
    )


def test_eight_rooms_at_once(pcm) -> None:
    classifier = TFLiteClassifier.from_package()
    rooms = [RoomAudio(classifier) for _ in range(8)]
    runs = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            counts = list(pool.map(stream, rooms, [pcm] * 8))
        runs.append(time.perf_counter() - t0)
        total = sum(counts)
        assert total == 8 * (len(pcm) // 16000)
    took = min(runs)
    print(
        f"\naudio path, 8 rooms in 8 threads, 1 core: {total} s in {took:.3f} s = "
        f"{total / took:.0f}x real time in all, {total / took / 8:.0f}x per room"
    )


def test_model_load_time() -> None:
    t0 = time.perf_counter()
    TFLiteClassifier.from_package()
    warm = time.perf_counter() - t0
    code = (
        "import time; t0 = time.perf_counter()\n"
        "from hub.sensing.audio import TFLiteClassifier; TFLiteClassifier.from_package()\n"
        "print(time.perf_counter() - t0)"
    )
    cold = float(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )
    print(
        f"\nmodel load: {1000 * warm:.1f} ms (runtime already imported), "
        f"{1000 * cold:.0f} ms cold (import runtime + load) in a fresh process"
    )


def test_rss_added_by_the_audio_path() -> None:
    code = (
        "import numpy as np\n"
        "def rss():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmRSS'): return int(line.split()[1])\n"
        "before = rss()\n"
        "from hub.sensing.audio import RoomAudio, load_default_classifier\n"
        "c = load_default_classifier()\n"
        "rooms = [RoomAudio(c) for _ in range(8)]\n"
        "x = np.random.default_rng(0).normal(0, 2000, 16000 * 30).astype(np.int16).tobytes()\n"
        "for room in rooms:\n"
        "    for i in range(0, len(x), 1024):\n"
        "        room.push(x[i:i + 1024]); room.classify(room.take_seconds())\n"
        "print(before, rss(), type(c).__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after, kind = out.stdout.split()
    assert kind == "TFLiteClassifier"
    print(
        f"\nRSS added by the audio path (runtime, model, 8 rooms after 30 s each): "
        f"{(int(after) - int(before)) / 1024:.1f} MB (numpy already loaded)"
    )
