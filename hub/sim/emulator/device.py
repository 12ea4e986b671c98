"""``EmulatedSensor``: a virtual ESP32 room sensor speaking the real ESPHome native API."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import random
import re
import time
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any, Final

from aioesphomeapi import api_pb2 as _api_pb2
from zeroconf.asyncio import AsyncZeroconf

from hub.clock import Clock, SystemClock
from hub.sim.emulator import bluetooth, entities, voice
from hub.sim.emulator.mdns import Announcer, txt_record
from hub.sim.emulator.session import ApiSession
from hub.sim.emulator.transport import (
    ZERO_PSK,
    NoiseTransport,
    ProvisioningTransport,
    Transport,
)
from hub.sim.signals import RawAdvertisement

api_pb2: Any = _api_pb2  # classes are generated at import time: mypy cannot see them

_LOGGER = logging.getLogger(__name__)

MODEL: Final = "esp32dev"
MANUFACTURER: Final = "Espressif"
KEY_ACTIVATE_DELAY_S: Final = 0.1
"""``APIServer::update_noise_psk_`` activates a new key after 100 ms, then drops every client."""
STATE_INTERVAL_S: Final = 60.0
"""Home seconds between sensor updates (ESPHome's default ``update_interval``)."""
MIN_STATE_INTERVAL_S: Final = 1.0
"""Real seconds: at 720x the demo would otherwise publish every 83 ms per sensor."""
MAX_CLIENTS: Final = 8
"""``max_connections`` default on ESP32 in ESPHome's api component."""
_MAC_RE: Final = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


class SensorState(Enum):
    """Lifecycle of an emulated sensor."""

    STOPPED = "stopped"
    RUNNING = "running"


class EmulatedSensor:
    """A virtual ESPHome device: API server on TCP, optional mDNS, BLE proxy and microphone."""

    def __init__(
        self,
        name: str,
        *,
        mac: str,
        psk: bytes | None,
        host: str = "127.0.0.1",
        port: int = 0,
        zeroconf: AsyncZeroconf | None = None,
        friendly_name: str = "",
        room_hint: str = "",
        bluetooth_proxy: bool = True,
        voice_assistant: bool = True,
        esphome_version: str = "2026.6.0",
        clock: Clock | None = None,
        on_key_changed: Callable[[bytes | None], None] | None = None,
        package_import_url: str = "",
    ) -> None:
        if not name or not re.fullmatch(r"[a-z0-9-]{1,31}", name):
            raise ValueError(f"sensor name {name!r}: expected 1-31 of a-z, 0-9 and '-'")
        if not _MAC_RE.match(mac):
            raise ValueError(f"sensor {name!r}: mac {mac!r} is not like 24:0a:c4:12:34:56")
        if psk is not None and len(psk) != 32:
            raise ValueError(f"sensor {name!r}: psk must be 32 bytes, got {len(psk)}")
        self.name = name
        self.mac = mac.upper()
        self.mac_hex = mac.replace(":", "").lower()
        self.host = host
        self.port = port
        self.friendly_name = friendly_name
        self.room_hint = room_hint
        self.bluetooth_proxy = bluetooth_proxy
        self.voice_assistant = voice_assistant
        self.esphome_version = esphome_version
        self.on_key_changed = on_key_changed
        self.package_import_url = package_import_url
        self.state = SensorState.STOPPED
        self._psk = psk
        self._zeroconf = zeroconf
        self._clock: Clock = clock or SystemClock()
        self._lock = asyncio.Lock()
        self._server: asyncio.Server | None = None
        self._announcer: Announcer | None = None
        self._sessions: dict[ApiSession, asyncio.Task[None]] = {}
        self._ble_client: ApiSession | None = None
        self._adverts = bluetooth.AdvertisementQueue()
        self._voice = voice.VoicePipeline(name)
        self._entities = entities.entities(voice_assistant)
        self._tasks: list[asyncio.Task[None]] = []
        self._key_tasks: set[asyncio.Task[None]] = set()
        self._saved_key: tuple[bytes | None] | None = None
        """A key stored, not yet active (ESPHome saves it to flash, activates it 100 ms later)."""
        self._started_at = 0.0
        self._rssi = -50 - random.randrange(25)
        self._warned = False
        self.adverts_sent = 0

    # Public API -------------------------------------------------------------------------------

    @property
    def psk(self) -> bytes | None:
        """The current Noise key; None means plaintext (not adopted yet)."""
        return self._psk

    @property
    def is_streaming(self) -> bool:
        """A voice pipeline is running and PCM goes to a client."""
        return self._voice.is_streaming

    @property
    def adverts_dropped(self) -> int:
        """Advertisements dropped from a full queue (a slow or stalled client)."""
        return self._adverts.dropped

    @property
    def audio_dropped(self) -> int:
        """PCM bytes dropped from a full buffer."""
        return self._voice.dropped_bytes

    @property
    def clients(self) -> int:
        """Connected clients (handshake done or not)."""
        return len(self._sessions)

    @property
    def sessions(self) -> tuple[ApiSession, ...]:
        """The open client connections."""
        return tuple(self._sessions)

    @property
    def muted(self) -> bool:
        """The "Microphone mute" switch."""
        return self._voice.muted

    async def start(self) -> None:
        """Listen (re-binding the same port after a restart) and announce; idempotent."""
        async with self._lock:
            if self.state is SensorState.RUNNING:
                return
            self._server = await asyncio.start_server(
                self._accept, self.host, self.port, reuse_address=True
            )
            self.port = self._server.sockets[0].getsockname()[1]
            self._started_at = time.monotonic()
            self._voice.start()
            self._tasks = [
                asyncio.create_task(self._flush_loop(), name=f"{self.name}-ble-flush"),
                asyncio.create_task(self._state_loop(), name=f"{self.name}-states"),
            ]
            self.state = SensorState.RUNNING
            if self._zeroconf is not None:
                self._announcer = Announcer(self._zeroconf, self.name, self.host)
                await self._announcer.register(self.port, self._txt())
            _LOGGER.info("%s: listening on %s:%s", self.name, self.host, self.port)

    async def stop(self) -> None:
        """Withdraw the announcement, close every connection and the listener; idempotent."""
        async with self._lock:
            if self.state is SensorState.STOPPED:
                return
            self.state = SensorState.STOPPED
            announcer, self._announcer = self._announcer, None
            if announcer is not None:
                await announcer.unregister()
            server, self._server = self._server, None
            if server is not None:
                server.close()
            tasks = [*self._tasks, *self._key_tasks, *self._sessions.values()]
            for session in list(self._sessions):
                await session.close()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._tasks = []
            self._key_tasks.clear()
            if self._saved_key is not None:
                # Stopped inside the 100 ms: the key is in flash, so it is active after reboot.
                self._use_key(self._saved_key[0])
            await self._voice.stop()
            self._adverts.clear()
            self._ble_client = None
            if server is not None:
                await server.wait_closed()
            _LOGGER.info("%s: stopped", self.name)

    def queue_advertisements(self, adverts: Iterable[RawAdvertisement]) -> None:
        """What the radio heard; sent in ESPHome's batches to a raw-advertisement subscriber."""
        client = self._ble_client
        if client is None or not client.ready:
            return  # ESPHome's parse_devices drops them when nobody subscribed
        queue = self._adverts
        queue.extend(adverts)
        # Full batches go out at once, as ESPHome flushes at BATCH_SIZE; the rest every 100 ms.
        while not client.congested and (batch := queue.take_batch(full_only=True)) is not None:
            self._send_batch(client, batch)

    def feed_audio(self, pcm: bytes) -> None:
        """What the microphone heard: 16 kHz, 16-bit little-endian mono PCM."""
        if len(pcm) % 2:
            raise ValueError(f"sensor {self.name!r}: PCM of {len(pcm)} bytes is not 16-bit")
        self._voice.feed(pcm)

    def set_muted(self, muted: bool) -> None:
        """Flip the "Microphone mute" switch locally (as the button on the device would)."""
        if self.voice_assistant and muted != self._voice.muted:
            self._voice.set_muted(muted)
            self._publish(entities.state_response(entities.MIC_MUTE, muted))

    # SessionHost ------------------------------------------------------------------------------

    def device_info(self) -> Any:
        """The DeviceInfoResponse."""
        area = None
        if self.room_hint:
            # ESPHome's ``esphome: area:`` fills both the legacy suggested_area and area.
            area = api_pb2.AreaInfo(
                area_id=entities.fnv1_hash(self.room_hint.lower()), name=self.room_hint
            )
        return api_pb2.DeviceInfoResponse(
            area=area,
            name=self.name,
            friendly_name=self.friendly_name,
            mac_address=self.mac,
            esphome_version=self.esphome_version,
            compilation_time="Jun  1 2026, 12:00:00",
            model=MODEL,
            manufacturer=MANUFACTURER,
            suggested_area=self.room_hint,
            bluetooth_proxy_feature_flags=bluetooth.FEATURE_FLAGS if self.bluetooth_proxy else 0,
            bluetooth_mac_address=self._bluetooth_mac() if self.bluetooth_proxy else "",
            voice_assistant_feature_flags=voice.FEATURE_FLAGS if self.voice_assistant else 0,
            api_encryption_supported=True,
            api_encryption_provisionable=self._psk is None,
        )

    def entity_messages(self) -> list[Any]:
        """The ListEntities*Response of every entity."""
        return [entities.list_response(e) for e in self._entities]

    def state_messages(self) -> list[Any]:
        """Current states of every entity."""
        uptime = (time.monotonic() - self._started_at) * self._clock.speed
        values: dict[entities.Entity, float | bool] = {
            entities.WIFI_SIGNAL: self._rssi + random.choice((-1, 0, 0, 1)),
            entities.UPTIME: round(uptime),
            entities.STATUS: True,
            entities.MIC_MUTE: self._voice.muted,
        }
        return [entities.state_response(e, values[e]) for e in self._entities]

    def switch_command(self, key: int, state: bool) -> None:
        """SwitchCommandRequest: only the mute switch exists."""
        if self.voice_assistant and key == entities.MIC_MUTE.key:
            self.set_muted(state)

    def ble_subscribe(self, session: ApiSession, flags: int) -> None:
        """SubscribeBluetoothLEAdvertisementsRequest."""
        if not self.bluetooth_proxy:
            return
        if self._ble_client is not None and self._ble_client is not session:
            # BluetoothProxy::subscribe_api_connection: "Only one API subscription is allowed"
            _LOGGER.warning("%s: a second client asked for advertisements", self.name)
            return
        if not flags & 1:  # BLUETOOTH_PROXY_SUBSCRIPTION_FLAG_RAW_ADVERTISEMENTS
            _LOGGER.warning("%s: only raw advertisement subscriptions are emulated", self.name)
            return
        self._ble_client = session
        session.send(bluetooth.scanner_state())

    def ble_unsubscribe(self, session: ApiSession) -> None:
        """UnsubscribeBluetoothLEAdvertisementsRequest."""
        if self._ble_client is session:
            self._ble_client = None
            self._adverts.clear()

    def set_key(self, session: ApiSession, key: bytes) -> bool:
        """NoiseEncryptionSetKeyRequest: base64 key (empty clears it), as ESPHome handles it."""
        if not session.encrypted:
            _LOGGER.warning("%s: setting the key over plaintext is deprecated", self.name)
        if key:
            try:
                psk: bytes | None = base64.b64decode(key, validate=True)
            except binascii.Error:
                psk = None
            if psk is None or len(psk) != 32:
                _LOGGER.warning("%s: invalid encryption key length", self.name)
                return False
            if psk == ZERO_PSK:
                # Reserved as the provisioning key: accepting it would leave the device open.
                _LOGGER.warning("%s: refused the all-zero encryption key", self.name)
                return False
        else:
            psk = None
        if psk == self._psk:
            return True  # "New PSK matches old"
        self._saved_key = (psk,)
        task = asyncio.create_task(self._activate_key(psk), name=f"{self.name}-set-key")
        self._key_tasks.add(task)
        task.add_done_callback(self._key_tasks.discard)
        return True

    def voice_subscribe(self, session: ApiSession, subscribe: bool, flags: int) -> None:
        """SubscribeVoiceAssistantRequest."""
        if self.voice_assistant:
            self._voice.subscribe(session, subscribe, flags)

    def voice_message(self, session: ApiSession, msg: Any) -> None:
        """Voice assistant messages from a client."""
        self._voice.on_message(session, msg)

    def session_closed(self, session: ApiSession) -> None:
        """A connection ended: drop its subscriptions."""
        self._sessions.pop(session, None)
        self._voice.session_closed(session)
        self.ble_unsubscribe(session)

    def warn_once(self, message: str, *args: object) -> None:
        """First problem at WARNING, repeats at DEBUG."""
        _LOGGER.log(logging.DEBUG if self._warned else logging.WARNING, message, *args)
        self._warned = True

    # Internals --------------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.state is not SensorState.RUNNING or len(self._sessions) >= MAX_CLIENTS:
            writer.close()
            return
        transport: Transport
        if self._psk is None:
            transport = ProvisioningTransport(self.name, self.mac_hex)
        else:
            transport = NoiseTransport(self._psk, self.name, self.mac_hex)
        session = ApiSession(self, transport, reader, writer)
        task = asyncio.current_task()
        assert task is not None
        self._sessions[session] = task
        await session.run()

    async def _activate_key(self, psk: bytes | None) -> None:
        await asyncio.sleep(KEY_ACTIVATE_DELAY_S)
        self._use_key(psk)
        _LOGGER.warning("%s: disconnecting all clients to reset the encryption key", self.name)
        for session in list(self._sessions):
            session.send(api_pb2.DisconnectRequest())
        if self._announcer is not None:
            await self._announcer.update(self.port, self._txt())

    def _use_key(self, psk: bytes | None) -> None:
        self._saved_key = None
        self._psk = psk
        if self.on_key_changed is not None:
            self.on_key_changed(psk)

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(bluetooth.FLUSH_INTERVAL_S)
            client = self._ble_client
            if client is None:
                continue
            while not client.congested and (batch := self._adverts.take_batch(False)) is not None:
                self._send_batch(client, batch)

    def _send_batch(self, client: ApiSession, batch: Any) -> None:
        client.send(batch)
        self.adverts_sent += len(batch.advertisements)

    async def _state_loop(self) -> None:
        interval = max(STATE_INTERVAL_S / self._clock.speed, MIN_STATE_INTERVAL_S)
        while True:
            await asyncio.sleep(interval)
            for msg in self.state_messages():
                if not isinstance(msg, api_pb2.SwitchStateResponse):
                    self._publish(msg)

    def _publish(self, msg: Any) -> None:
        for session in self._sessions:
            if session.subscribed_states:
                session.send(msg)

    def _bluetooth_mac(self) -> str:
        # ESP32's Bluetooth MAC is the base (Wi-Fi station) MAC + 2.
        value = (int(self.mac_hex, 16) + 2) & 0xFFFFFFFFFFFF
        return ":".join(f"{(value >> s) & 0xFF:02X}" for s in range(40, -8, -8))

    def _txt(self) -> dict[str, str]:
        return txt_record(
            friendly_name=self.friendly_name,
            version=self.esphome_version,
            mac_hex=self.mac_hex,
            encrypted=self._psk is not None,
            package_import_url=self.package_import_url,
        )
