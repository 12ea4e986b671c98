"""The few protobuf wire-format pieces the native API needs: varints, length-delimited fields."""

_VARINT = 0
_I64 = 1
_LEN = 2
_I32 = 5


class DecodeError(Exception):
    """Bytes that are not a valid protobuf message."""


def varint(n):
    """Encode a non-negative integer as a varint."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zigzag(n):
    """Map a signed integer to the unsigned one ``sint32`` sends."""
    return (n << 1) ^ (n >> 31) if n < 0 else n << 1


def field_varint(num, value):
    """A varint field, omitted when zero as proto3 does."""
    if not value:
        return b""
    return varint(num << 3) + varint(value)


def field_bytes(num, value):
    """A length-delimited field (string, bytes or sub-message), omitted when empty."""
    if not value:
        return b""
    if isinstance(value, str):
        value = value.encode()
    return varint((num << 3) | _LEN) + varint(len(value)) + value


def _read_varint(buf, pos):
    shift = 0
    result = 0
    while True:
        if pos >= len(buf):
            raise DecodeError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise DecodeError("varint too long")


def decode(buf):
    """Fields of a message as {number: value}; the last value of a repeated field wins."""
    fields = {}
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        num, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, pos = _read_varint(buf, pos)
        elif wire == _LEN:
            size, pos = _read_varint(buf, pos)
            if pos + size > len(buf):
                raise DecodeError("truncated field")
            value = bytes(buf[pos : pos + size])
            pos += size
        elif wire == _I64:
            value, pos = bytes(buf[pos : pos + 8]), pos + 8
        elif wire == _I32:
            value, pos = bytes(buf[pos : pos + 4]), pos + 4
        else:
            raise DecodeError("unsupported wire type")
        if pos > len(buf):
            raise DecodeError("truncated field")
        fields[num] = value
    return fields
