"""Noise_NNpsk0_25519_ChaChaPoly_SHA256, responder side, as ESPHome's native API uses it.

Pattern NNpsk0:  -> psk, e   <- e, ee.  Both handshake payloads are empty, so each message is
a 32-byte ephemeral key followed by a 16-byte tag.
"""

import hashlib
import struct

import chachapoly
import x25519

PROTOCOL_NAME = b"Noise_NNpsk0_25519_ChaChaPoly_SHA256"
_BLOCK = 64


class HandshakeError(Exception):
    """The initiator's handshake message did not authenticate (almost always a wrong key)."""


def _sha256(data):
    return hashlib.sha256(data).digest()


def hmac_sha256(key, msg):
    """HMAC-SHA256 (RFC 2104); hashlib has no hmac on MicroPython."""
    if len(key) > _BLOCK:
        key = _sha256(key)
    key = key + bytes(_BLOCK - len(key))
    ipad = bytes(b ^ 0x36 for b in key)
    opad = bytes(b ^ 0x5C for b in key)
    return _sha256(opad + _sha256(ipad + msg))


def hkdf(ck, ikm, n):
    """Noise's HKDF: ``n`` (2 or 3) 32-byte outputs."""
    temp = hmac_sha256(ck, ikm)
    out1 = hmac_sha256(temp, b"\x01")
    out2 = hmac_sha256(temp, out1 + b"\x02")
    if n == 2:
        return out1, out2
    return out1, out2, hmac_sha256(temp, out2 + b"\x03")


def _nonce(n):
    return struct.pack("<IQ", 0, n)


class CipherState:
    """One direction of a transport: a key and a counting nonce."""

    def __init__(self, key):
        self.key = key
        self.n = 0

    def encrypt(self, plaintext, ad=b""):
        out = chachapoly.seal(self.key, _nonce(self.n), plaintext, ad)
        self.n += 1
        return out

    def decrypt(self, ciphertext, ad=b""):
        out = chachapoly.open_(self.key, _nonce(self.n), ciphertext, ad)
        self.n += 1
        return out


class Responder:
    """The sensor's half of one handshake; ``split()`` gives (receive, send) cipher states."""

    def __init__(self, psk, prologue, keypair=x25519.keypair):
        if len(psk) != 32:
            raise ValueError("noise psk must be 32 bytes")
        self._psk = psk
        self._keypair = keypair
        self._h = _sha256(PROTOCOL_NAME) if len(PROTOCOL_NAME) > 32 else PROTOCOL_NAME
        self._ck = self._h
        self._cs = None
        self._re = None
        self._mix_hash(prologue)

    def _mix_hash(self, data):
        self._h = _sha256(self._h + data)

    def _mix_key(self, ikm):
        self._ck, k = hkdf(self._ck, ikm, 2)
        self._cs = CipherState(k)

    def _mix_key_and_hash(self, ikm):
        self._ck, th, k = hkdf(self._ck, ikm, 3)
        self._mix_hash(th)
        self._cs = CipherState(k)

    def read_message(self, msg):
        """Consume ``-> psk, e``; returns the (empty) payload or raises ``HandshakeError``."""
        if len(msg) < 48:
            raise HandshakeError("handshake message too short")
        self._mix_key_and_hash(self._psk)
        self._re = bytes(msg[:32])
        self._mix_hash(self._re)
        self._mix_key(self._re)
        ct = bytes(msg[32:])
        try:
            payload = self._cs.decrypt(ct, self._h)
        except chachapoly.AuthError:
            raise HandshakeError("handshake MAC failure")
        self._mix_hash(ct)
        return payload

    def write_message(self, payload=b""):
        """Produce ``<- e, ee`` carrying ``payload``."""
        priv, pub = self._keypair()
        self._mix_hash(pub)
        self._mix_key(pub)
        self._mix_key(x25519.x25519(priv, self._re))
        ct = self._cs.encrypt(payload, self._h)
        self._mix_hash(ct)
        return pub + ct

    def split(self):
        """Transport keys: the initiator sends with the first, so we receive with it."""
        k1, k2 = hkdf(self._ck, b"", 2)
        return CipherState(k1), CipherState(k2)
