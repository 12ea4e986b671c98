"""One client connection to an emulated sensor: transport bytes in, ESPHome API messages out."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Final, Protocol

from aioesphomeapi import api_pb2 as _api_pb2
from aioesphomeapi.core import MESSAGE_TYPE_TO_PROTO
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

from hub.sim.emulator.frames import FrameError
from hub.sim.emulator.transport import Rejected, Transport

api_pb2: Any = _api_pb2  # classes are generated at import time: mypy cannot see them

_LOGGER = logging.getLogger(__name__)

MESSAGE_TYPE_ID: Final[dict[type[Any], int]] = {
    cls: type_id for type_id, cls in MESSAGE_TYPE_TO_PROTO.items()
}
API_VERSION: Final = (1, 14)
"""``send_hello_response_`` in ESPHome's api_connection.cpp (2026.x)."""
KEEPALIVE_S: Final = 60.0
"""ESPHome pings a silent client after ``KEEPALIVE_TIMEOUT_MS`` (60 s)..."""
KEEPALIVE_DISCONNECT_S: Final = 150.0
"""...and drops it after 2.5 times that without any traffic."""
READ_SIZE: Final = 65536
_BEFORE_HELLO: Final = frozenset(
    MESSAGE_TYPE_ID[cls]
    for cls in (
        api_pb2.HelloRequest,
        api_pb2.DisconnectRequest,
        api_pb2.DisconnectResponse,
        api_pb2.PingRequest,
        api_pb2.PingResponse,
    )
)
WRITE_HIGH_WATER: Final = 256 * 1024
"""Above this many unsent bytes the link counts as congested (a real device's TCP window)."""


class SessionHost(Protocol):
    """What a session needs from its device."""

    name: str

    def device_info(self) -> Any: ...
    def entity_messages(self) -> list[Any]: ...
    def state_messages(self) -> list[Any]: ...
    def switch_command(self, key: int, state: bool) -> None: ...
    def ble_subscribe(self, session: ApiSession, flags: int) -> None: ...
    def ble_unsubscribe(self, session: ApiSession) -> None: ...
    def set_key(self, session: ApiSession, key: bytes) -> bool: ...
    def voice_subscribe(self, session: ApiSession, subscribe: bool, flags: int) -> None: ...
    def voice_message(self, session: ApiSession, msg: Any) -> None: ...
    def session_closed(self, session: ApiSession) -> None: ...
    def warn_once(self, message: str, *args: object) -> None: ...


