"""Discovery: browse mDNS for ``_esphomelib._tcp`` and report sensors as they announce."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Final

from zeroconf import IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

_LOGGER = logging.getLogger(__name__)

SERVICE_TYPE: Final = "_esphomelib._tcp.local."
RESOLVE_TIMEOUT_MS: Final = 3000
"""A sensor not answering for its address in this time is retried on its next announcement."""
MAX_TXT_VALUE: Final = 64
"""TXT values are peer-supplied: cut them short and keep printable characters only."""


@dataclass(frozen=True, slots=True)
class Announcement:
    """A sensor seen on mDNS."""

    name: str
    host: str
    port: int
    txt: dict[str, str]

    @property
    def encrypted(self) -> bool | None:
        """True if the sensor runs with a key, False if it can be given one, None if unknown."""
        if "api_encryption" in self.txt:
            return True
        if "api_encryption_supported" in self.txt:
            return False
        return None


class DiscoveryState(Enum):
    """Lifecycle."""

    STOPPED = "stopped"
    RUNNING = "running"


def clean(value: str) -> str:
    """A peer-supplied string made safe to log and display."""
    return "".join(c for c in value[:MAX_TXT_VALUE] if c.isprintable())


class Discovery:
    """Watches mDNS for ESPHome sensors."""

    def __init__(
        self,
        zeroconf: AsyncZeroconf,
        on_announce: Callable[[Announcement], None],
        on_remove: Callable[[str], None] | None = None,
    ) -> None:
        self._azc = zeroconf
        self._on_announce = on_announce
        self._on_remove = on_remove
        self._browser: AsyncServiceBrowser | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()
        self.state = DiscoveryState.STOPPED

    async def start(self) -> None:
        """Start browsing (idempotent)."""
        async with self._lock:
            if self._browser is not None:
                return
            self._browser = AsyncServiceBrowser(
                self._azc.zeroconf, [SERVICE_TYPE], handlers=[self._on_change]
            )
            self.state = DiscoveryState.RUNNING

    async def stop(self) -> None:
        """Stop browsing and cancel pending look-ups (idempotent)."""
        async with self._lock:
            browser, self._browser = self._browser, None
            if browser is not None:
                await browser.async_cancel()
            tasks, self._tasks = self._tasks, set()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self.state = DiscoveryState.STOPPED

    def _on_change(
        self,
        zeroconf: Zeroconf,
        service_type: str,
        name: str,
        state_change: ServiceStateChange,
    ) -> None:
        node = clean(name.removesuffix("." + service_type))
        if state_change is ServiceStateChange.Removed:
            if self._on_remove is not None:
                self._on_remove(node)
            return
        task = asyncio.create_task(self._resolve(service_type, name), name=f"resolve-{node}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resolve(self, service_type: str, name: str) -> None:
        info = AsyncServiceInfo(service_type, name)
        if not await info.async_request(self._azc.zeroconf, RESOLVE_TIMEOUT_MS):
            _LOGGER.debug("no answer resolving %s", clean(name))
            return
        addresses = info.parsed_addresses(IPVersion.V4Only) or info.parsed_addresses()
        if not addresses or info.port is None:
            return
        txt = {
            clean(k.decode("utf-8", "replace")): clean((v or b"").decode("utf-8", "replace"))
            for k, v in info.properties.items()
        }
        node = clean(name.removesuffix("." + service_type))
        self._on_announce(Announcement(node, addresses[0], info.port, txt))
