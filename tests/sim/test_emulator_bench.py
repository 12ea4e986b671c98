"""Emulator throughput at the demo load: 8 sensors, 50 adverts and 3 s of PCM each per second."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aioesphomeapi import APIClient, api_pb2
from noise.connection import NoiseConnection

from hub.sim.emulator import EmulatedSensor
from hub.sim.emulator.frames import encode_noise_frame
from hub.sim.emulator.noise import PROTOCOL_NAME
from hub.sim.emulator.transport import NoiseTransport
from tests.sim.conftest import wait_for
from tests.unit.factories import make_advertisement

SensorFactory = Callable[..., Awaitable[EmulatedSensor]]
Connect = Callable[..., Awaitable[APIClient]]

SENSORS = 8
SECONDS = 4.0
TICK_S = 0.1
ADVERTS_PER_S = 50
PCM_SECONDS_PER_S = 3


@pytest.mark.benchmark
async def test_demo_load(make_sensor: SensorFactory, connect: Connect) -> None:
    sensors: list[EmulatedSensor] = []
    received = {"adverts": 0, "pcm": 0}

    async def handle_start(*_: Any) -> int:
        return 0

    async def handle_stop(abort: bool) -> None:
        return None

    async def handle_audio(data: bytes, data2: bytes | None) -> None:
        received["pcm"] += len(data)

    def on_raw(msg: Any) -> None:
        received["adverts"] += len(msg.advertisements)

    for i in range(SENSORS):
        psk = os.urandom(32)
        sensor = await make_sensor(f"sensor-{i}", psk=psk)
        client = await connect(sensor, psk)
        client.subscribe_bluetooth_le_raw_advertisements(on_raw)
        client.subscribe_voice_assistant(
            handle_start=handle_start, handle_stop=handle_stop, handle_audio=handle_audio
        )
        sensors.append(sensor)
    await wait_for(lambda: all(s.is_streaming for s in sensors))
    adverts = [make_advertisement(address=0x5A0000000000 + i) for i in range(ADVERTS_PER_S)]
    per_tick = int(ADVERTS_PER_S * TICK_S)
    pcm = os.urandom(int(16000 * 2 * PCM_SECONDS_PER_S * TICK_S))
    ticks = int(SECONDS / TICK_S)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for tick in range(ticks):
        for sensor in sensors:
            sensor.queue_advertisements(adverts[(tick * per_tick) % ADVERTS_PER_S :][:per_tick])
            sensor.feed_audio(pcm)
        await asyncio.sleep(TICK_S)
    want_pcm = len(pcm) * ticks * SENSORS
    await wait_for(lambda: received["pcm"] >= want_pcm, timeout=10)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(
        f"\n{SENSORS} emulators + {SENSORS} aioesphomeapi clients in one process, {wall:.1f} s: "
        f"{received['adverts']} adverts, {received['pcm'] / 32000:.1f} s PCM delivered, "
        f"CPU {cpu:.2f} s ({100 * cpu / wall:.0f}% of one core, client side included); "
        f"dropped adverts {sum(s.adverts_dropped for s in sensors)}, "
        f"audio {sum(s.audio_dropped for s in sensors)} B"
    )
    assert received["pcm"] == want_pcm


@pytest.mark.benchmark
def test_send_path_cost() -> None:
    """Emulator-side cost of one audio message: protobuf encode, Noise encrypt, frame."""
    psk = os.urandom(32)
    transport = NoiseTransport(psk, "sensor-x", "240ac4000001")
    client = NoiseConnection.from_name(PROTOCOL_NAME)
    client.set_as_initiator()
    client.set_psks(psk)
    client.set_prologue(b"NoiseAPIInit\x00\x00")
    client.start_handshake()
    transport.receive(b"\x01\x00\x00" + encode_noise_frame(b"\x00" + client.write_message()))
    assert transport.ready
    audio = api_pb2.VoiceAssistantAudio(data=os.urandom(1024))
    n = 20000
    t0 = time.perf_counter()
    for _ in range(n):
        transport.encode(106, audio.SerializeToString())
    per = (time.perf_counter() - t0) / n
    print(f"\nVoiceAssistantAudio of 1024 B: {per * 1e6:.1f} us per message (encode+encrypt+frame)")
