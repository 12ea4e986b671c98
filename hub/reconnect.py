"""Capped exponential backoff for sensor links (after aioesphomeapi's reconnect logic)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

INITIAL_DELAY_S: Final = 1.0
"""First retry after a drop: a rebooting ESP32 is back on Wi-Fi in a few seconds."""
MAX_DELAY_S: Final = 60.0
"""Ceiling: a sensor that is off for good costs one attempt a minute."""
AUTH_FAILURE_DELAY_S: Final = 300.0
"""A refused key will not fix itself; retry rarely (a re-announcement retries at once)."""
JITTER: Final = 0.2
"""Spread retries of many sensors after a hub restart or a Wi-Fi outage."""


@dataclass(slots=True)
class Backoff:
    """Delay before the next connection attempt."""

    initial: float = INITIAL_DELAY_S
    maximum: float = MAX_DELAY_S
    auth_failure: float = AUTH_FAILURE_DELAY_S
    attempts: int = 0

    def reset(self) -> None:
        """A connection succeeded."""
        self.attempts = 0

    def next_delay(self, *, auth_failed: bool = False) -> float:
        """Delay before the next attempt, growing with each failure."""
        self.attempts += 1
        if auth_failed:
            return self.auth_failure
        base: float = min(self.maximum, self.initial * 2.0 ** (self.attempts - 1))
        jitter: float = JITTER * (2 * random.random() - 1)
        return base * (1.0 + jitter)
