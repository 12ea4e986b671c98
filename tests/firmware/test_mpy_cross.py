"""Every firmware file compiles for the ESP32's Xtensa core."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.firmware.conftest import FIRMWARE

pytestmark = pytest.mark.firmware

SOURCES = sorted(FIRMWARE.glob("*.py"))


def test_there_are_sources() -> None:
    assert {p.name for p in SOURCES} >= {"main.py", "api.py", "noise.py", "mdns.py", "hw.py"}


@pytest.mark.parametrize("arch", ["xtensawin", "rv32imc"], ids=["esp32-s3", "esp32-c3"])
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_compiles_for_the_boards(mpy_cross: str, source: Path, arch: str, tmp_path: Path) -> None:
    out = tmp_path / (source.stem + ".mpy")
    proc = subprocess.run(
        [mpy_cross, f"-march={arch}", "-o", str(out), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:1] == b"M"


def test_a_syntax_error_fails(mpy_cross: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def broken(:\n    pass\n")
    proc = subprocess.run(
        [mpy_cross, "-march=xtensawin", str(bad)], capture_output=True, text=True, check=False
    )
    assert proc.returncode != 0
