"""ChaCha20 block function in Viper: native 32-bit arithmetic on the ESP32 (and the unix port).

Pure-Python ChaCha20 spends most of its time in big-integer objects, because a 32-bit word
does not fit MicroPython's 31-bit small ints on the ESP32; Viper keeps words in registers.
"""

import array
import struct

import micropython

_SIGMA = (0x61707865, 0x3320646E, 0x79622D32, 0x6B206574)


@micropython.viper
def _qr(x: ptr32, a: int, b: int, c: int, d: int):
    m = uint(0xFFFFFFFF)
    xa = uint(x[a])
    xb = uint(x[b])
    xc = uint(x[c])
    xd = uint(x[d])
    xa = (xa + xb) & m
    xd ^= xa
    xd = ((xd << 16) | (xd >> 16)) & m
    xc = (xc + xd) & m
    xb ^= xc
    xb = ((xb << 12) | (xb >> 20)) & m
    xa = (xa + xb) & m
    xd ^= xa
    xd = ((xd << 8) | (xd >> 24)) & m
    xc = (xc + xd) & m
    xb ^= xc
    xb = ((xb << 7) | (xb >> 25)) & m
    x[a] = xa
    x[b] = xb
    x[c] = xc
    x[d] = xd


@micropython.viper
def _block_xor(s: ptr32, x: ptr32, out: ptr8, data: ptr8, off: int, n: int):
    m = uint(0xFFFFFFFF)
    for i in range(16):
        x[i] = s[i]
    for _ in range(10):
        _qr(x, 0, 4, 8, 12)
        _qr(x, 1, 5, 9, 13)
        _qr(x, 2, 6, 10, 14)
        _qr(x, 3, 7, 11, 15)
        _qr(x, 0, 5, 10, 15)
        _qr(x, 1, 6, 11, 12)
        _qr(x, 2, 7, 8, 13)
        _qr(x, 3, 4, 9, 14)
    for i in range(16):
        x[i] = (uint(x[i]) + uint(s[i])) & m
    ks = ptr8(x)
    for i in range(n):
        out[off + i] = data[off + i] ^ ks[i]


def chacha20(key, counter, nonce, data):
    """XOR ``data`` with the ChaCha20 key stream starting at block ``counter``."""
    s = array.array("I", _SIGMA)
    s.extend(struct.unpack("<8I", key))
    s.append(counter)
    s.extend(struct.unpack("<3I", nonce))
    x = array.array("I", bytes(64))
    data = bytes(data)
    out = bytearray(len(data))
    for off in range(0, len(data), 64):
        _block_xor(s, x, out, data, off, min(64, len(data) - off))
        s[12] += 1
    return bytes(out)
