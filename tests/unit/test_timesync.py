"""Clock synchronisation and jump detection."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hub.errors import ClockNotSynchronised
from hub.timesync import (
    JumpDetector,
    is_clock_synchronised,
    parse_timedatectl,
    require_synchronised_clock,
)


def test_flag_file_means_synchronised(tmp_path: Path) -> None:
    flag = tmp_path / "synchronized"
    flag.touch()
    assert is_clock_synchronised(flag, run=lambda argv: "no\n")


def test_without_flag_asks_timedatectl(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def run(argv: list[str]) -> str:
        calls.append(argv)
        return "yes\n"

    assert is_clock_synchronised(tmp_path / "absent", run=run)
    assert calls[0][:2] == ["timedatectl", "show"]
    assert not is_clock_synchronised(tmp_path / "absent", run=lambda argv: "no\n")


def test_timedatectl_missing_means_not_synchronised(tmp_path: Path) -> None:
    def run(argv: list[str]) -> str:
        raise FileNotFoundError(argv[0])

    assert not is_clock_synchronised(tmp_path / "absent", run=run)

    def stuck(argv: list[str]) -> str:
        raise subprocess.TimeoutExpired(argv, 5)

    with pytest.raises(ClockNotSynchronised, match="not synchronised"):
        require_synchronised_clock(tmp_path / "absent", run=stuck)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("yes\n", True),
        ("no\n", False),
        ("Timezone=UTC\nNTPSynchronized=yes\n", True),
        ("NTP=yes\nNTPSynchronized=no\n", False),
        ("", False),
    ],
)
def test_parse_timedatectl(output: str, expected: bool) -> None:
    assert parse_timedatectl(output) is expected


class FakeTime:
    def __init__(self) -> None:
        self.wall = 100.0
        self.mono = 5.0

    def advance(self, seconds: float, jump: float = 0.0) -> None:
        self.wall += seconds + jump
        self.mono += seconds


def test_jump_detector_sees_boot_time_step() -> None:
    t = FakeTime()
    detector = JumpDetector(wall=lambda: t.wall, monotonic=lambda: t.mono)
    t.advance(60)
    assert detector.check() is None
    t.advance(1, jump=1.7e9)
    jump = detector.check()
    assert jump is not None
    assert jump.seconds == pytest.approx(1.7e9)
    assert jump.wall_after - jump.wall_before == pytest.approx(1.7e9 + 1)
    t.advance(60)
    assert detector.check() is None


def test_jump_detector_tolerates_slewing_and_sees_backward_steps() -> None:
    t = FakeTime()
    detector = JumpDetector(tolerance_s=2.0, wall=lambda: t.wall, monotonic=lambda: t.mono)
    t.advance(3600, jump=0.5)
    assert detector.check() is None
    t.advance(10, jump=-30)
    jump = detector.check()
    assert jump is not None
    assert jump.seconds == pytest.approx(-30)
