"""Links: one aioesphomeapi client per sensor, kept connected with backoff, adopting new sensors.

A link delivers raw BLE advertisement batches and voice-assistant PCM to a ``LinkSink`` and
reports when it is up. Adoption gives an unkeyed sensor a fresh 32-byte Noise key (stored
first, so a crash between the two steps never strands a sensor with a key the hub forgot).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any, Final, Protocol

from aioesphomeapi.client import APIClient
from aioesphomeapi.core import (
    ZERO_NOISE_PSK,
    APIConnectionError,
    InvalidEncryptionKeyAPIError,
    RequiresEncryptionAPIError,
)
from aioesphomeapi.model import (
    BluetoothProxyFeature,
    VoiceAssistantAudioSettings,
    VoiceAssistantFeature,
)

from hub.clock import Clock
from hub.errors import SensorAuthError, SensorError
from hub.reconnect import Backoff
from hub.sensing.ble import AdvertLike

_LOGGER = logging.getLogger(__name__)

KEEPALIVE_S: Final = 20.0
"""Ping interval; aioesphomeapi declares the link dead after 4.5 missed pings."""
CONNECT_TIMEOUT_S: Final = 10.0
"""A sensor that does not finish the handshake in this time is treated as down."""
CLIENT_INFO: Final = "homehub"
KEY_APPLY_TIMEOUT_S: Final = 5.0
"""ESPHome saves a new key, then drops its connections to switch to it; wait for that drop."""


class LinkState(Enum):
    """Where a link is in its life."""

    STOPPED = "stopped"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    WAITING = "waiting"  # backing off before the next attempt
    KEY_REFUSED = "key_refused"


class LinkSink(Protocol):
    """Where a link delivers what its sensor sends."""

    def on_advertisements(self, room: str, adverts: Iterable[AdvertLike], t: float) -> None:
        """A batch of raw advertisements heard in ``room``."""

    def on_audio(self, room: str, pcm: bytes) -> None:
        """A chunk of 16 kHz PCM from ``room``'s microphone."""

    def on_link_state(self, sensor: str, room: str, up: bool) -> None:
        """The link to ``sensor`` came up or went down."""

    def audio_wanted(self, room: str) -> bool:
        """Whether audio from ``room`` is wanted now (not paused, audio enabled)."""


class KeyStore(Protocol):
    """Per-sensor keys (blocking calls; links run them in a thread)."""

    def sensor_psk(self, name: str) -> bytes | None:
        """The sensor's Noise key, if adopted with one."""

    def save_sensor(self, name: str, room: str, psk: bytes | None) -> None:
        """Record a sensor and its key."""


def encode_psk(psk: bytes) -> str:
    """aioesphomeapi and ESPHome YAML take the key as base64."""
    return base64.b64encode(psk).decode()


