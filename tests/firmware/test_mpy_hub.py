"""The hub's own discovery and link adopt the MicroPython sensor on loopback and receive its
advertisements: the path a freshly flashed, unkeyed sensor takes in a real home."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from zeroconf.asyncio import AsyncZeroconf

from hub.clock import SystemClock
from hub.discovery import Announcement, Discovery
from hub.links import SensorLink
from hub.store import Store
from tests.firmware.conftest import start_sensor

pytestmark = [pytest.mark.firmware, pytest.mark.timeout(60)]


class Collect:
    """A LinkSink that keeps what it is given."""

    def __init__(self) -> None:
        self.adverts: list[Any] = []
        self.states: list[bool] = []
        self.enough = asyncio.Event()

    def on_advertisements(self, room: str, adverts: Iterable[Any], t: float) -> None:
        self.adverts.extend(adverts)
        if len(self.adverts) >= 40:
            self.enough.set()

    def on_audio(self, room: str, pcm: bytes) -> None:
        raise AssertionError("a BLE-only sensor sent audio")

    def on_link_state(self, sensor: str, room: str, up: bool) -> None:
        self.states.append(up)

    def audio_wanted(self, room: str) -> bool:
        return True


async def test_hub_discovers_adopts_and_receives(micropython: str, tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    sink = Collect()
    announcements: asyncio.Queue[Announcement] = asyncio.Queue()
    with start_sensor(micropython, tmp_path, psk=None) as sensor:
        azc = AsyncZeroconf(interfaces=["127.0.0.1"])
        discovery = Discovery(azc, announcements.put_nowait)
        await discovery.start()
        link = None
        try:
            first = await _announcement_of(announcements, sensor.name)
            assert first.encrypted is False  # adoptable: api_encryption_supported
            link = SensorLink(
                sensor.name,
                "kitchen",
                host=first.host,
                port=first.port,
                keys=store,
                sink=sink,
                clock=SystemClock(),
                zeroconf=azc,
                encrypted_hint=first.encrypted,
            )
            await link.start()
            await asyncio.wait_for(sink.enough.wait(), 30)
            # After adoption the sensor re-announces itself as keyed.
            while not (await _announcement_of(announcements, sensor.name)).encrypted:
                pass
        finally:
            if link is not None:
                await link.stop()
            await discovery.stop()
            await azc.async_close()
        stored = json.loads((tmp_path / "sensor.json").read_text())
    record = store.sensor(sensor.name)
    store.close()
    assert record is not None and record.psk is not None
    assert base64.b64decode(stored["psk"]) == record.psk
    assert sink.states[0] is True
    assert {a.address >> 40 for a in sink.adverts} <= set(range(0xC0, 0xD4))


async def _announcement_of(queue: asyncio.Queue[Announcement], name: str) -> Announcement:
    while (ann := await asyncio.wait_for(queue.get(), 20)).name != name:
        pass
    return ann
