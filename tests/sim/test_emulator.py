"""The emulator against the real aioesphomeapi client over sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aioesphomeapi import (
    APIClient,
    BinarySensorInfo,
    BluetoothProxyFeature,
    SensorInfo,
    SwitchInfo,
    SwitchState,
    VoiceAssistantFeature,
)
from aioesphomeapi.core import (
    APIConnectionError,
    InvalidEncryptionKeyAPIError,
    RequiresEncryptionAPIError,
)
from blockbuster import blockbuster_ctx

from hub.sim.emulator import EmulatedSensor, bluetooth, device, session
from hub.sim.emulator.entities import MIC_MUTE, fnv1_hash
from tests.sim.conftest import wait_for
from tests.unit.factories import make_advertisement

SensorFactory = Callable[..., Awaitable[EmulatedSensor]]
Connect = Callable[..., Awaitable[APIClient]]


async def test_plaintext_device_info_fields(make_sensor: SensorFactory, connect: Connect) -> None:
    sensor = await make_sensor(
        "sensor-kitchen", mac="24:0a:c4:12:34:56", friendly_name="Kitchen", room_hint="kitchen"
    )
    client = await connect(sensor)
    info = await client.device_info()
    assert info.name == "sensor-kitchen"
    assert info.friendly_name == "Kitchen"
    assert info.suggested_area == "kitchen" and info.area.name == "kitchen"
    assert info.mac_address == "24:0A:C4:12:34:56"
    assert info.bluetooth_mac_address == "24:0A:C4:12:34:58"
    assert info.esphome_version == "2026.6.0"
    assert info.manufacturer == "Espressif"
    assert info.model == "esp32dev"
    flags = BluetoothProxyFeature(info.bluetooth_proxy_feature_flags)
    assert BluetoothProxyFeature.RAW_ADVERTISEMENTS in flags
    assert BluetoothProxyFeature.PASSIVE_SCAN in flags
    assert BluetoothProxyFeature.ACTIVE_CONNECTIONS not in flags
    assert info.voice_assistant_feature_flags & VoiceAssistantFeature.API_AUDIO
    assert info.api_encryption_supported and info.api_encryption_provisionable
    assert client.api_version is not None and (
        client.api_version.major,
        client.api_version.minor,
    ) == (1, 14)


async def test_noise_connects_and_is_not_provisionable(
    make_sensor: SensorFactory, connect: Connect
) -> None:
    psk = os.urandom(32)
    sensor = await make_sensor(psk=psk, voice_assistant=False, bluetooth_proxy=False)
    client = await connect(sensor, psk, expected_name="sensor-test")
    info = await client.device_info()
    assert info.api_encryption_supported and not info.api_encryption_provisionable
    assert info.voice_assistant_feature_flags == 0 and info.bluetooth_proxy_feature_flags == 0
    assert sensor.sessions[0].encrypted


async def test_wrong_key_raises_invalid_key_and_device_keeps_serving(
    make_sensor: SensorFactory, connect: Connect
) -> None:
    psk = os.urandom(32)
    sensor = await make_sensor(psk=psk)
    with pytest.raises(InvalidEncryptionKeyAPIError):
        await connect(sensor, os.urandom(32))
    assert (await (await connect(sensor, psk)).device_info()).name == "sensor-test"


async def test_plaintext_client_to_encrypted_device_requires_encryption(
    make_sensor: SensorFactory, connect: Connect
) -> None:
    sensor = await make_sensor(psk=os.urandom(32))
    with pytest.raises(RequiresEncryptionAPIError):
        await connect(sensor)


async def test_unkeyed_device_refuses_a_random_noise_key(
    make_sensor: SensorFactory, connect: Connect
) -> None:
    sensor = await make_sensor()
    with pytest.raises(InvalidEncryptionKeyAPIError):
        await connect(sensor, os.urandom(32))
    assert (await (await connect(sensor, bytes(32))).device_info()).api_encryption_provisionable


async def test_list_entities(make_sensor: SensorFactory, connect: Connect) -> None:
    client = await connect(await make_sensor())
    entities, services = await client.list_entities_services()
    by_name = {e.name: e for e in entities}
    assert services == []
    assert isinstance(by_name["WiFi signal"], SensorInfo)
    assert by_name["WiFi signal"].unit_of_measurement == "dBm"
    assert isinstance(by_name["Uptime"], SensorInfo)
    assert isinstance(by_name["Status"], BinarySensorInfo)
    mute = by_name["Microphone mute"]
    assert isinstance(mute, SwitchInfo)
    assert mute.object_id == "microphone_mute" and mute.key == fnv1_hash("microphone_mute")
    quiet = await connect(await make_sensor("sensor-quiet", voice_assistant=False))
    names = {e.name for e in (await quiet.list_entities_services())[0]}
    assert "Microphone mute" not in names and "WiFi signal" in names


async def test_states_initial_and_switch_updates(
    make_sensor: SensorFactory, connect: Connect
) -> None:
    sensor = await make_sensor()
    client = await connect(sensor)
    entities, _ = await client.list_entities_services()
    states: dict[int, Any] = {}
    client.subscribe_states(lambda s: states.__setitem__(s.key, s))
    await wait_for(lambda: len(states) == len(entities))
    wifi = next(e for e in entities if e.name == "WiFi signal")
    assert -80 < states[wifi.key].state < -40
    assert states[MIC_MUTE.key] == SwitchState(key=MIC_MUTE.key, state=False)
    client.switch_command(MIC_MUTE.key, True)
    await wait_for(lambda: states[MIC_MUTE.key].state is True)
    assert sensor.muted


async def test_periodic_state_updates(
    make_sensor: SensorFactory, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(device, "MIN_STATE_INTERVAL_S", 0.05)
    monkeypatch.setattr(device, "STATE_INTERVAL_S", 0.05)
    client = await connect(await make_sensor())
    seen: list[Any] = []
    client.subscribe_states(seen.append)
    await wait_for(lambda: len(seen) >= 4 + 3 * 2)  # initial four, then three sensors each time


async def test_pings_both_ways_and_time_request(
    make_sensor: SensorFactory, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session, "KEEPALIVE_S", 0.1)
    sensor = await make_sensor()
    await connect(sensor, keepalive=0.1)
    (conn,) = sensor.sessions
    await wait_for(lambda: conn.pings_received > 0 and conn.pongs_received > 0)
    # ESPHome asks the client for the time once authenticated; aioesphomeapi answers.
    assert conn.time_offset is not None and abs(conn.time_offset) < 5


async def test_disconnect_request_and_stop_close_connections(
    make_sensor: SensorFactory, connect: Connect
) -> None:
    sensor = await make_sensor()
    client = await connect(sensor)
    await client.disconnect()
    await wait_for(lambda: sensor.clients == 0)
    stopped = asyncio.Event()

    async def on_stop(expected: bool) -> None:
        stopped.set()

    other = APIClient("127.0.0.1", sensor.port, None)
    await other.connect(on_stop=on_stop, login=True)
    await sensor.stop()
    await asyncio.wait_for(stopped.wait(), 3)
    assert sensor.clients == 0


async def test_restart_rebinds_the_same_port(make_sensor: SensorFactory, connect: Connect) -> None:
    psk = os.urandom(32)
    sensor = await make_sensor(psk=psk)
    port = sensor.port
    await sensor.start()  # idempotent
    await sensor.stop()
    await sensor.stop()
    with pytest.raises((APIConnectionError, OSError)):
        await connect(sensor, psk)
    await sensor.start()
    assert sensor.port == port
    assert (await (await connect(sensor, psk)).device_info()).name == "sensor-test"


async def test_several_clients_at_once(make_sensor: SensorFactory, connect: Connect) -> None:
    psk = os.urandom(32)
    sensor = await make_sensor(psk=psk)
    clients = await asyncio.gather(*(connect(sensor, psk) for _ in range(4)))
    infos = await asyncio.gather(*(c.device_info() for c in clients))
    assert {i.name for i in infos} == {"sensor-test"}
    assert sensor.clients == 4


async def test_malformed_frames_close_only_that_connection_and_warn_once(
    make_sensor: SensorFactory, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hub.sim.emulator")
    psk = os.urandom(32)
    sensor = await make_sensor(psk=psk)
    good = await connect(sensor, psk)
    for garbage in (b"\x05garbage", b"\x01\xff\xff" + bytes(10)):
        reader, writer = await asyncio.open_connection("127.0.0.1", sensor.port)
        writer.write(garbage)
        reply = await asyncio.wait_for(reader.read(), 3)  # until the device closes
        assert reply.startswith(b"\x01")  # an explicit handshake reject frame
        writer.close()
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and r.name.startswith("hub.")
    ]
    assert len(warnings) == 1 and "sensor-test" in warnings[0].getMessage()
    assert (await good.device_info()).name == "sensor-test"


async def test_raw_advertisements_arrive_exactly_in_esphome_batches(
    make_sensor: SensorFactory, connect: Connect
) -> None:
    sensor = await make_sensor()
    client = await connect(sensor)
    sensor.queue_advertisements([make_advertisement()])  # nobody subscribed: dropped
    batches: list[Any] = []
    client.subscribe_bluetooth_le_raw_advertisements(batches.append)
    await wait_for(lambda: any(s.ready for s in sensor.sessions) and sensor._ble_client is not None)
    adverts = [
        make_advertisement(address=0x5A0000000000 + i, rssi=-40 - i, data=bytes([2, 1, i]))
        for i in range(20)
    ]
    sensor.queue_advertisements(adverts)
    await wait_for(lambda: sum(len(b.advertisements) for b in batches) == 20)
    assert [len(b.advertisements) for b in batches] == [16, 4]
    got = [a for b in batches for a in b.advertisements]
    assert [(a.address, a.rssi, a.address_type, a.data) for a in got] == [
        (a.address, a.rssi, a.address_type, a.data) for a in adverts
    ]
    assert sensor.adverts_sent == 20


def test_advertisement_queue_is_bounded_and_counts_drops() -> None:
    queue = bluetooth.AdvertisementQueue(limit=32)
    queue.extend(make_advertisement(address=i) for i in range(40))
    assert len(queue) == 32 and queue.dropped == 8
    batch = queue.take_batch(full_only=True)
    assert batch is not None and batch.advertisements[0].address == 8
    assert len(batch.advertisements) == bluetooth.BATCH_SIZE


async def test_adoption_sets_key_then_only_noise_with_it(
    make_sensor: SensorFactory, connect: Connect
) -> None:
    changed: list[bytes | None] = []
    sensor = await make_sensor(on_key_changed=changed.append)
    stopped = asyncio.Event()

    async def on_stop(expected: bool) -> None:
        stopped.set()

    client = APIClient("127.0.0.1", sensor.port, None)
    await client.connect(on_stop=on_stop, login=True)
    assert not await client.noise_encryption_set_key(base64.b64encode(bytes(32)))
    assert not await client.noise_encryption_set_key(b"not base64 of 32 bytes")
    assert sensor.psk is None
    key = os.urandom(32)
    assert await client.noise_encryption_set_key(base64.b64encode(key))
    # As ESPHome: the key becomes active after 100 ms and every client is asked to disconnect.
    await asyncio.wait_for(stopped.wait(), 3)
    assert sensor.psk == key and changed == [key]
    with pytest.raises(RequiresEncryptionAPIError):
        await connect(sensor)
    with pytest.raises(InvalidEncryptionKeyAPIError):
        await connect(sensor, bytes(32))
    info = await (await connect(sensor, key)).device_info()
    assert not info.api_encryption_provisionable


async def test_adoption_over_the_zero_key(make_sensor: SensorFactory, connect: Connect) -> None:
    sensor = await make_sensor()
    client = await connect(sensor, bytes(32))
    key = os.urandom(32)
    assert await client.noise_encryption_set_key(base64.b64encode(key))
    await wait_for(lambda: sensor.psk == key)
    await connect(sensor, key)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="mac"):
        EmulatedSensor("sensor-a", mac="nope", psk=None)
    with pytest.raises(ValueError, match="psk"):
        EmulatedSensor("sensor-a", mac="24:0a:c4:00:00:01", psk=b"short")
    with pytest.raises(ValueError, match="name"):
        EmulatedSensor("Bad Name", mac="24:0a:c4:00:00:01", psk=None)
    sensor = EmulatedSensor("sensor-a", mac="24:0a:c4:00:00:01", psk=None, port=_free_port())
    with pytest.raises(ValueError, match="16-bit"):
        sensor.feed_audio(b"\x00")


async def test_messages_before_hello_close_the_connection(make_sensor: SensorFactory) -> None:
    sensor = await make_sensor()
    reader, writer = await asyncio.open_connection("127.0.0.1", sensor.port)
    writer.write(b"\x00\x00\x07")  # PingRequest is allowed before Hello
    assert await asyncio.wait_for(reader.readexactly(3), 3) == b"\x00\x00\x08"
    writer.write(b"\x00\x00\x09")  # DeviceInfoRequest is not
    assert await asyncio.wait_for(reader.read(), 3) == b""
    writer.close()


async def test_key_saved_just_before_stop_is_active_after_restart(
    make_sensor: SensorFactory, connect: Connect
) -> None:
    sensor = await make_sensor()
    client = await connect(sensor)
    key = os.urandom(32)
    assert await client.noise_encryption_set_key(base64.b64encode(key))
    await sensor.stop()  # within the 100 ms before activation
    assert sensor.psk == key
    await sensor.start()
    await connect(sensor, key)


async def test_connections_past_the_limit_are_refused(
    make_sensor: SensorFactory, connect: Connect
) -> None:
    sensor = await make_sensor()
    await asyncio.gather(*(connect(sensor) for _ in range(device.MAX_CLIENTS)))
    with pytest.raises((APIConnectionError, OSError)):
        await connect(sensor)
    assert sensor.clients == device.MAX_CLIENTS


async def test_no_blocking_calls_in_the_event_loop(
    make_sensor: SensorFactory, connect: Connect
) -> None:
    psk = os.urandom(32)
    sensor = await make_sensor(psk=psk)
    with blockbuster_ctx(scanned_modules=["hub"]):
        client = await connect(sensor, psk)
        await client.device_info()
        batches: list[Any] = []
        client.subscribe_bluetooth_le_raw_advertisements(batches.append)
        await wait_for(lambda: sensor._ble_client is not None)
        sensor.queue_advertisements([make_advertisement()] * 16)
        await wait_for(lambda: len(batches) == 1)
        await sensor.stop()
        await sensor.start()
