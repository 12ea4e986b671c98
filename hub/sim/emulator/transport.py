"""Per-connection byte transports of the ESPHome API: plaintext, or Noise with its handshake.

A transport turns received bytes into (type, payload) messages and messages into bytes to
write; it never touches a socket, so it tests on bytes alone.
"""

from __future__ import annotations

from enum import Enum
from typing import Final, Protocol

from hub.sim.emulator.frames import (
    NOISE_INDICATOR,
    BadIndicatorError,
    FrameError,
    FrameTooLargeError,
    NoiseFrameDecoder,
    PlaintextDecoder,
    encode_noise_frame,
    encode_plaintext,
    pack_message,
    unpack_message,
)
from hub.sim.emulator.noise import HandshakeError, HandshakeMacError, NoiseResponder, TransportError

ZERO_PSK: Final = bytes(32)
"""The well-known provisioning key of an ESPHome device that has none yet."""
MAX_DATA_FRAME: Final = 0xFFFF
"""After the handshake a Noise frame may use the whole 16-bit length."""
BAD_INDICATOR_REPLY: Final = b"\x00Bad indicator byte"
"""What ESPHome's plaintext helper writes when a frame starts with a non-zero byte."""


class Rejected(FrameError):  # noqa: N818 - reads as a state at call sites
    """The peer must be disconnected; ``reply`` holds the bytes ESPHome writes before closing."""

    def __init__(self, message: str, reply: bytes = b"") -> None:
        super().__init__(message)
        self.reply = reply


class Transport(Protocol):
    """What a session needs from a transport."""

    @property
    def ready(self) -> bool:
        """The handshake (if any) is done: messages may flow."""
        ...

    @property
    def encrypted(self) -> bool:
        """Messages travel under Noise."""
        ...

    def receive(self, data: bytes) -> tuple[bytes, list[tuple[int, bytes]]]:
        """Bytes to write back at once (handshake), and the messages received."""
        ...

    def encode(self, msg_type: int, payload: bytes) -> bytes:
        """The bytes that carry one message."""
        ...


class PlaintextTransport:
    """ESPHome's plaintext protocol (devices without an encryption key)."""

    __slots__ = ("_decoder",)
    ready: Final = True
    encrypted: Final = False

    def __init__(self) -> None:
        self._decoder = PlaintextDecoder()

    def receive(self, data: bytes) -> tuple[bytes, list[tuple[int, bytes]]]:
        try:
            return b"", self._decoder.feed(data)
        except BadIndicatorError as err:
            raise Rejected(str(err), BAD_INDICATOR_REPLY) from err

    def encode(self, msg_type: int, payload: bytes) -> bytes:
        return encode_plaintext(msg_type, payload)


class _NoiseState(Enum):
    CLIENT_HELLO = 1
    HANDSHAKE = 2
    DATA = 3


class NoiseTransport:
    """ESPHome's Noise protocol: client hello, server hello, handshake, then encrypted data."""

    __slots__ = ("_decoder", "_mac", "_name", "_psk", "_responder", "_state", "ready")
    encrypted: Final = True

    def __init__(self, psk: bytes, name: str, mac_hex: str) -> None:
        self._psk = psk
        self._name = name.encode()
        self._mac = mac_hex.encode()
        self._decoder = NoiseFrameDecoder()
        self._state = _NoiseState.CLIENT_HELLO
        self._responder: NoiseResponder | None = None
        self.ready = False

    def receive(self, data: bytes) -> tuple[bytes, list[tuple[int, bytes]]]:
        try:
            frames = self._decoder.feed(data)
        except BadIndicatorError as err:
            raise Rejected(str(err), _reject("Bad indicator byte")) from err
        except FrameTooLargeError as err:
            reason = "Bad handshake packet len" if not self.ready else ""
            raise Rejected(str(err), _reject(reason) if reason else b"") from err
        out = bytearray()
        messages: list[tuple[int, bytes]] = []
        for body in frames:
            if self._state is _NoiseState.DATA:
                messages.append(self._open(body))
            elif self._state is _NoiseState.CLIENT_HELLO:
                out += self._server_hello(body)
            else:
                try:
                    out += self._handshake(body)
                except Rejected as err:
                    # The server hello of this same read must still reach the client first.
                    err.reply = bytes(out) + err.reply
                    raise
        return bytes(out), messages

    def encode(self, msg_type: int, payload: bytes) -> bytes:
        if self._responder is None or not self.ready:
            raise FrameError("noise transport is not ready for data")
        return encode_noise_frame(self._responder.encrypt(pack_message(msg_type, payload)))

    def _server_hello(self, hello: bytes) -> bytes:
        self._responder = NoiseResponder(self._psk, hello)
        self._state = _NoiseState.HANDSHAKE
        # Protocol 0x01 chosen, then node name and MAC, each NUL-terminated.
        return encode_noise_frame(b"\x01" + self._name + b"\x00" + self._mac + b"\x00")

    def _handshake(self, msg: bytes) -> bytes:
        if not msg:
            raise Rejected("empty handshake message", _reject("Empty handshake message"))
        if msg[0] != 0x00:
            raise Rejected("bad handshake error byte", _reject("Bad handshake error byte"))
        assert self._responder is not None  # set with the server hello
        try:
            reply = self._responder.respond(msg[1:])
        except HandshakeMacError as err:
            raise Rejected(str(err), _reject("Handshake MAC failure")) from err
        except HandshakeError as err:
            raise Rejected(str(err), _reject("Handshake error")) from err
        self._state = _NoiseState.DATA
        self._decoder.max_size = MAX_DATA_FRAME
        self.ready = True
        return encode_noise_frame(b"\x00" + reply)

    def _open(self, body: bytes) -> tuple[int, bytes]:
        assert self._responder is not None
        try:
            return unpack_message(self._responder.decrypt(body))
        except TransportError as err:
            raise Rejected(str(err)) from err


class ProvisioningTransport:
    """An unkeyed device: plaintext, or Noise under the all-zero provisioning key.

    ESPHome 2026 devices with encryption support but no key accept both, told apart by the
    first byte; the zero key lets a client send the real key over an encrypted channel.
    """

    __slots__ = ("_chosen", "_mac", "_name")

    def __init__(self, name: str, mac_hex: str) -> None:
        self._name = name
        self._mac = mac_hex
        self._chosen: PlaintextTransport | NoiseTransport | None = None

    @property
    def ready(self) -> bool:
        return self._chosen is not None and self._chosen.ready

    @property
    def encrypted(self) -> bool:
        """The client chose Noise."""
        return isinstance(self._chosen, NoiseTransport)

    def receive(self, data: bytes) -> tuple[bytes, list[tuple[int, bytes]]]:
        chosen = self._chosen
        if chosen is None:
            if not data:
                return b"", []
            if data[0] == NOISE_INDICATOR:
                chosen = NoiseTransport(ZERO_PSK, self._name, self._mac)
            else:
                chosen = PlaintextTransport()
            self._chosen = chosen
        return chosen.receive(data)

    def encode(self, msg_type: int, payload: bytes) -> bytes:
        if self._chosen is None:
            raise FrameError("no protocol chosen yet")
        return self._chosen.encode(msg_type, payload)


def _reject(reason: str) -> bytes:
    """ESPHome's explicit handshake reject: a frame of 0x01 (failure) and the reason."""
    return encode_noise_frame(b"\x01" + reason.encode())
