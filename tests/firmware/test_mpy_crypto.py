"""The firmware's own crypto on the MicroPython unix port, against RFC test vectors and CPython."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from tests.firmware.conftest import run_mpy

pytestmark = pytest.mark.firmware


def test_x25519_rfc7748_vectors(micropython: str) -> None:
    out = run_mpy(
        micropython,
        """
import x25519
from binascii import unhexlify as h, hexlify
k = h("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4")
u = h("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c")
print(hexlify(x25519.x25519(k, u)).decode())
a = h("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
print(hexlify(x25519.public_key(a)).decode())
""",
    ).split()
    assert out == [
        "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
    ]


def test_x25519_matches_cryptography(micropython: str) -> None:
    priv, peer = os.urandom(32), X25519PrivateKey.generate()
    peer_pub = peer.public_key().public_bytes_raw()
    out = run_mpy(
        micropython,
        f"""
import x25519
from binascii import hexlify
print(hexlify(x25519.public_key({priv!r})).decode())
print(hexlify(x25519.x25519({priv!r}, {peer_pub!r})).decode())
""",
    ).split()
    mine = X25519PrivateKey.from_private_bytes(priv)
    assert out[0] == mine.public_key().public_bytes_raw().hex()
    assert out[1] == mine.exchange(X25519PublicKey.from_public_bytes(peer_pub)).hex()


def test_chachapoly_rfc8439_vector(micropython: str) -> None:
    out = run_mpy(
        micropython,
        """
import chachapoly
from binascii import unhexlify as h, hexlify
key = bytes(range(0x80, 0xa0))
nonce = h("070000004041424344454647")
aad = h("50515253c0c1c2c3c4c5c6c7")
pt = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
pt += b"future, sunscreen would be it."
s = chachapoly.seal(key, nonce, pt, aad)
print(hexlify(s).decode())
print(chachapoly.open_(key, nonce, s, aad) == pt)
bad = bytearray(s); bad[3] ^= 1
try:
    chachapoly.open_(key, nonce, bytes(bad), aad)
    print("accepted")
except chachapoly.AuthError:
    print("refused")
""",
    ).split()
    assert out[0].startswith("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6")
    assert out[0].endswith("1ae10b594f09e26a7e902ecbd0600691")
    assert out[1:] == ["True", "refused"]


def test_chacha20_uses_viper_on_the_unix_port(micropython: str) -> None:
    out = run_mpy(
        micropython,
        "import chachapoly, chacha_viper\nprint(chachapoly.chacha20 is chacha_viper.chacha20)",
    )
    assert out.strip() == "True"


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 1000])
def test_portable_chacha20_matches_viper(micropython: str, size: int) -> None:
    key, nonce, data = os.urandom(32), os.urandom(12), os.urandom(size)
    out = run_mpy(
        micropython,
        f"""
import chachapoly, chacha_viper
a = chachapoly.chacha20_py({key!r}, 7, {nonce!r}, {data!r})
b = chacha_viper.chacha20({key!r}, 7, {nonce!r}, {data!r})
print(a == b, len(a))
""",
    ).split()
    assert out == ["True", str(size)]


def test_poly1305_rfc8439_vector(micropython: str) -> None:
    out = run_mpy(
        micropython,
        """
import chachapoly
from binascii import unhexlify as h, hexlify
key = h("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b")
print(hexlify(chachapoly.poly1305(key, b"Cryptographic Forum Research Group")).decode())
print(hexlify(chachapoly.poly1305(b"\\xff" * 32, b"\\xff" * 800)).decode())
""",
    ).split()
    assert out[0] == "a8061dc1305136c6c22b8baf0c0127a9"
    assert out[1] == _poly1305(b"\xff" * 32, b"\xff" * 800).hex()


def _poly1305(key: bytes, msg: bytes) -> bytes:
    """A straightforward reference, for inputs that stress the firmware's reduction."""
    p = (1 << 130) - 5
    r = int.from_bytes(key[:16], "little") & 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF
    acc = 0
    for i in range(0, len(msg), 16):
        chunk = msg[i : i + 16]
        acc = (acc + int.from_bytes(chunk + b"\x01", "little")) * r % p
    return ((acc + int.from_bytes(key[16:], "little")) % (1 << 128)).to_bytes(16, "little")


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 63, 64, 65, 700])
def test_chachapoly_matches_cryptography(micropython: str, size: int) -> None:
    key, nonce, aad, pt = os.urandom(32), os.urandom(12), os.urandom(size % 40), os.urandom(size)
    out = run_mpy(
        micropython,
        f"""
import chachapoly
from binascii import hexlify
print(hexlify(chachapoly.seal({key!r}, {nonce!r}, {pt!r}, {aad!r})).decode() or "-")
""",
    ).strip()
    assert out == ChaCha20Poly1305(key).encrypt(nonce, pt, aad).hex()
