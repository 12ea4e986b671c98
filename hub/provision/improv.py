"""Improv Wi-Fi over serial: the packet codec and a client session.

A packet is ``"IMPROV"``, version (1), type, length, data, checksum (sum of every byte before
it, mod 256). ESPHome writes these between its log lines on the same UART, so the reader scans
the byte stream for the header and keeps whatever else it sees as log text.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from hub.errors import ProvisioningError
from hub.provision.serialport import SerialPort

_LOGGER = logging.getLogger(__name__)

HEADER: Final = b"IMPROV"
VERSION: Final = 1
_FIXED: Final = len(HEADER) + 3
"""Header, version, type and length come before the data."""
URL_GRACE_S: Final = 1.0
"""After reporting "provisioned", a device sends its URLs within this time, if at all."""
MAX_LOG_KEPT: Final = 4096
"""Log text kept for error messages; older text is dropped."""


class PacketType(IntEnum):
    """What a packet carries."""

    CURRENT_STATE = 0x01
    ERROR_STATE = 0x02
    RPC = 0x03
    RPC_RESULT = 0x04


_TYPES: Final = frozenset(int(t) for t in PacketType)


class State(IntEnum):
    """The device's provisioning state."""

    STOPPED = 0x00
    AUTHORIZATION_REQUIRED = 0x01
    AUTHORIZED = 0x02
    PROVISIONING = 0x03
    PROVISIONED = 0x04


class ErrorCode(IntEnum):
    """Errors a device reports."""

    NONE = 0x00
    INVALID_RPC = 0x01
    UNKNOWN_RPC = 0x02
    UNABLE_TO_CONNECT = 0x03
    NOT_AUTHORIZED = 0x04
    UNKNOWN = 0xFF


class Command(IntEnum):
    """RPC commands."""

    WIFI_SETTINGS = 0x01
    GET_CURRENT_STATE = 0x02
    GET_DEVICE_INFO = 0x03
    GET_WIFI_NETWORKS = 0x04


@dataclass(frozen=True, slots=True)
class Packet:
    """One decoded packet."""

    type: int
    data: bytes


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """The answer to ``GET_DEVICE_INFO``."""

    firmware: str
    version: str
    chip: str
    name: str


def encode_packet(ptype: int, data: bytes) -> bytes:
    """A complete packet with its checksum."""
    if len(data) > 255:
        raise ValueError(f"Improv packet data is {len(data)} bytes; at most 255 fit")
    body = HEADER + bytes((VERSION, ptype, len(data))) + data
    return body + bytes((sum(body) & 0xFF,))


def encode_rpc(command: int, payload: bytes = b"") -> bytes:
    """An RPC packet: command, payload length, payload."""
    if len(payload) > 253:
        raise ValueError(f"Improv RPC payload is {len(payload)} bytes; at most 253 fit")
    return encode_packet(PacketType.RPC, bytes((command, len(payload))) + payload)


def encode_strings(*values: str) -> bytes:
    """Length-prefixed UTF-8 strings, as RPC payloads and results carry them."""
    out = bytearray()
    for value in values:
        raw = value.encode()
        if len(raw) > 255:
            raise ValueError(f"Improv string of {len(raw)} bytes is too long (max 255)")
        out += bytes((len(raw),)) + raw
    return bytes(out)


def decode_strings(data: bytes) -> tuple[str, ...]:
    """The inverse of ``encode_strings``; raises ``ValueError`` on a truncated string."""
    out: list[str] = []
    pos = 0
    while pos < len(data):
        size = data[pos]
        end = pos + 1 + size
        if end > len(data):
            raise ValueError("Improv string runs past the end of its packet")
        out.append(data[pos + 1 : end].decode("utf-8", "replace"))
        pos = end
    return tuple(out)


def wifi_settings(ssid: str, passphrase: str) -> bytes:
    """The RPC packet that sends Wi-Fi credentials."""
    if not ssid:
        raise ValueError("the Wi-Fi network name (SSID) is empty")
    if len(ssid.encode()) > 32:
        raise ValueError(f"SSID {ssid!r} is longer than 32 bytes")
    if len(passphrase.encode()) > 64:
        raise ValueError("the Wi-Fi passphrase is longer than 64 bytes")
    return encode_rpc(Command.WIFI_SETTINGS, encode_strings(ssid, passphrase))


