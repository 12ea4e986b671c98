"""Loopback fixtures: real mDNS on 127.0.0.1, emulated sensors on port 0, a real hub."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pyrage
import pytest
from zeroconf.asyncio import AsyncZeroconf

from hub.app import Hub
from hub.clock import SystemClock
from hub.config import HubConfig, SensorConfig, StudyConfig
from hub.reconnect import Backoff
from hub.sensing.audio import EnergyClassifier
from hub.sim.emulator import EmulatedSensor
from tests.unit.factories import make_advertisement

FAST_BACKOFF = {"initial": 0.05, "maximum": 0.3, "auth_failure": 1.0}


@pytest.fixture
async def device_zc() -> AsyncIterator[AsyncZeroconf]:
    zc = AsyncZeroconf(interfaces=["127.0.0.1"])
    yield zc
    await zc.async_close()


@pytest.fixture
async def hub_zc() -> AsyncIterator[AsyncZeroconf]:
    zc = AsyncZeroconf(interfaces=["127.0.0.1"])
    yield zc
    await zc.async_close()


@pytest.fixture
def recipient() -> str:
    return str(pyrage.x25519.Identity.generate().to_public())


@pytest.fixture
async def make_hub(
    tmp_path: Path, hub_zc: AsyncZeroconf, recipient: str
) -> AsyncIterator[Callable[..., Awaitable[Hub]]]:
    hubs: list[Hub] = []

    async def factory(sensors: dict[str, str], **overrides: Any) -> Hub:
        config = HubConfig(
            data_dir=str(tmp_path / "hub"),
            study=StudyConfig(
                participant_id="p-test", recipients=(recipient,), consent_on_hub=False
            ),
            sensors=tuple(SensorConfig(n, r) for n, r in sensors.items()),
            **overrides,
        )
        hub = Hub(
            config,
            clock=SystemClock(),
            classifier_factory=EnergyClassifier,
            zeroconf=hub_zc,
            backoff_factory=lambda: Backoff(**FAST_BACKOFF),
            clock_synchronised=lambda: True,
        )
        await hub.start()
        hubs.append(hub)
        return hub

    yield factory
    for hub in hubs:
        await hub.stop()


@pytest.fixture
async def make_sensor(
    device_zc: AsyncZeroconf,
) -> AsyncIterator[Callable[..., Awaitable[EmulatedSensor]]]:
    sensors: list[EmulatedSensor] = []

    async def factory(name: str, psk: bytes | None = None, **kwargs: Any) -> EmulatedSensor:
        mac = kwargs.pop("mac", "24:0a:c4:" + ":".join(f"{b:02x}" for b in os.urandom(3)))
        sensor = EmulatedSensor(name, mac=mac, psk=psk, zeroconf=device_zc, **kwargs)
        await sensor.start()
        sensors.append(sensor)
        return sensor

    yield factory
    for sensor in sensors:
        await sensor.stop()


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> float:
    """Poll until ``predicate`` holds; returns the seconds it took, fails on timeout."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - start


async def keep_advertising(sensor: EmulatedSensor, address: int = 0x5A1122334455) -> None:
    """Queue one phone advertisement every 20 ms until cancelled."""
    while True:
        sensor.queue_advertisements([make_advertisement(address=address)])
        await asyncio.sleep(0.02)
