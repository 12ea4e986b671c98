"""``homehub audio classify`` on WAVs of several rates and layouts, and on bad files."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from hub.cli import main
from hub.sensing.audio import CLASSES
from hub.sensing.audio.resample import resample
from tests.audio.conftest import read_clip, write_wav


@pytest.fixture(scope="module")
def snores(audio_data) -> np.ndarray:
    """Three seconds of real snoring (held-out clips), float at 16 kHz."""
    pcm = np.concatenate([read_clip(audio_data / "snoring" / f"1_{i}.wav") for i in (10, 11, 12)])
    return pcm.astype(np.float32) / 32768


@pytest.mark.parametrize("rate", [8000, 16000, 44100])
@pytest.mark.parametrize("channels", [1, 2])
def test_classifies_any_rate_mono_or_stereo(tmp_path, capsys, snores, rate, channels) -> None:
    path = write_wav(tmp_path / "snore.wav", resample(snores, 16000, rate), rate, channels)
    assert main(["audio", "classify", "--json", str(path)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["t"] for line in lines] == [0, 1, 2]
    for line in lines:
        assert set(line) == {"t", "top", "scores"}
        assert list(line["scores"]) == list(CLASSES)
        assert line["top"] == max(line["scores"], key=line["scores"].get)
    assert [line["top"] for line in lines].count("snoring") >= 2


def test_plain_output_has_one_line_per_second(tmp_path, capsys, snores) -> None:
    path = write_wav(tmp_path / "s.wav", snores[:32000], 16000, width=4)
    assert main(["audio", "classify", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].split()[0] == "0s" and "snoring=" in lines[0]


def test_eight_bit_wav(tmp_path, capsys, snores) -> None:
    path = write_wav(tmp_path / "s8.wav", snores[:16000], 16000, width=1)
    assert main(["audio", "classify", "--json", str(path)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"this is not audio at all", "not a readable WAV"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "not a readable WAV"),
        (b"", "not a readable WAV"),
    ],
)
def test_bad_files_get_a_clear_error_and_exit_1(tmp_path, capsys, content, expected) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    assert main(["audio", "classify", str(path)]) == 1
    err = capsys.readouterr().err
    assert expected in err and str(path) in err


def test_missing_file_and_too_short_file(tmp_path, capsys) -> None:
    assert main(["audio", "classify", str(tmp_path / "nope.wav")]) == 1
    assert "nope.wav" in capsys.readouterr().err
    short = write_wav(tmp_path / "short.wav", np.zeros(4000, np.float32), 16000)
    assert main(["audio", "classify", str(short)]) == 1
    assert "shorter than one second" in capsys.readouterr().err


def test_console_script_end_to_end(tmp_path, snores) -> None:
    path = write_wav(tmp_path / "s.wav", resample(snores, 16000, 22050), 22050, 2)
    out = subprocess.run(
        [sys.executable, "-m", "hub", "audio", "classify", "--json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(out.stdout.splitlines()) == 3


def test_console_script_bad_file(tmp_path) -> None:
    path = tmp_path / "x.wav"
    path.write_bytes(b"\x00" * 100)
    out = subprocess.run(
        [sys.executable, "-m", "hub", "audio", "classify", str(path)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    assert "x.wav" in out.stderr and "Traceback" not in out.stderr
