"""The shipped model, through the hub's loader, on real held-out clips."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import zlib
from importlib import resources

import numpy as np
import pytest

from hub.errors import AudioError
from hub.sensing.audio import CLASSES, EnergyClassifier, TFLiteClassifier, load_default_classifier
from hub.sensing.audio.classifier import META_FILE, MODEL_FILE
from models import dataset
from tests.audio.conftest import read_clip

PACKAGE = resources.files("hub.sensing.audio")


@pytest.fixture(scope="module")
def model() -> TFLiteClassifier:
    return TFLiteClassifier.from_package()


def held_out(folder: str, block: int, count: int) -> list[str]:
    """Names of real clips from the held-out group of a 50-clip block (see models/dataset.py)."""
    group = dataset._held_group(block)
    first = (block % 100) * 50 + group * 10
    prefix = "1" if block >= 100 else "0"
    return [f"{prefix}_{i}.wav" for i in range(first, first + count)]


def test_model_is_small_int8_and_in_the_package() -> None:
    blob = PACKAGE.joinpath(MODEL_FILE).read_bytes()
    assert len(blob) <= 256 * 1024
    meta = json.loads(PACKAGE.joinpath(META_FILE).read_text())
    assert meta["classes"] == list(CLASSES)


def test_outputs_are_probabilities(model: TFLiteClassifier) -> None:
    scores = model.classify(np.zeros((2, 16000), np.int16))
    assert scores.shape == (2, len(CLASSES))
    assert np.allclose(scores.sum(axis=1), 1.0, atol=0.05)


@pytest.mark.parametrize(
    ("folder", "block", "label"),
    [
        ("snoring", 100, "snoring"),
        ("snoring", 105, "snoring"),
        ("no_snoring", 2, "door"),
        ("no_snoring", 0, "baby"),
    ],
)
def test_real_held_out_clips_get_their_class(audio_data, model, folder, block, label) -> None:
    names = held_out(folder, block, 10)
    pcm = np.stack([read_clip(audio_data / folder / n) for n in names])
    top = [CLASSES[i] for i in model.classify(pcm).argmax(axis=1)]
    assert top.count(label) >= 8, top


def test_held_out_speakers_are_one_voice(audio_data, model) -> None:
    paths = sorted(
        p
        for p in (audio_data / "speech_commands").glob("*.wav")
        if zlib.crc32(p.stem.split("_")[1].encode()) % 5 == 0
    )[:40]
    pcm = np.zeros((len(paths), 16000), np.int16)
    for row, p in zip(pcm, paths, strict=True):
        clip = read_clip(p)[:16000]
        row[: len(clip)] = clip
    top = [CLASSES[i] for i in model.classify(pcm).argmax(axis=1)]
    assert top.count("speech") + top.count("conversation") >= 36, top
    assert top.count("speech") >= 24, top
    assert "snoring" not in top


def test_quiet_room_is_quiet(model) -> None:
    hiss = np.random.default_rng(0).normal(0, 3, (3, 16000)).astype(np.int16)
    assert [CLASSES[i] for i in model.classify(hiss).argmax(axis=1)] == ["quiet"] * 3


def test_model_for_other_classes_is_refused() -> None:
    blob = PACKAGE.joinpath(MODEL_FILE).read_bytes()
    meta = json.loads(PACKAGE.joinpath(META_FILE).read_text())
    with pytest.raises(AudioError, match="classes"):
        TFLiteClassifier(blob, {**meta, "classes": ["quiet", "speech"]})
    with pytest.raises(AudioError, match="front end"):
        TFLiteClassifier(blob, {**meta, "frontend": {**meta["frontend"], "n_mels": 64}})


def test_corrupt_model_is_refused() -> None:
    meta = json.loads(PACKAGE.joinpath(META_FILE).read_text())
    with pytest.raises(AudioError, match="TFLite"):
        TFLiteClassifier(b"not a flatbuffer at all" * 10, meta)


def test_missing_runtime_falls_back_to_loudness_with_a_warning(caplog) -> None:
    with caplog.at_level(logging.WARNING):
        classifier = load_default_classifier(runtime="no_such_runtime")
    assert isinstance(classifier, EnergyClassifier)
    assert "no_such_runtime" in caplog.text


def test_default_loader_gives_the_model() -> None:
    assert isinstance(load_default_classifier(), TFLiteClassifier)


def test_the_runtime_is_imported_lazily() -> None:
    code = (
        "import sys, hub.sensing.audio, hub.cli\n"
        "hub.cli.build_parser()\n"
        "runtimes = ('ai_edge_litert', 'tflite_runtime')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in runtimes))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
