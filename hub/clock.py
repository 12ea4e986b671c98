"""Time for the hub: the wall clock in production, a compressed clock in the virtual home."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """What the hub needs to know about time."""

    def now(self) -> float:
        """Seconds since the Unix epoch, on the home's timeline."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep for ``seconds`` of the home's time."""
        ...

    @property
    def speed(self) -> float:
        """How many seconds of home time pass per real second."""
        ...


class SystemClock:
    """The real wall clock."""

    speed = 1.0

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class SimClock:
    """A clock that starts at ``start`` and runs ``speed`` times faster than real time.

    Every component of the virtual home (emulators and hub) reads the same instance, so the
    compressed timeline is shared without any message passing.
    """

    def __init__(self, start: float, speed: float = 1.0, anchor: float | None = None) -> None:
        """``anchor``: the wall time at which home time was ``start`` (shares a clock across
        processes); default now."""
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        self._start = start
        self._speed = speed
        self._origin = time.monotonic()
        if anchor is not None:
            self._origin -= time.time() - anchor

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        return self._start + (time.monotonic() - self._origin) * self._speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self._speed)

    async def sleep_until(self, when: float) -> None:
        """Sleep until home time ``when``."""
        await self.sleep(when - self.now())
