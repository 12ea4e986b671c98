"""Announcing an emulated sensor as ESPHome does: ``_esphomelib._tcp.local.`` and its TXT record."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable
from typing import Final

from zeroconf import ServiceInfo
from zeroconf.asyncio import AsyncZeroconf

from hub.sim.emulator.noise import PROTOCOL_NAME

SERVICE_TYPE: Final = "_esphomelib._tcp.local."
PLATFORM: Final = "ESP32"
BOARD: Final = "esp32dev"
NETWORK: Final = "wifi"


def txt_record(
    *,
    friendly_name: str,
    version: str,
    mac_hex: str,
    encrypted: bool,
    package_import_url: str = "",
) -> dict[str, str]:
    """The TXT keys ESPHome's mdns component publishes for the API service, in its order."""
    txt: dict[str, str] = {}
    if friendly_name:
        txt["friendly_name"] = friendly_name
    txt["version"] = version
    txt["mac"] = mac_hex
    txt["platform"] = PLATFORM
    txt["board"] = BOARD
    txt["network"] = NETWORK
    # With a key the device advertises the protocol it requires; without, that it could use it.
    txt["api_encryption" if encrypted else "api_encryption_supported"] = PROTOCOL_NAME.decode()
    if package_import_url:
        txt["package_import_url"] = package_import_url
    return txt


class Announcer:
    """Registers, updates and withdraws one sensor's service on a shared AsyncZeroconf."""

    def __init__(self, zeroconf: AsyncZeroconf, name: str, host: str) -> None:
        self._zc = zeroconf
        self._name = name
        self._host = host
        self._info: ServiceInfo | None = None
        self._broadcast: Awaitable[object] | None = None

    def _make_info(self, port: int, txt: dict[str, str]) -> ServiceInfo:
        return ServiceInfo(
            SERVICE_TYPE,
            f"{self._name}.{SERVICE_TYPE}",
            addresses=[socket.inet_aton(self._host)],
            port=port,
            properties=txt,
            server=f"{self._name}.local.",
        )

    async def register(self, port: int, txt: dict[str, str]) -> None:
        """Announce the service (ESPHome names the instance after the node)."""
        info = self._make_info(port, txt)
        # No probing: a restarted sensor re-announces its own name, which is still in caches.
        # The three announcements go out in the background; start() need not wait ~1 s for them.
        self._broadcast = await self._zc.async_register_service(
            info, cooperating_responders=True, strict=False
        )
        self._info = info

    async def update(self, port: int, txt: dict[str, str]) -> None:
        """Re-announce with a new TXT record."""
        if self._info is None:
            return
        info = self._make_info(port, txt)
        await self._zc.async_update_service(info)
        self._info = info

    async def unregister(self) -> None:
        """Send goodbyes for the service."""
        info, self._info = self._info, None
        broadcast, self._broadcast = self._broadcast, None
        if isinstance(broadcast, asyncio.Future) and not broadcast.done():
            broadcast.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await broadcast
        if info is not None:
            await self._zc.async_unregister_service(info)
