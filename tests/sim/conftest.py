"""Fixtures for the device emulator tests: emulated sensors and real API clients on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aioesphomeapi import APIClient

from hub.sim.emulator import EmulatedSensor

_macs = itertools.count(1)


@pytest.fixture
async def make_sensor() -> AsyncIterator[Callable[..., Awaitable[EmulatedSensor]]]:
    """Start emulated sensors (no mDNS unless ``zeroconf=`` is given); stopped at teardown."""
    sensors: list[EmulatedSensor] = []

    async def factory(name: str = "sensor-test", **kwargs: Any) -> EmulatedSensor:
        n = next(_macs)
        kwargs.setdefault("mac", f"24:0a:c4:00:{n >> 8:02x}:{n & 0xFF:02x}")
        kwargs.setdefault("psk", None)
        sensor = EmulatedSensor(name, **kwargs)
        await sensor.start()
        sensors.append(sensor)
        return sensor

    yield factory
    for sensor in sensors:
        await sensor.stop()


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., Awaitable[APIClient]]]:
    """Connect real aioesphomeapi clients; disconnected at teardown."""
    clients: list[APIClient] = []

    async def factory(sensor: EmulatedSensor, psk: bytes | None = None, **kwargs: Any) -> APIClient:
        client = APIClient(
            "127.0.0.1",
            sensor.port,
            None,
            noise_psk=base64.b64encode(psk).decode() if psk is not None else None,
            client_info="emulator-test",
            **kwargs,
        )
        clients.append(client)
        await asyncio.wait_for(client.connect(login=True, log_errors=False), 5)
        return client

    yield factory
    for client in clients:
        await client.disconnect(force=True)


async def wait_for(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    """Poll until ``predicate`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)
