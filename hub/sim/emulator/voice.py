"""The voice_assistant side of the emulator: continuous API-audio pipelines, as ESPHome runs them.

After a client subscribes with the API_AUDIO flag, the device starts a pipeline as
``voice_assistant.start_continuous`` does: it sends ``VoiceAssistantRequest(start=True)``, waits
for the client's ``VoiceAssistantResponse`` (port 0: audio over the API), streams PCM in
``VoiceAssistantAudio`` chunks, and after the run ends starts the next run. Muting or the client
unsubscribing stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from enum import Enum
from typing import TYPE_CHECKING, Any, Final

from aioesphomeapi import api_pb2 as _api_pb2

if TYPE_CHECKING:
    from hub.sim.emulator.session import ApiSession

api_pb2: Any = _api_pb2  # classes are generated at import time: mypy cannot see them

_LOGGER = logging.getLogger(__name__)

SAMPLE_RATE_HZ: Final = 16000
CHUNK_BYTES: Final = 32 * SAMPLE_RATE_HZ // 1000 * 2
"""``SEND_BUFFER_SIZE`` in ESPHome's voice_assistant.cpp: 32 ms of 16-bit mono PCM (1024 bytes)."""
BUFFER_LIMIT: Final = 30 * SAMPLE_RATE_HZ * 2
"""PCM held for a slow link (30 s); past it the oldest is dropped. The demo feeds in bursts."""
FEATURE_FLAGS: Final = 1 | 4
"""VOICE_ASSISTANT | API_AUDIO: no speaker, no timers, audio over the API connection."""
SUBSCRIBE_API_AUDIO: Final = 4
"""``VoiceAssistantSubscribeFlag.API_AUDIO``."""
REQUEST_USE_VAD: Final = 1
"""ESPHome's default ``silence_detection: true`` sets this request flag."""
RESTART_DELAY_S: Final = 0.1
"""A short pause before continuous mode starts the next run."""
EVENT_ERROR: Final = 0
EVENT_RUN_END: Final = 2
EVENT_STT_VAD_END: Final = 12
_CHUNKS_PER_WRITE: Final = 16
"""Chunks per socket write, then a wait for the socket buffer: bounded memory, few syscalls."""


class VoiceState(Enum):
    """Where the pipeline is, as in ESPHome's ``voice_assistant::State`` (simplified)."""

    IDLE = "idle"
    STARTING = "starting"
    STREAMING = "streaming"
    ENDING = "ending"


