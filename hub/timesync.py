"""Is the wall clock right? The Pi has no battery clock, so the hub asks systemd-timesyncd.

A day is only sealed once the clock is known to be synchronised (``is_clock_synchronised``),
and ``JumpDetector`` tells the app when the wall clock moved against the monotonic clock (the
jump from 1970 or the last shutdown time to real time at boot), so open minutes can be dropped
instead of being filed under the wrong day.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hub.errors import ClockNotSynchronised

_LOGGER = logging.getLogger(__name__)

SYNC_FLAG: Final = Path("/run/systemd/timesync/synchronized")
"""systemd-timesyncd (>= 239) touches this file once it has synchronised the clock."""
TIMEDATECTL_TIMEOUT_S: Final = 5.0
"""``timedatectl show`` answers in milliseconds; seconds means D-Bus is stuck at boot."""
JUMP_TOLERANCE_S: Final = 2.0
"""Wall-clock drift against monotonic beyond this is a jump, not NTP slewing (<= 0.5 ms/s)."""


def is_clock_synchronised(
    flag: Path = SYNC_FLAG,
    run: Callable[[list[str]], str] | None = None,
) -> bool:
    """True if systemd says the system clock is synchronised to a time source."""
    if flag.exists():
        return True
    try:
        out = (run or _run)(["timedatectl", "show", "--property=NTPSynchronized", "--value"])
    except (OSError, subprocess.SubprocessError) as err:
        _LOGGER.debug("timedatectl unavailable: %s", err)
        return False
    return parse_timedatectl(out)


def require_synchronised_clock(
    flag: Path = SYNC_FLAG, run: Callable[[list[str]], str] | None = None
) -> None:
    """Raise ``ClockNotSynchronised`` unless the clock is synchronised."""
    if not is_clock_synchronised(flag, run):
        raise ClockNotSynchronised(
            "the system clock is not synchronised (no NTP yet); days are not sealed until it is"
        )


def parse_timedatectl(output: str) -> bool:
    """Read ``timedatectl show`` output: a bare value or ``NTPSynchronized=yes`` lines."""
    for line in output.splitlines():
        key, sep, value = line.strip().partition("=")
        if not sep:
            key, value = "NTPSynchronized", key
        if key == "NTPSynchronized":
            return value.strip() == "yes"
    return False


def _run(argv: list[str]) -> str:
    return subprocess.run(
        argv, capture_output=True, text=True, check=True, timeout=TIMEDATECTL_TIMEOUT_S
    ).stdout


@dataclass(frozen=True, slots=True)
class ClockJump:
    """The wall clock moved by ``seconds`` more than the monotonic clock did."""

    seconds: float
    """Positive: the wall clock jumped forward (typically boot-time NTP)."""
    wall_before: float
    """Wall time at the previous check."""
    wall_after: float
    """Wall time now."""


class JumpDetector:
    """Compares wall and monotonic clocks between calls to ``check``."""

    def __init__(
        self,
        tolerance_s: float = JUMP_TOLERANCE_S,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tolerance = tolerance_s
        self._wall = wall
        self._monotonic = monotonic
        self._last = (wall(), monotonic())

    def check(self) -> ClockJump | None:
        """The jump since the last call, if the wall clock moved beyond the tolerance."""
        wall, mono = self._wall(), self._monotonic()
        last_wall, last_mono = self._last
        self._last = (wall, mono)
        skew = (wall - last_wall) - (mono - last_mono)
        if abs(skew) <= self._tolerance:
            return None
        _LOGGER.warning("wall clock jumped by %.1f s", skew)
        return ClockJump(skew, last_wall, wall)
