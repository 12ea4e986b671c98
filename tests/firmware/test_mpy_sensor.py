"""The MicroPython sensor on the unix port, seen by the hub's real peers over loopback.

A real zeroconf browser discovers it, the real aioesphomeapi client connects with Noise, reads
device info, subscribes to raw advertisements and receives batches; a wrong key is refused,
and adoption with ``noise_encryption_set_key`` re-keys it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os

import pytest
from aioesphomeapi import APIClient, InvalidEncryptionKeyAPIError
from aioesphomeapi.model import BluetoothProxyFeature
from zeroconf import ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from tests.firmware.conftest import RunningSensor

pytestmark = [pytest.mark.firmware, pytest.mark.timeout(60)]

SERVICE = "_esphomelib._tcp.local."


async def discover(name: str) -> tuple[str, int, dict[bytes, bytes | None]]:
    """Browse on loopback until ``name`` appears; its address, port and TXT."""
    azc = AsyncZeroconf(interfaces=["127.0.0.1"])
    seen: asyncio.Queue[str] = asyncio.Queue()

    def on_change(
        zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is ServiceStateChange.Added:
            seen.put_nowait(name)

    browser = AsyncServiceBrowser(azc.zeroconf, SERVICE, handlers=[on_change])
    try:
        while (found := await asyncio.wait_for(seen.get(), 15)) != f"{name}.{SERVICE}":
            pass
        info = AsyncServiceInfo(SERVICE, found)
        assert await info.async_request(azc.zeroconf, 3000)
        assert info.port is not None
        return info.parsed_addresses()[0], info.port, dict(info.properties)
    finally:
        await browser.async_cancel()
        await azc.async_close()


def client(host: str, port: int, psk: bytes) -> APIClient:
    return APIClient(host, port, None, noise_psk=base64.b64encode(psk).decode())


async def test_discovered_connected_and_streams_batches(sensor: RunningSensor) -> None:
    host, port, txt = await discover(sensor.name)
    assert (host, port) == ("127.0.0.1", sensor.port)
    assert txt[b"api_encryption"] == b"Noise_NNpsk0_25519_ChaChaPoly_SHA256"

    api = client(host, port, sensor.psk)
    await api.connect(login=True)
    try:
        info = await api.device_info()
        assert info.name == sensor.name
        assert info.suggested_area == "kitchen"
        assert info.bluetooth_proxy_feature_flags & BluetoothProxyFeature.RAW_ADVERTISEMENTS
        assert not info.api_encryption_provisionable
        batches: list[list[tuple[int, int, int, bytes]]] = []
        got_enough = asyncio.Event()

        def on_batch(resp: object) -> None:
            ads = resp.advertisements  # type: ignore[attr-defined]
            batches.append([(a.address, a.address_type, a.rssi, a.data) for a in ads])
            if sum(map(len, batches)) >= 60:
                got_enough.set()

        unsubscribe = api.subscribe_bluetooth_le_raw_advertisements(on_batch)
        await asyncio.wait_for(got_enough.wait(), 20)
        unsubscribe()
    finally:
        await api.disconnect()

    assert all(1 <= len(b) <= 16 for b in batches)
    ads = [ad for b in batches for ad in b]
    # The fake radio: 20 beacons with random addresses 0xC?1122 3344??, flags + manufacturer data.
    addresses = {a for a, *_ in ads}
    assert len(addresses) == 20
    assert all(a >> 40 & 0xC0 == 0xC0 for a in addresses)
    assert all(t == 1 and -100 < rssi < 0 for _a, t, rssi, _d in ads)
    assert all(d[:3] == b"\x02\x01\x06" and d[4:7] == b"\xff\x4c\x00" for *_x, d in ads)


async def test_wrong_key_is_refused(sensor: RunningSensor) -> None:
    host, port, _txt = await discover(sensor.name)
    api = client(host, port, os.urandom(32))
    with pytest.raises(InvalidEncryptionKeyAPIError):
        await api.connect(login=True)
    # The sensor carries on serving the right key afterwards.
    good = client(host, port, sensor.psk)
    await good.connect(login=True)
    assert (await good.device_info()).name == sensor.name
    await good.disconnect()
    assert "wrong key" in sensor.output()


async def test_adoption_sets_a_new_key(sensor: RunningSensor) -> None:
    new_key = os.urandom(32)
    api = client("127.0.0.1", sensor.port, sensor.psk)
    await api.connect(login=True)
    # As ESPHome, the key travels base64-encoded; raw or short keys are refused.
    assert not await api.noise_encryption_set_key(new_key[:16])
    assert not await api.noise_encryption_set_key(base64.b64encode(bytes(32)))
    assert await api.noise_encryption_set_key(base64.b64encode(new_key))
    await api.disconnect()

    stored = json.loads((sensor.workdir / "sensor.json").read_text())
    assert base64.b64decode(stored["psk"]) == new_key
    with pytest.raises(InvalidEncryptionKeyAPIError):
        await client("127.0.0.1", sensor.port, sensor.psk).connect(login=True)
    adopted = client("127.0.0.1", sensor.port, new_key)
    await adopted.connect(login=True)
    assert (await adopted.device_info()).name == sensor.name
    # An empty key clears it: the sensor is adoptable again with the zero key.
    assert await adopted.noise_encryption_set_key(b"")
    await adopted.disconnect()
    assert "psk" not in json.loads((sensor.workdir / "sensor.json").read_text())
    again = client("127.0.0.1", sensor.port, bytes(32))
    await again.connect(login=True)
    assert (await again.device_info()).api_encryption_provisionable
    await again.disconnect()