class ApiSession:
    """Serves one client until it disconnects, fails, or the device stops."""

    def __init__(
        self,
        host: SessionHost,
        transport: Transport,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self._host = host
        self._transport = transport
        self._reader = reader
        self._writer = writer
        self._closing = False
        self._closed = False
        self._hello_done = False
        self.subscribed_states = False
        self.time_offset: float | None = None
        """Client's epoch minus ours at the last GetTimeResponse."""
        self.pings_received = 0
        self.pongs_received = 0
        self._handlers: dict[int, Callable[[bytes], None]] = {
            MESSAGE_TYPE_ID[cls]: handler
            for cls, handler in (
                (api_pb2.HelloRequest, self._on_hello),
                (api_pb2.DisconnectRequest, self._on_disconnect_request),
                (api_pb2.DisconnectResponse, self._on_disconnect_response),
                (api_pb2.PingRequest, self._on_ping),
                (api_pb2.PingResponse, self._on_pong),
                (api_pb2.DeviceInfoRequest, self._on_device_info),
                (api_pb2.ListEntitiesRequest, self._on_list_entities),
                (api_pb2.SubscribeStatesRequest, self._on_subscribe_states),
                (api_pb2.SwitchCommandRequest, self._on_switch_command),
                (api_pb2.GetTimeResponse, self._on_time),
                (api_pb2.SubscribeBluetoothLEAdvertisementsRequest, self._on_ble_subscribe),
                (api_pb2.UnsubscribeBluetoothLEAdvertisementsRequest, self._on_ble_unsubscribe),
                (api_pb2.SubscribeBluetoothConnectionsFreeRequest, self._on_connections_free),
                (api_pb2.NoiseEncryptionSetKeyRequest, self._on_set_key),
                (api_pb2.SubscribeVoiceAssistantRequest, self._on_voice_subscribe),
                (
                    api_pb2.VoiceAssistantResponse,
                    self._voice_handler(api_pb2.VoiceAssistantResponse),
                ),
                (
                    api_pb2.VoiceAssistantEventResponse,
                    self._voice_handler(api_pb2.VoiceAssistantEventResponse),
                ),
                (api_pb2.VoiceAssistantAudio, self._voice_handler(api_pb2.VoiceAssistantAudio)),
                (api_pb2.VoiceAssistantConfigurationRequest, self._on_voice_config),
            )
        }

    @property
    def ready(self) -> bool:
        """The handshake is done and the connection is not closing."""
        return self._transport.ready and not self._closing

    @property
    def encrypted(self) -> bool:
        """The connection uses Noise (a keyed device, or the provisioning key)."""
        return self._transport.encrypted

    @property
    def congested(self) -> bool:
        """Too many bytes wait in the socket buffer (a slow or stalled client)."""
        return self._writer.transport.get_write_buffer_size() > WRITE_HIGH_WATER

    def send(self, msg: Any) -> None:
        """Queue one message for the client (dropped if the connection is closing)."""
        if not self.ready or self._writer.transport.is_closing():
            return
        payload = msg.SerializeToString()
        self._writer.write(self._transport.encode(MESSAGE_TYPE_ID[type(msg)], payload))

    def send_many(self, msgs: list[Any]) -> None:
        """Queue several messages in one socket write (as ESPHome batches small messages)."""
        if not self.ready or self._writer.transport.is_closing():
            return
        encode = self._transport.encode
        self._writer.write(
            b"".join(encode(MESSAGE_TYPE_ID[type(m)], m.SerializeToString()) for m in msgs)
        )

    async def drain(self) -> None:
        """Wait until the socket buffer has room."""
        await self._writer.drain()

    async def run(self) -> None:
        """Read and dispatch until the end of the connection; never raises but CancelledError."""
        try:
            await self._serve()
        except Rejected as err:
            if err.reply:
                self._writer.write(err.reply)
            self._host.warn_once("%s: closed a client connection: %s", self._host.name, err)
        except (FrameError, DecodeError) as err:
            self._host.warn_once("%s: malformed message from a client: %s", self._host.name, err)
        except (ConnectionError, OSError, TimeoutError) as err:
            _LOGGER.debug("%s: client connection ended: %s", self._host.name, err)
        except Exception:  # one bad connection must never take the device down
            _LOGGER.exception("%s: unexpected error serving a client", self._host.name)
        finally:
            await self.close()

    async def close(self) -> None:
        """Close the socket; the device forgets this session."""
        self._closing = True
        if not self._closed:
            self._closed = True
            self._host.session_closed(self)
        writer = self._writer
        if not writer.is_closing():
            writer.close()
        try:
            await writer.wait_closed()
        except (ConnectionError, OSError) as err:
            _LOGGER.debug("%s: close: %s", self._host.name, err)

    async def _serve(self) -> None:
        last_traffic = time.monotonic()
        while not self._closing:
            try:
                data = await asyncio.wait_for(self._reader.read(READ_SIZE), KEEPALIVE_S)
            except TimeoutError:
                if time.monotonic() - last_traffic > KEEPALIVE_DISCONNECT_S:
                    raise
                self.send(api_pb2.PingRequest())
                continue
            if not data:
                return
            last_traffic = time.monotonic()
            reply, messages = self._transport.receive(data)
            if reply:
                self._writer.write(reply)
            for msg_type, payload in messages:
                if not self._hello_done and msg_type not in _BEFORE_HELLO:
                    # ESPHome's on_no_setup_connection(): anything but these before Hello closes.
                    raise Rejected(f"message type {msg_type} before hello")
                handler = self._handlers.get(msg_type)
                if handler is not None:
                    handler(payload)
                else:
                    # As ESPHome: unknown messages are logged and ignored, not fatal.
                    _LOGGER.debug("%s: ignoring message type %d", self._host.name, msg_type)
                if self._closing:
                    return

    def _on_hello(self, payload: bytes) -> None:
        api_pb2.HelloRequest.FromString(payload)
        self._hello_done = True
        host = self._host
        self.send(
            api_pb2.HelloResponse(
                api_version_major=API_VERSION[0],
                api_version_minor=API_VERSION[1],
                server_info=host.device_info().esphome_version,
                name=host.name,
            )
        )
        # ESPHome 2026 authenticates at hello (no passwords) and then asks the client for time.
        self.send(api_pb2.GetTimeRequest())

    def _on_disconnect_request(self, payload: bytes) -> None:
        self.send(api_pb2.DisconnectResponse())
        self._closing = True

    def _on_disconnect_response(self, payload: bytes) -> None:
        self._closing = True

    def _on_ping(self, payload: bytes) -> None:
        self.pings_received += 1
        self.send(api_pb2.PingResponse())

    def _on_pong(self, payload: bytes) -> None:
        self.pongs_received += 1

    def _on_device_info(self, payload: bytes) -> None:
        self.send(self._host.device_info())

    def _on_list_entities(self, payload: bytes) -> None:
        for msg in self._host.entity_messages():
            self.send(msg)
        self.send(api_pb2.ListEntitiesDoneResponse())

    def _on_subscribe_states(self, payload: bytes) -> None:
        self.subscribed_states = True
        for msg in self._host.state_messages():
            self.send(msg)

    def _on_switch_command(self, payload: bytes) -> None:
        msg = api_pb2.SwitchCommandRequest.FromString(payload)
        self._host.switch_command(msg.key, msg.state)

    def _on_time(self, payload: bytes) -> None:
        msg = api_pb2.GetTimeResponse.FromString(payload)
        self.time_offset = msg.epoch_seconds - time.time()

    def _on_ble_subscribe(self, payload: bytes) -> None:
        msg = api_pb2.SubscribeBluetoothLEAdvertisementsRequest.FromString(payload)
        self._host.ble_subscribe(self, msg.flags)

    def _on_ble_unsubscribe(self, payload: bytes) -> None:
        self._host.ble_unsubscribe(self)

    def _on_connections_free(self, payload: bytes) -> None:
        # A passive proxy has no connection slots.
        self.send(api_pb2.BluetoothConnectionsFreeResponse(free=0, limit=0))

    def _on_set_key(self, payload: bytes) -> None:
        msg = api_pb2.NoiseEncryptionSetKeyRequest.FromString(payload)
        self.send(api_pb2.NoiseEncryptionSetKeyResponse(success=self._host.set_key(self, msg.key)))

    def _on_voice_subscribe(self, payload: bytes) -> None:
        msg = api_pb2.SubscribeVoiceAssistantRequest.FromString(payload)
        self._host.voice_subscribe(self, msg.subscribe, msg.flags)

    def _voice_handler(self, cls: Any) -> Callable[[bytes], None]:
        def handle(payload: bytes) -> None:
            self._host.voice_message(self, cls.FromString(payload))

        return handle

    def _on_voice_config(self, payload: bytes) -> None:
        self.send(api_pb2.VoiceAssistantConfigurationResponse(max_active_wake_words=0))
