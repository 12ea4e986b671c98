"""The firmware's crypto figures, printed with ``-s`` for the README; no timing asserts."""

from __future__ import annotations

import re

import pytest

from tests.firmware.conftest import FIRMWARE, run_mpy

pytestmark = [pytest.mark.firmware, pytest.mark.benchmark]


def test_bench_prints_every_figure(micropython: str) -> None:
    out = run_mpy(micropython, (FIRMWARE / "tools" / "bench.py").read_text(), timeout=120)
    print("\n" + out)
    batches = re.findall(
        r"^batch ads=(\d+) .* seal_ms=([\d.]+) seal_portable_ms=([\d.]+)$", out, re.M
    )
    assert [b[0] for b in batches] == ["16", "16", "4", "1"]
    assert re.search(r"^x25519_ms=[\d.]+$", out, re.M)
    assert re.search(r"^handshake_ms=[\d.]+$", out, re.M)