class SensorLink:
    """The hub's connection to one sensor."""

    def __init__(
        self,
        name: str,
        room: str,
        *,
        host: str,
        port: int,
        keys: KeyStore,
        sink: LinkSink,
        clock: Clock,
        zeroconf: Any = None,
        backoff: Backoff | None = None,
        allow_plaintext: bool = False,
        encrypted_hint: bool | None = None,
    ) -> None:
        self.name = name
        self.room = room
        self.host = host
        self.port = port
        self._keys = keys
        self._sink = sink
        self._clock = clock
        self._zeroconf = zeroconf
        self._backoff = backoff or Backoff()
        self._allow_plaintext = allow_plaintext
        self._encrypted_hint = encrypted_hint
        self.state = LinkState.STOPPED
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._client: APIClient | None = None
        self._audio_unsub: Callable[[], None] | None = None
        self._audio_capable = False
        self._warned = False

    async def start(self) -> None:
        """Begin connecting (idempotent)."""
        async with self._lock:
            if self._task is not None:
                return
            self.state = LinkState.CONNECTING
            self._task = asyncio.create_task(self._run(), name=f"link-{self.name}")

    async def stop(self) -> None:
        """Disconnect and stop retrying (idempotent)."""
        async with self._lock:
            task, self._task = self._task, None
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self.state = LinkState.STOPPED

    def announce(self, host: str, port: int, encrypted_hint: bool | None = None) -> None:
        """The sensor (re-)announced itself on mDNS: use its address and retry at once."""
        self.host, self.port = host, port
        if encrypted_hint is not None:
            self._encrypted_hint = encrypted_hint
        self._wake.set()

    def set_audio(self, wanted: bool) -> None:
        """Start or stop the sensor's audio stream (pause stops it at the source)."""
        client = self._client
        if client is None or not self._audio_capable:
            return
        if not wanted and self._audio_unsub is not None:
            unsub, self._audio_unsub = self._audio_unsub, None
            unsub()
        elif wanted and self._audio_unsub is None:
            self._audio_unsub = self._subscribe_audio(client)

    async def _run(self) -> None:
        while True:
            delay: float
            try:
                await self._session()
                delay = self._backoff.next_delay()
            except SensorAuthError as err:
                self.state = LinkState.KEY_REFUSED
                self._report(err)
                delay = self._backoff.next_delay(auth_failed=True)
            except SensorError as err:
                self.state = LinkState.WAITING
                self._report(err)
                delay = self._backoff.next_delay()
            if self.state is not LinkState.KEY_REFUSED:
                self.state = LinkState.WAITING
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            self.state = LinkState.CONNECTING

    def _report(self, err: Exception) -> None:
        self.last_error = str(err)
        # first failure at WARNING, repeats at DEBUG
        _LOGGER.log(logging.DEBUG if self._warned else logging.WARNING, "%s", err)
        self._warned = True

    async def _session(self) -> None:
        psk = await asyncio.to_thread(self._keys.sensor_psk, self.name)
        if psk is None:
            psk = await self._adopt()
        client = self._new_client(encode_psk(psk) if psk else None)
        disconnected = asyncio.Event()

        async def on_stop(expected: bool) -> None:
            disconnected.set()

        await self._connect(client, on_stop)
        try:
            info = await client.device_info()
            self._client = client
            if info.bluetooth_proxy_feature_flags & BluetoothProxyFeature.RAW_ADVERTISEMENTS:
                client.subscribe_bluetooth_le_raw_advertisements(self._on_raw)
            self._audio_capable = bool(
                info.voice_assistant_feature_flags & VoiceAssistantFeature.API_AUDIO
            )
            self.set_audio(self._sink.audio_wanted(self.room))
            self.state = LinkState.CONNECTED
            self._backoff.reset()
            self._warned = False
            self.last_error = None
            _LOGGER.info(
                "%s: connected (%s, ESPHome %s)", self.name, self.room, info.esphome_version
            )
            self._sink.on_link_state(self.name, self.room, True)
            await disconnected.wait()
            _LOGGER.info("%s: disconnected", self.name)
        finally:
            self._client = None
            self._audio_unsub = None
            self._sink.on_link_state(self.name, self.room, False)
            with contextlib.suppress(APIConnectionError, OSError):
                await client.disconnect(force=True)

    def _new_client(self, noise_psk: str | None) -> APIClient:
        return APIClient(
            self.host,
            self.port,
            None,
            client_info=CLIENT_INFO,
            keepalive=KEEPALIVE_S,
            zeroconf_instance=self._zeroconf,
            noise_psk=noise_psk,
            expected_name=self.name,
        )

    async def _connect(self, client: APIClient, on_stop: Any = None) -> None:
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                await client.connect(on_stop=on_stop, login=True, log_errors=False)
        except InvalidEncryptionKeyAPIError as err:
            raise SensorAuthError(
                self.name, "refused the hub's encryption key; re-adopt it over USB"
            ) from err
        except RequiresEncryptionAPIError as err:
            raise SensorAuthError(
                self.name, "requires an encryption key the hub does not have; re-adopt it"
            ) from err
        except (APIConnectionError, OSError, TimeoutError) as err:
            raise SensorError(
                self.name, f"cannot connect to {self.host}:{self.port}: {err}"
            ) from err

    async def _adopt(self) -> bytes | None:
        """Give an unkeyed sensor a fresh key; returns it (None: an allowed plaintext sensor)."""
        if self._encrypted_hint:
            raise SensorAuthError(
                self.name, "is encrypted with a key this hub does not have; provision it over USB"
            )
        dropped = asyncio.Event()

        async def on_stop(expected: bool) -> None:
            dropped.set()

        client = await self._provisioning_client(on_stop)
        try:
            info = await client.device_info()
            if not info.api_encryption_supported:
                if not self._allow_plaintext:
                    raise SensorAuthError(
                        self.name, "does not support encryption and plaintext sensors are off"
                    )
                _LOGGER.warning("%s: adopted WITHOUT encryption (allowed by config)", self.name)
                await asyncio.to_thread(self._keys.save_sensor, self.name, self.room, None)
                return None
            psk = os.urandom(32)
            await asyncio.to_thread(self._keys.save_sensor, self.name, self.room, psk)
            # ESPHome base64-decodes the key it is sent (api_connection.cpp)
            if not await client.noise_encryption_set_key(encode_psk(psk).encode()):
                raise SensorError(self.name, "did not accept a new encryption key")
            _LOGGER.warning("%s: adopted with a new encryption key", self.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(dropped.wait(), KEY_APPLY_TIMEOUT_S)
            return psk
        finally:
            with contextlib.suppress(APIConnectionError, OSError):
                await client.disconnect(force=True)

    async def _provisioning_client(self, on_stop: Any) -> APIClient:
        """Connect for adoption: the zero-key Noise handshake where offered, else plaintext."""
        client = self._new_client(ZERO_NOISE_PSK)
        try:
            await self._connect(client, on_stop)
        except SensorError:
            client = self._new_client(None)
            await self._connect(client, on_stop)
        return client

    def _on_raw(self, msg: Any) -> None:
        self._sink.on_advertisements(self.room, msg.advertisements, self._clock.now())

    def _subscribe_audio(self, client: APIClient) -> Callable[[], None]:
        room = self.room
        sink = self._sink

        async def handle_start(
            conversation_id: str,
            flags: int,
            settings: VoiceAssistantAudioSettings,
            wake: str | None,
        ) -> int | None:
            return 0  # port 0: send the audio over this API connection

        async def handle_stop(abort: bool) -> None:
            return None

        async def handle_audio(data: bytes, data2: bytes | None) -> None:
            sink.on_audio(room, data)

        return client.subscribe_voice_assistant(
            handle_start=handle_start, handle_stop=handle_stop, handle_audio=handle_audio
        )
