"""ESPHome native API frame codecs (plaintext and Noise transport frames), tested on bytes alone.

Plaintext frames are ``0x00, varint(len), varint(type), payload``. Noise transport frames are
``0x01, len_hi, len_lo, body``; once the handshake is done each body decrypts to
``type_hi, type_lo, len_hi, len_lo, payload``.
"""

from __future__ import annotations

from typing import Final

from hub.errors import HubError

PLAINTEXT_INDICATOR: Final = 0x00
NOISE_INDICATOR: Final = 0x01
MAX_PLAINTEXT_PAYLOAD: Final = 1 << 20
"""A sanity bound: ESPHome devices never accept messages near this size."""
MAX_HANDSHAKE_FRAME: Final = 128
"""ESPHome ``api_frame_helper_noise.cpp``: handshake frames over 128 bytes are refused."""
_MAX_VARINT_BYTES: Final = 5
"""A uint32 varint (ESPHome decodes lengths and types as uint32)."""


class FrameError(HubError):
    """Bytes from a peer are not a valid ESPHome API frame."""


class BadIndicatorError(FrameError):
    """A frame starts with the other protocol's indicator byte (or garbage)."""


class FrameTooLargeError(FrameError):
    """A frame is larger than the current phase allows."""


def encode_varint(value: int) -> bytes:
    """Protobuf base-128 varint of a non-negative integer."""
    if value < 0:
        raise FrameError(f"varint must be non-negative, got {value}")
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _decode_varint(buf: bytes | bytearray, pos: int) -> tuple[int, int] | None:
    """(value, next position), or None if the buffer ends inside the varint."""
    result = 0
    for i in range(_MAX_VARINT_BYTES):
        if pos + i >= len(buf):
            return None
        byte = buf[pos + i]
        result |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return result, pos + i + 1
    raise FrameError(f"varint longer than {_MAX_VARINT_BYTES} bytes")


def encode_plaintext(msg_type: int, payload: bytes) -> bytes:
    """One plaintext frame."""
    return b"\x00" + encode_varint(len(payload)) + encode_varint(msg_type) + payload


def encode_noise_frame(body: bytes) -> bytes:
    """One Noise transport frame around ``body`` (a handshake message or a ciphertext)."""
    size = len(body)
    if size > 0xFFFF:
        raise FrameError(f"noise frame body of {size} bytes exceeds 65535")
    return bytes((NOISE_INDICATOR, size >> 8, size & 0xFF)) + body


def pack_message(msg_type: int, payload: bytes) -> bytes:
    """The plaintext inside a Noise data frame: 16-bit type, 16-bit length, payload."""
    size = len(payload)
    if not 0 <= msg_type <= 0xFFFF or size > 0xFFFF:
        raise FrameError(f"message type {msg_type} or length {size} does not fit 16 bits")
    return bytes((msg_type >> 8, msg_type & 0xFF, size >> 8, size & 0xFF)) + payload


def unpack_message(plain: bytes) -> tuple[int, bytes]:
    """Split a decrypted Noise data frame into (type, payload)."""
    if len(plain) < 4:
        raise FrameError(f"decrypted message of {len(plain)} bytes is shorter than its header")
    size = (plain[2] << 8) | plain[3]
    if size != len(plain) - 4:
        raise FrameError(f"message header says {size} bytes, frame holds {len(plain) - 4}")
    return (plain[0] << 8) | plain[1], plain[4:]


class PlaintextDecoder:
    """Incremental decoder of plaintext frames from a byte stream."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Add received bytes; return the complete (type, payload) messages, in order."""
        buf = self._buf
        buf += data
        out: list[tuple[int, bytes]] = []
        pos = 0
        while pos < len(buf):
            if buf[pos] != PLAINTEXT_INDICATOR:
                raise BadIndicatorError(f"bad plaintext indicator byte 0x{buf[pos]:02x}")
            size_at = _decode_varint(buf, pos + 1)
            if size_at is None:
                break
            size, at = size_at
            if size > MAX_PLAINTEXT_PAYLOAD:
                raise FrameTooLargeError(f"plaintext message of {size} bytes is too large")
            type_at = _decode_varint(buf, at)
            if type_at is None:
                break
            msg_type, at = type_at
            if len(buf) - at < size:
                break
            out.append((msg_type, bytes(buf[at : at + size])))
            pos = at + size
        del buf[:pos]
        return out


class NoiseFrameDecoder:
    """Incremental decoder of Noise transport frames; ``max_size`` bounds each body."""

    __slots__ = ("_buf", "max_size")

    def __init__(self, max_size: int = MAX_HANDSHAKE_FRAME) -> None:
        self._buf = bytearray()
        self.max_size = max_size

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the complete frame bodies, in order."""
        buf = self._buf
        buf += data
        out: list[bytes] = []
        pos = 0
        while len(buf) - pos >= 3:
            if buf[pos] != NOISE_INDICATOR:
                raise BadIndicatorError(f"bad noise indicator byte 0x{buf[pos]:02x}")
            size = (buf[pos + 1] << 8) | buf[pos + 2]
            if size > self.max_size:
                raise FrameTooLargeError(f"noise frame of {size} bytes exceeds {self.max_size}")
            if len(buf) - pos - 3 < size:
                break
            out.append(bytes(buf[pos + 3 : pos + 3 + size]))
            pos += 3 + size
        del buf[:pos]
        return out