class VoicePipeline:
    """One device's microphone pipeline towards at most one subscribed client."""

    def __init__(self, name: str) -> None:
        self._name = name
        self.state = VoiceState.IDLE
        self.client: ApiSession | None = None
        self.muted = False
        self.dropped_bytes = 0
        """PCM dropped because the buffer was full (the link is slower than the microphone)."""
        self.discarded_bytes = 0
        """PCM fed while not streaming: a real microphone is off then."""
        self.sent_bytes = 0
        self._buffer = bytearray()
        self._sent_upto = 0
        """Bytes of ``_buffer`` already sent or dropped: compacted lazily, not per chunk."""
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._restart: asyncio.TimerHandle | None = None

    @property
    def is_streaming(self) -> bool:
        """A run is active and audio goes to the client."""
        return self.state is VoiceState.STREAMING

    def start(self) -> None:
        """Start the sender task (the device is starting)."""
        if self._task is None:
            self._task = asyncio.create_task(self._send_loop(), name=f"{self._name}-voice")

    async def stop(self) -> None:
        """Stop the sender task and forget the client (the device is stopping)."""
        self._cancel_restart()
        self.client = None
        self.state = VoiceState.IDLE
        self._clear()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def feed(self, pcm: bytes) -> None:
        """Microphone input: 16 kHz 16-bit mono PCM."""
        if self.state is not VoiceState.STREAMING:
            self.discarded_bytes += len(pcm)
            return
        buf = self._buffer
        buf += pcm
        excess = len(buf) - self._sent_upto - BUFFER_LIMIT
        if excess > 0:
            excess += excess & 1  # whole samples, so the stream stays aligned
            self._sent_upto += excess
            self.dropped_bytes += excess
        self._wake.set()

    @property
    def buffered_bytes(self) -> int:
        """PCM waiting to be sent."""
        return len(self._buffer) - self._sent_upto

    def _clear(self) -> None:
        self._buffer.clear()
        self._sent_upto = 0

    def subscribe(self, session: ApiSession, subscribe: bool, flags: int) -> None:
        """SubscribeVoiceAssistantRequest from ``session``."""
        if not subscribe:
            if session is self.client:
                self._end_run(signal=False)
                self.client = None
            return
        if self.client is not None and self.client is not session:
            _LOGGER.warning("%s: a second client asked for the voice assistant", self._name)
            return
        if not flags & SUBSCRIBE_API_AUDIO:
            _LOGGER.warning("%s: voice assistant subscription without API audio", self._name)
            return
        self.client = session
        self._start_run()

    def session_closed(self, session: ApiSession) -> None:
        """The client went away."""
        if session is self.client:
            self._end_run(signal=False)
            self.client = None

    def set_muted(self, muted: bool) -> None:
        """The "Microphone mute" switch."""
        self.muted = muted
        if muted:
            self._end_run(signal=True)
        elif self.client is not None and self.state is VoiceState.IDLE:
            self._start_run()

    def on_message(self, session: ApiSession, msg: Any) -> None:
        """VoiceAssistantResponse / EventResponse / Audio from the client."""
        if session is not self.client:
            return
        if isinstance(msg, api_pb2.VoiceAssistantResponse):
            self._on_response(msg)
        elif isinstance(msg, api_pb2.VoiceAssistantEventResponse):
            self._on_event(msg.event_type)
        # VoiceAssistantAudio from the client is TTS for a speaker this sensor does not have.

    def _on_response(self, msg: Any) -> None:
        if self.state is not VoiceState.STARTING:
            # ESPHome's start_streaming() outside STARTING_PIPELINE: tell the client to stop.
            if self.client is not None:
                self.client.send(api_pb2.VoiceAssistantRequest(start=False))
            return
        if msg.error or msg.port != 0:
            # Only API audio is emulated: a UDP port or an error ends the run (the error path).
            _LOGGER.debug(
                "%s: pipeline refused (error=%s port=%s)", self._name, msg.error, msg.port
            )
            self._end_run(signal=False)
            self._schedule_restart()
            return
        self.state = VoiceState.STREAMING
        self._wake.set()

    def _on_event(self, event_type: int) -> None:
        if event_type == EVENT_STT_VAD_END and self.state is VoiceState.STREAMING:
            self.state = VoiceState.ENDING
            self._clear()
        elif event_type == EVENT_RUN_END:
            self._end_run(signal=False)
            self._schedule_restart()
        elif event_type == EVENT_ERROR:
            self._end_run(signal=True)
            self._schedule_restart()

    def _start_run(self) -> None:
        client = self.client
        if client is None or self.muted or self.state is not VoiceState.IDLE:
            return
        self.state = VoiceState.STARTING
        client.send(
            api_pb2.VoiceAssistantRequest(
                start=True,
                conversation_id=uuid.uuid4().hex,
                flags=REQUEST_USE_VAD,
                audio_settings=api_pb2.VoiceAssistantAudioSettings(
                    noise_suppression_level=0, auto_gain=0, volume_multiplier=1.0
                ),
            )
        )

    def _end_run(self, *, signal: bool) -> None:
        self._cancel_restart()
        was_active = self.state is not VoiceState.IDLE
        self.state = VoiceState.IDLE
        self._clear()
        if signal and was_active and self.client is not None:
            # ESPHome's signal_stop_(): tell the client the run is over.
            self.client.send(api_pb2.VoiceAssistantRequest(start=False))

    def _schedule_restart(self) -> None:
        self._cancel_restart()
        loop = asyncio.get_running_loop()
        self._restart = loop.call_later(RESTART_DELAY_S, self._restart_now)

    def _restart_now(self) -> None:
        self._restart = None
        self._start_run()

    def _cancel_restart(self) -> None:
        if self._restart is not None:
            self._restart.cancel()
            self._restart = None

    async def _send_loop(self) -> None:
        audio = api_pb2.VoiceAssistantAudio
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self.buffered_bytes and self.state is VoiceState.STREAMING:
                client = self.client
                if client is None or not client.ready:
                    break
                start = self._sent_upto
                end = min(start + CHUNK_BYTES * _CHUNKS_PER_WRITE, len(self._buffer))
                buf = self._buffer
                chunks = [
                    audio(data=bytes(buf[i : min(i + CHUNK_BYTES, end)]))
                    for i in range(start, end, CHUNK_BYTES)
                ]
                self._sent_upto = end
                self.sent_bytes += end - start
                client.send_many(chunks)
                self._compact()
                await self._drain(client)
                await asyncio.sleep(0)  # drain() does not yield while the socket keeps up

    def _compact(self) -> None:
        if self._sent_upto:
            del self._buffer[: self._sent_upto]
            self._sent_upto = 0

    async def _drain(self, client: ApiSession) -> None:
        try:
            await client.drain()
        except (ConnectionError, OSError) as err:
            _LOGGER.debug("%s: audio send stopped: %s", self._name, err)
            self._end_run(signal=False)
