"""The hub against emulated sensors over real sockets and real mDNS on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import pytest

from hub.app import Hub
from hub.links import LinkState
from hub.sim.emulator import EmulatedSensor
from tests.e2e.conftest import keep_advertising, wait_for

# unique per run: other processes on this machine may announce sensors on 127.0.0.1 too
_RUN = os.urandom(3).hex()
SENSOR_LIVING = f"living-{_RUN}"
SENSOR_KITCHEN = f"kitchen-{_RUN}"
SENSOR_BEDROOM = f"bedroom-{_RUN}"
SENSOR_HALL = f"hall-{_RUN}"

HubFactory = Callable[..., Awaitable[Hub]]
SensorFactory = Callable[..., Awaitable[EmulatedSensor]]


@contextlib.asynccontextmanager
async def advertising(sensor: EmulatedSensor, address: int = 0x5A1122334455) -> Any:
    task = asyncio.create_task(keep_advertising(sensor, address), name="adverts")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_discovery_to_first_advertisement_within_3_s(
    make_hub: HubFactory, make_sensor: SensorFactory
) -> None:
    hub = await make_hub({SENSOR_LIVING: "living"})
    assert hub.store is not None
    psk = os.urandom(32)
    hub.store.save_sensor(SENSOR_LIVING, "living", psk)
    announced = time.monotonic()
    sensor = await make_sensor(SENSOR_LIVING, psk=psk)
    async with advertising(sensor):
        await wait_for(lambda: hub.ble is not None and hub.ble.advertisements > 0, timeout=3.0)
    took = time.monotonic() - announced
    assert took < 3.0
    assert hub.links[SENSOR_LIVING].state is LinkState.CONNECTED


async def test_new_sensor_is_adopted_with_a_fresh_key(
    make_hub: HubFactory, make_sensor: SensorFactory
) -> None:
    hub = await make_hub({SENSOR_KITCHEN: "kitchen"})
    sensor = await make_sensor(SENSOR_KITCHEN, psk=None)
    await wait_for(lambda: hub.links.get(SENSOR_KITCHEN) is not None)
    await wait_for(lambda: hub.links[SENSOR_KITCHEN].state is LinkState.CONNECTED, timeout=5)
    assert hub.store is not None
    record = hub.store.sensor(SENSOR_KITCHEN)
    assert record is not None and record.psk is not None and len(record.psk) == 32
    assert sensor.psk == record.psk
    async with advertising(sensor):
        await wait_for(lambda: hub.ble is not None and hub.ble.advertisements > 0)


async def test_wrong_key_is_refused_with_a_clear_error_and_no_data(
    make_hub: HubFactory, make_sensor: SensorFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    hub = await make_hub({SENSOR_BEDROOM: "bedroom"})
    assert hub.store is not None
    hub.store.save_sensor(SENSOR_BEDROOM, "bedroom", os.urandom(32))
    sensor = await make_sensor(SENSOR_BEDROOM, psk=os.urandom(32))
    async with advertising(sensor):
        await wait_for(lambda: SENSOR_BEDROOM in hub.links)
        link = hub.links[SENSOR_BEDROOM]
        await wait_for(lambda: link.state is LinkState.KEY_REFUSED)
        await asyncio.sleep(0.3)
    assert hub.ble is not None and hub.ble.advertisements == 0
    assert SENSOR_BEDROOM in (link.last_error or "")
    assert "key" in (link.last_error or "")
    assert any(SENSOR_BEDROOM in r.getMessage() and "key" in r.getMessage() for r in caplog.records)
    assert hub.state.value == "running"


async def test_restarted_sensor_is_reconnected(
    make_hub: HubFactory, make_sensor: SensorFactory
) -> None:
    hub = await make_hub({SENSOR_HALL: "hall"})
    psk = os.urandom(32)
    assert hub.store is not None
    hub.store.save_sensor(SENSOR_HALL, "hall", psk)
    sensor = await make_sensor(SENSOR_HALL, psk=psk)
    await wait_for(lambda: "hall" in hub._rooms_up)
    for _ in range(2):
        await sensor.stop()
        await wait_for(lambda: "hall" not in hub._rooms_up)
        await sensor.start()
        took = await wait_for(lambda: "hall" in hub._rooms_up, timeout=3)
        assert took < 3
    async with advertising(sensor):
        before = hub.ble.advertisements if hub.ble else 0
        await wait_for(lambda: hub.ble is not None and hub.ble.advertisements > before)


async def test_audio_is_classified_and_pause_stops_it_within_a_second(
    make_hub: HubFactory, make_sensor: SensorFactory
) -> None:
    hub = await make_hub({SENSOR_BEDROOM: "bedroom"})
    psk = os.urandom(32)
    assert hub.store is not None
    hub.store.save_sensor(SENSOR_BEDROOM, "bedroom", psk)
    sensor = await make_sensor(SENSOR_BEDROOM, psk=psk)
    await wait_for(lambda: sensor.is_streaming, timeout=5)
    loud = (np.sin(np.arange(16000 * 3) * 0.05) * 8000).astype("<i2").tobytes()
    sensor.feed_audio(loud)
    await wait_for(lambda: hub.audio_seconds >= 2, timeout=5)
    hub.pause("bedroom")
    paused_at = hub.audio_seconds
    await wait_for(lambda: not sensor.is_streaming, timeout=1.0)
    sensor.feed_audio(loud)
    await asyncio.sleep(1.0)
    assert hub.audio_seconds == paused_at
    assert all(a.buffered_bytes == 0 for a in hub._audio.values())
    hub.resume("bedroom")
    await wait_for(lambda: sensor.is_streaming, timeout=5)