class PacketReader:
    """Finds packets in a serial byte stream that also carries log lines."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.log = bytearray()
        self.bad_checksums = 0

    def feed(self, data: bytes) -> list[Packet]:
        """Add bytes; returns the packets completed by them."""
        self._buf += data
        packets: list[Packet] = []
        while True:
            start = self._buf.find(HEADER)
            if start < 0:
                # Keep a possible partial header; the rest is log text.
                keep = _partial_header_len(self._buf)
                self._keep_log(self._buf[: len(self._buf) - keep])
                del self._buf[: len(self._buf) - keep]
                return packets
            self._keep_log(self._buf[:start])
            del self._buf[:start]
            if not _plausible_start(self._buf):
                # Log text that happens to contain the header: skip it and rescan.
                self._keep_log(self._buf[:1])
                del self._buf[:1]
                continue
            if len(self._buf) < _FIXED:
                return packets
            end = _FIXED + self._buf[8] + 1
            if len(self._buf) < end:
                return packets
            raw = bytes(self._buf[:end])
            if sum(raw[:-1]) & 0xFF != raw[-1] or raw[6] != VERSION:
                # Not a packet after all (or corrupted): skip the header and rescan.
                self.bad_checksums += 1
                self._keep_log(self._buf[:1])
                del self._buf[:1]
                continue
            del self._buf[:end]
            packets.append(Packet(raw[7], raw[_FIXED:-1]))

    def _keep_log(self, data: bytes | bytearray) -> None:
        self.log += data
        if len(self.log) > MAX_LOG_KEPT:
            del self.log[: len(self.log) - MAX_LOG_KEPT]

    def log_tail(self, lines: int = 3) -> str:
        """The last few log lines, cleaned for an error message."""
        text = self.log.decode("utf-8", "replace")
        clean = "".join(c if c.isprintable() or c == "\n" else "?" for c in text)
        return " | ".join(line.strip() for line in clean.splitlines()[-lines:] if line.strip())


def _plausible_start(buf: bytearray) -> bool:
    """Version and type, as far as they have arrived, are ones a device sends."""
    if len(buf) > 6 and buf[6] != VERSION:
        return False
    return not (len(buf) > 7 and buf[7] not in _TYPES)


def _partial_header_len(buf: bytearray) -> int:
    for n in range(min(len(HEADER) - 1, len(buf)), 0, -1):
        if buf.endswith(HEADER[:n]):
            return n
    return 0


class ImprovClient:
    """Talks Improv to one device on a serial port; every wait has a deadline."""

    def __init__(self, port: SerialPort, timeout: float = 3.0) -> None:
        self._port = port
        self._timeout = timeout
        self._reader = PacketReader()
        self._pending: deque[Packet] = deque()

    def current_state(self) -> State:
        """Ask for and return the device's provisioning state."""
        self._port.write(encode_rpc(Command.GET_CURRENT_STATE))
        packet = self._wait({PacketType.CURRENT_STATE}, self._timeout, "its current state")
        return _state(packet)

    def device_info(self) -> DeviceInfo:
        """Ask for the device's firmware, version, chip and name."""
        self._port.write(encode_rpc(Command.GET_DEVICE_INFO))
        packet = self._wait_result(Command.GET_DEVICE_INFO, self._timeout, "device information")
        strings = self._result_strings(packet, Command.GET_DEVICE_INFO)
        if len(strings) < 4:
            raise ProvisioningError(f"device information has {len(strings)} fields, expected 4")
        return DeviceInfo(*strings[:4])

    def send_wifi(self, ssid: str, passphrase: str, timeout: float = 30.0) -> tuple[str, ...]:
        """Send credentials and wait until the device has joined; returns the URLs it reports."""
        try:
            packet_bytes = wifi_settings(ssid, passphrase)
        except ValueError as err:
            raise ProvisioningError(str(err)) from err
        self._port.write(packet_bytes)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            packet = self._wait(
                {PacketType.CURRENT_STATE, PacketType.RPC_RESULT}, left, "the Wi-Fi result"
            )
            if packet.type == PacketType.RPC_RESULT:
                if packet.data[:1] != bytes((Command.WIFI_SETTINGS,)):
                    continue  # a late answer to an earlier command
                return self._result_strings(packet, Command.WIFI_SETTINGS)
            state = _state(packet)
            _LOGGER.debug("improv: device state %s", state.name)
            if state is State.PROVISIONED:
                # The URLs usually follow at once; a device that sends none is still joined.
                try:
                    packet = self._wait_result(Command.WIFI_SETTINGS, URL_GRACE_S, "its URLs")
                except ProvisioningError:
                    return ()
                return self._result_strings(packet, Command.WIFI_SETTINGS)

    def _result_strings(self, packet: Packet, command: int) -> tuple[str, ...]:
        if len(packet.data) < 2 or packet.data[0] != command:
            raise ProvisioningError(
                f"RPC result for command {packet.data[:1].hex()}, not {command}"
            )
        try:
            return decode_strings(packet.data[2 : 2 + packet.data[1]])
        except ValueError as err:
            raise ProvisioningError(f"malformed RPC result: {err}") from err

    def _wait_result(self, command: int, timeout: float, what: str) -> Packet:
        """The RPC result for ``command``, skipping late results for earlier commands.

        ESPHome follows its answer to GET_CURRENT_STATE with an RPC result (its URLs) when it
        is provisioned, so results for other commands can be queued ahead of the one we want.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            packet = self._wait({PacketType.RPC_RESULT}, deadline - time.monotonic(), what)
            if packet.data[:1] == bytes((command,)):
                return packet
            _LOGGER.debug("improv: skipping a result for command %s", packet.data[:1].hex())

    def _wait(self, types: set[int], timeout: float, what: str) -> Packet:
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            while self._pending:
                packet = self._pending.popleft()
                if packet.type == PacketType.ERROR_STATE and packet.data[:1] != b"\x00":
                    raise ProvisioningError(f"device reported an error: {_error_name(packet)}")
                if packet.type in types:
                    return packet
            if time.monotonic() >= deadline:
                break
            self._pending.extend(self._reader.feed(self._port.read(256)))
        tail = self._reader.log_tail()
        heard = f"; last output: {tail}" if tail else "; it sent nothing"
        raise ProvisioningError(f"no Improv answer with {what} within {timeout:.1f}s{heard}")


def _state(packet: Packet) -> State:
    try:
        return State(packet.data[0])
    except (IndexError, ValueError) as err:
        raise ProvisioningError(f"unknown Improv state {packet.data.hex()!r}") from err


def _error_name(packet: Packet) -> str:
    code = packet.data[0]
    try:
        return ErrorCode(code).name.lower().replace("_", " ")
    except ValueError:
        return f"code {code:#04x}"
