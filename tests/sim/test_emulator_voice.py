"""Voice assistant continuous API audio from the emulator to the real aioesphomeapi client."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aioesphomeapi import APIClient, VoiceAssistantEventType

from hub.sim.emulator import EmulatedSensor, voice
from hub.sim.emulator.entities import MIC_MUTE
from tests.sim.conftest import wait_for

SensorFactory = Callable[..., Awaitable[EmulatedSensor]]
Connect = Callable[..., Awaitable[APIClient]]


class Pipeline:
    """What the client side of a pipeline saw."""

    def __init__(self, port: int | None = 0) -> None:
        self.port = port
        self.starts: list[tuple[str, int, Any]] = []
        self.stops: list[bool] = []
        self.chunks: list[bytes] = []

    async def handle_start(
        self, conversation_id: str, flags: int, settings: Any, wake: Any
    ) -> int | None:
        self.starts.append((conversation_id, flags, settings))
        return self.port

    async def handle_stop(self, abort: bool) -> None:
        self.stops.append(abort)

    async def handle_audio(self, data: bytes, data2: bytes | None) -> None:
        self.chunks.append(data)

    def subscribe(self, client: APIClient) -> Callable[[], None]:
        return client.subscribe_voice_assistant(
            handle_start=self.handle_start,
            handle_stop=self.handle_stop,
            handle_audio=self.handle_audio,
        )


async def _streaming(
    make_sensor: SensorFactory, connect: Connect
) -> tuple[EmulatedSensor, APIClient, Pipeline, Callable[[], None]]:
    psk = os.urandom(32)
    sensor = await make_sensor(psk=psk)
    client = await connect(sensor, psk)
    pipeline = Pipeline()
    unsub = pipeline.subscribe(client)
    await wait_for(lambda: sensor.is_streaming)
    return sensor, client, pipeline, unsub


async def test_exact_pcm_arrives_in_esphome_chunks(
    make_sensor: SensorFactory, connect: Connect
) -> None:
    sensor, _, pipeline, _ = await _streaming(make_sensor, connect)
    conversation_id, flags, settings = pipeline.starts[0]
    assert conversation_id and flags & voice.REQUEST_USE_VAD and settings.volume_multiplier == 1.0
    pcm = os.urandom(16000 * 2)  # one second
    for size in (1000, 3002, 77 * 2, len(pcm)):
        sensor.feed_audio(pcm[: size if size < len(pcm) else None])
    fed = pcm[:1000] + pcm[:3002] + pcm[:154] + pcm
    await wait_for(lambda: sum(map(len, pipeline.chunks)) == len(fed))
    assert b"".join(pipeline.chunks) == fed
    assert max(map(len, pipeline.chunks)) == voice.CHUNK_BYTES == 1024


async def test_mute_stops_and_unmute_restarts(make_sensor: SensorFactory, connect: Connect) -> None:
    sensor, client, pipeline, _ = await _streaming(make_sensor, connect)
    client.switch_command(MIC_MUTE.key, True)
    await wait_for(lambda: not sensor.is_streaming and pipeline.stops == [True])
    sensor.feed_audio(bytes(2048))
    assert sensor._voice.discarded_bytes == 2048
    client.switch_command(MIC_MUTE.key, False)
    await wait_for(lambda: sensor.is_streaming and len(pipeline.starts) == 2)
    assert pipeline.chunks == []


async def test_run_end_restarts_the_pipeline_as_continuous_mode(
    make_sensor: SensorFactory, connect: Connect
) -> None:
    sensor, client, pipeline, _ = await _streaming(make_sensor, connect)
    client.send_voice_assistant_event(VoiceAssistantEventType.VOICE_ASSISTANT_STT_VAD_END, None)
    await wait_for(lambda: not sensor.is_streaming)
    client.send_voice_assistant_event(VoiceAssistantEventType.VOICE_ASSISTANT_RUN_END, None)
    await wait_for(lambda: len(pipeline.starts) == 2 and sensor.is_streaming)
    assert pipeline.starts[0][0] != pipeline.starts[1][0]  # a new conversation


async def test_unsubscribe_stops_streaming(make_sensor: SensorFactory, connect: Connect) -> None:
    sensor, _, pipeline, unsub = await _streaming(make_sensor, connect)
    unsub()
    await wait_for(lambda: not sensor.is_streaming)
    sensor.feed_audio(bytes(4096))
    assert sensor._voice.buffered_bytes == 0


async def test_refused_start_is_retried(make_sensor: SensorFactory, connect: Connect) -> None:
    sensor = await make_sensor()
    client = await connect(sensor)
    pipeline = Pipeline(port=None)  # the client cannot take audio: VoiceAssistantResponse(error)
    pipeline.subscribe(client)
    await wait_for(lambda: len(pipeline.starts) >= 2)
    assert not sensor.is_streaming


async def test_full_buffer_drops_oldest_audio(
    make_sensor: SensorFactory, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(voice, "BUFFER_LIMIT", 4096)
    sensor, _, pipeline, _ = await _streaming(make_sensor, connect)
    pcm = os.urandom(10000)
    sensor.feed_audio(pcm)  # arrives before the sender runs: only the newest 4096 bytes fit
    await wait_for(lambda: sum(map(len, pipeline.chunks)) == 4096)
    assert b"".join(pipeline.chunks) == pcm[-4096:]
    assert sensor.audio_dropped == 10000 - 4096
