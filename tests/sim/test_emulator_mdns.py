"""The emulator's mDNS announcement, seen by a real browser on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aioesphomeapi import APIClient
from zeroconf import ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from hub.sim.emulator import EmulatedSensor
from hub.sim.emulator.mdns import SERVICE_TYPE
from tests.sim.conftest import wait_for

SensorFactory = Callable[..., Awaitable[EmulatedSensor]]
NOISE = "Noise_NNpsk0_25519_ChaChaPoly_SHA256"


@pytest.fixture
async def zcs() -> AsyncIterator[tuple[AsyncZeroconf, AsyncZeroconf]]:
    device = AsyncZeroconf(interfaces=["127.0.0.1"])
    browser = AsyncZeroconf(interfaces=["127.0.0.1"])
    yield device, browser
    await browser.async_close()
    await device.async_close()


class Seen:
    """Services and TXT records a browser resolved."""

    def __init__(self, zc: AsyncZeroconf) -> None:
        self.zc = zc
        self.txt: dict[str, dict[str, str]] = {}
        self.ports: dict[str, int] = {}
        self.removed: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def on_change(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is ServiceStateChange.Removed:
            self.removed.add(name)
            self.txt.pop(name, None)
            return
        task = asyncio.create_task(self._resolve(service_type, name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resolve(self, service_type: str, name: str) -> None:
        info = AsyncServiceInfo(service_type, name)
        if await info.async_request(self.zc.zeroconf, 3000):
            self.txt[name] = {k.decode(): (v or b"").decode() for k, v in info.properties.items()}
            self.ports[name] = info.port or 0


async def test_announced_with_esphome_txt_updated_on_key_and_withdrawn(
    make_sensor: SensorFactory, zcs: tuple[AsyncZeroconf, AsyncZeroconf]
) -> None:
    device_zc, browser_zc = zcs
    seen = Seen(browser_zc)
    browser = AsyncServiceBrowser(browser_zc.zeroconf, SERVICE_TYPE, handlers=[seen.on_change])
    try:
        sensor = await make_sensor(
            "sensor-hall", mac="24:0a:c4:aa:bb:cc", friendly_name="Hall", zeroconf=device_zc
        )
        name = f"sensor-hall.{SERVICE_TYPE}"
        await wait_for(lambda: name in seen.txt, timeout=5)
        assert seen.ports[name] == sensor.port
        assert seen.txt[name] == {
            "friendly_name": "Hall",
            "version": "2026.6.0",
            "mac": "240ac4aabbcc",
            "platform": "ESP32",
            "board": "esp32dev",
            "network": "wifi",
            "api_encryption_supported": NOISE,
        }
        client = APIClient("127.0.0.1", sensor.port, None)
        await client.connect(login=True)
        try:
            assert await client.noise_encryption_set_key(base64.b64encode(os.urandom(32)))
        finally:
            await client.disconnect(force=True)
        await wait_for(lambda: seen.txt.get(name, {}).get("api_encryption") == NOISE, timeout=5)
        assert "api_encryption_supported" not in seen.txt[name]
        await sensor.stop()
        await wait_for(lambda: name in seen.removed, timeout=5)
    finally:
        await browser.async_cancel()
