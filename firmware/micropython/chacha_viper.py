"""ChaCha20 block function in Viper: native 32-bit arithmetic on the ESP32 (and the unix port).

Pure-Python ChaCha20 spends most of its time in big-integer objects, because a 32-bit word
does not fit MicroPython's 31-bit small ints on the ESP32; Viper keeps words in registers.
"""

import array
import struct

import micropython

_SIGMA = (0x61707865, 0x3320646E, 0x79622D32, 0x6B206574)


# The 8 quarter rounds are written out: a call between Viper functions goes through the
# runtime, and 80 of them per block would cost more than the arithmetic.
@micropython.viper
def _block_xor(s: ptr32, x: ptr32, out: ptr8, data: ptr8, off: int, n: int):
    m = uint(0xFFFFFFFF)
    x0 = uint(s[0])
    x1 = uint(s[1])
    x2 = uint(s[2])
    x3 = uint(s[3])
    x4 = uint(s[4])
    x5 = uint(s[5])
    x6 = uint(s[6])
    x7 = uint(s[7])
    x8 = uint(s[8])
    x9 = uint(s[9])
    x10 = uint(s[10])
    x11 = uint(s[11])
    x12 = uint(s[12])
    x13 = uint(s[13])
    x14 = uint(s[14])
    x15 = uint(s[15])
    for _ in range(10):
        x0 = (x0 + x4) & m
        x12 ^= x0
        x12 = ((x12 << 16) | (x12 >> 16)) & m
        x8 = (x8 + x12) & m
        x4 ^= x8
        x4 = ((x4 << 12) | (x4 >> 20)) & m
        x0 = (x0 + x4) & m
        x12 ^= x0
        x12 = ((x12 << 8) | (x12 >> 24)) & m
        x8 = (x8 + x12) & m
        x4 ^= x8
        x4 = ((x4 << 7) | (x4 >> 25)) & m
        x1 = (x1 + x5) & m
        x13 ^= x1
        x13 = ((x13 << 16) | (x13 >> 16)) & m
        x9 = (x9 + x13) & m
        x5 ^= x9
        x5 = ((x5 << 12) | (x5 >> 20)) & m
        x1 = (x1 + x5) & m
        x13 ^= x1
        x13 = ((x13 << 8) | (x13 >> 24)) & m
        x9 = (x9 + x13) & m
        x5 ^= x9
        x5 = ((x5 << 7) | (x5 >> 25)) & m
        x2 = (x2 + x6) & m
        x14 ^= x2
        x14 = ((x14 << 16) | (x14 >> 16)) & m
        x10 = (x10 + x14) & m
        x6 ^= x10
        x6 = ((x6 << 12) | (x6 >> 20)) & m
        x2 = (x2 + x6) & m
        x14 ^= x2
        x14 = ((x14 << 8) | (x14 >> 24)) & m
        x10 = (x10 + x14) & m
        x6 ^= x10
        x6 = ((x6 << 7) | (x6 >> 25)) & m
        x3 = (x3 + x7) & m
        x15 ^= x3
        x15 = ((x15 << 16) | (x15 >> 16)) & m
        x11 = (x11 + x15) & m
        x7 ^= x11
        x7 = ((x7 << 12) | (x7 >> 20)) & m
        x3 = (x3 + x7) & m
        x15 ^= x3
        x15 = ((x15 << 8) | (x15 >> 24)) & m
        x11 = (x11 + x15) & m
        x7 ^= x11
        x7 = ((x7 << 7) | (x7 >> 25)) & m
        x0 = (x0 + x5) & m
        x15 ^= x0
        x15 = ((x15 << 16) | (x15 >> 16)) & m
        x10 = (x10 + x15) & m
        x5 ^= x10
        x5 = ((x5 << 12) | (x5 >> 20)) & m
        x0 = (x0 + x5) & m
        x15 ^= x0
        x15 = ((x15 << 8) | (x15 >> 24)) & m
        x10 = (x10 + x15) & m
        x5 ^= x10
        x5 = ((x5 << 7) | (x5 >> 25)) & m
        x1 = (x1 + x6) & m
        x12 ^= x1
        x12 = ((x12 << 16) | (x12 >> 16)) & m
        x11 = (x11 + x12) & m
        x6 ^= x11
        x6 = ((x6 << 12) | (x6 >> 20)) & m
        x1 = (x1 + x6) & m
        x12 ^= x1
        x12 = ((x12 << 8) | (x12 >> 24)) & m
        x11 = (x11 + x12) & m
        x6 ^= x11
        x6 = ((x6 << 7) | (x6 >> 25)) & m
        x2 = (x2 + x7) & m
        x13 ^= x2
        x13 = ((x13 << 16) | (x13 >> 16)) & m
        x8 = (x8 + x13) & m
        x7 ^= x8
        x7 = ((x7 << 12) | (x7 >> 20)) & m
        x2 = (x2 + x7) & m
        x13 ^= x2
        x13 = ((x13 << 8) | (x13 >> 24)) & m
        x8 = (x8 + x13) & m
        x7 ^= x8
        x7 = ((x7 << 7) | (x7 >> 25)) & m
        x3 = (x3 + x4) & m
        x14 ^= x3
        x14 = ((x14 << 16) | (x14 >> 16)) & m
        x9 = (x9 + x14) & m
        x4 ^= x9
        x4 = ((x4 << 12) | (x4 >> 20)) & m
        x3 = (x3 + x4) & m
        x14 ^= x3
        x14 = ((x14 << 8) | (x14 >> 24)) & m
        x9 = (x9 + x14) & m
        x4 ^= x9
        x4 = ((x4 << 7) | (x4 >> 25)) & m
    x[0] = (x0 + uint(s[0])) & m
    x[1] = (x1 + uint(s[1])) & m
    x[2] = (x2 + uint(s[2])) & m
    x[3] = (x3 + uint(s[3])) & m
    x[4] = (x4 + uint(s[4])) & m
    x[5] = (x5 + uint(s[5])) & m
    x[6] = (x6 + uint(s[6])) & m
    x[7] = (x7 + uint(s[7])) & m
    x[8] = (x8 + uint(s[8])) & m
    x[9] = (x9 + uint(s[9])) & m
    x[10] = (x10 + uint(s[10])) & m
    x[11] = (x11 + uint(s[11])) & m
    x[12] = (x12 + uint(s[12])) & m
    x[13] = (x13 + uint(s[13])) & m
    x[14] = (x14 + uint(s[14])) & m
    x[15] = (x15 + uint(s[15])) & m
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
