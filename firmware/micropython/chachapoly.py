"""ChaCha20-Poly1305 AEAD (RFC 8439) in portable MicroPython.

ChaCha20 runs in Viper (``chacha_viper``) where the port has the native emitter, else in
portable Python. ``seal``/``open`` take the whole message at once because the API frames are
small (a batch of advertisements is under 1.5 kB).
"""

import struct

_M = 0xFFFFFFFF
_SIGMA = (0x61707865, 0x3320646E, 0x79622D32, 0x6B206574)
_P1305 = (1 << 130) - 5
_MASK130 = (1 << 130) - 1
_HIBIT = 1 << 128
_CLAMP = 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF


class AuthError(Exception):
    """The tag did not match: wrong key, or the bytes were changed."""


def _qr(a, b, c, d):
    a = (a + b) & _M
    d ^= a
    d = ((d << 16) | (d >> 16)) & _M
    c = (c + d) & _M
    b ^= c
    b = ((b << 12) | (b >> 20)) & _M
    a = (a + b) & _M
    d ^= a
    d = ((d << 8) | (d >> 24)) & _M
    c = (c + d) & _M
    b ^= c
    b = ((b << 7) | (b >> 25)) & _M
    return a, b, c, d


def _block(key_words, counter, nonce_words):
    s = list(_SIGMA) + list(key_words) + [counter & _M] + list(nonce_words)
    x = list(s)
    for _ in range(10):
        x[0], x[4], x[8], x[12] = _qr(x[0], x[4], x[8], x[12])
        x[1], x[5], x[9], x[13] = _qr(x[1], x[5], x[9], x[13])
        x[2], x[6], x[10], x[14] = _qr(x[2], x[6], x[10], x[14])
        x[3], x[7], x[11], x[15] = _qr(x[3], x[7], x[11], x[15])
        x[0], x[5], x[10], x[15] = _qr(x[0], x[5], x[10], x[15])
        x[1], x[6], x[11], x[12] = _qr(x[1], x[6], x[11], x[12])
        x[2], x[7], x[8], x[13] = _qr(x[2], x[7], x[8], x[13])
        x[3], x[4], x[9], x[14] = _qr(x[3], x[4], x[9], x[14])
    return struct.pack("<16I", *[(x[i] + s[i]) & _M for i in range(16)])


def chacha20_py(key, counter, nonce, data):
    """XOR ``data`` with the ChaCha20 key stream starting at block ``counter`` (portable)."""
    kw = struct.unpack("<8I", key)
    nw = struct.unpack("<3I", nonce)
    out = bytearray(data)
    for off in range(0, len(out), 64):
        ks = _block(kw, counter, nw)
        counter += 1
        for i in range(min(64, len(out) - off)):
            out[off + i] ^= ks[i]
    return bytes(out)


try:
    from chacha_viper import chacha20
except (ImportError, SyntaxError, ValueError):
    # Ports built without the native emitter fall back to the portable code.
    chacha20 = chacha20_py


def poly1305(key, msg):
    """One-time authenticator of ``msg`` under a 32-byte key."""
    r = int.from_bytes(key[:16], "little") & _CLAMP
    s = int.from_bytes(key[16:32], "little")
    acc = 0
    mv = memoryview(msg)
    full = len(msg) & ~15
    for off in range(0, full, 16):
        acc = (acc + int.from_bytes(mv[off : off + 16], "little") + _HIBIT) * r
        # Partial reduction mod 2^130 - 5: shifts and masks are cheaper than a division.
        acc = (acc & _MASK130) + 5 * (acc >> 130)
    if full < len(msg):
        tail = bytes(mv[full:])
        acc = (acc + int.from_bytes(tail, "little") + (1 << (8 * len(tail)))) * r
        acc = (acc & _MASK130) + 5 * (acc >> 130)
    acc = (acc & _MASK130) + 5 * (acc >> 130)
    if acc >= _P1305:
        acc -= _P1305
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, "little")


def _pad16(n):
    return bytes((16 - n % 16) % 16)


def _tag(key, nonce, aad, ct):
    otk = chacha20(key, 0, nonce, bytes(32))
    mac_data = (
        aad + _pad16(len(aad)) + ct + _pad16(len(ct)) + struct.pack("<QQ", len(aad), len(ct))
    )
    return poly1305(otk, mac_data)


def seal(key, nonce, plaintext, aad=b""):
    """Encrypt and authenticate: ciphertext followed by the 16-byte tag."""
    ct = chacha20(key, 1, nonce, plaintext)
    return ct + _tag(key, nonce, aad, ct)


def open_(key, nonce, sealed, aad=b""):
    """Check the tag and decrypt; raises ``AuthError`` on any mismatch."""
    if len(sealed) < 16:
        raise AuthError("sealed message shorter than its tag")
    ct, tag = sealed[:-16], sealed[-16:]
    want = _tag(key, nonce, aad, ct)
    diff = 0
    for a, b in zip(want, tag):
        diff |= a ^ b
    if diff:
        raise AuthError("tag mismatch")
    return chacha20(key, 1, nonce, ct)
