"""X25519 Diffie-Hellman (RFC 7748) on MicroPython's big integers.

Not constant-time: a bignum ladder leaks timing to a local attacker with a probe on the board,
which is outside this sensor's threat model (the key is per-session and ephemeral).
"""

import os

_P = 2**255 - 19
_A24 = 121665
_BASE = 9


def _scalar(k):
    b = bytearray(k)
    b[0] &= 248
    b[31] &= 127
    b[31] |= 64
    return int.from_bytes(b, "little")


def _ucoord(u):
    b = bytearray(u)
    b[31] &= 127
    return int.from_bytes(b, "little") % _P


def _ladder(k, x1):
    p = _P
    x2, z2, x3, z3 = 1, 0, x1, 1
    swap = 0
    for t in range(254, -1, -1):
        bit = (k >> t) & 1
        if swap ^ bit:
            x2, x3 = x3, x2
            z2, z3 = z3, z2
        swap = bit
        a = x2 + z2
        aa = a * a % p
        b = x2 - z2
        bb = b * b % p
        e = aa - bb
        da = (x3 - z3) * a % p
        cb = (x3 + z3) * b % p
        x3 = (da + cb) ** 2 % p
        z3 = x1 * ((da - cb) ** 2) % p
        x2 = aa * bb % p
        z2 = e * (aa + _A24 * e) % p
    if swap:
        x2, z2 = x3, z3
    return x2 * pow(z2, p - 2, p) % p


def x25519(k, u):
    """The shared secret for scalar ``k`` and peer public key ``u`` (32 bytes each)."""
    if len(k) != 32 or len(u) != 32:
        raise ValueError("x25519 needs 32-byte inputs")
    out = _ladder(_scalar(k), _ucoord(u)).to_bytes(32, "little")
    if out == bytes(32):
        raise ValueError("x25519: peer key is a low-order point")
    return out


def public_key(k):
    """Public key of private scalar ``k``."""
    return _ladder(_scalar(k), _BASE).to_bytes(32, "little")


def keypair():
    """A fresh (private, public) pair from the OS random source."""
    k = os.urandom(32)
    return k, public_key(k)
