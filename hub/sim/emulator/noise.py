"""The responder side of ESPHome's Noise_NNpsk0_25519_ChaChaPoly_SHA256 handshake and transport."""

from __future__ import annotations

import struct
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from noise.connection import NoiseConnection
from noise.exceptions import NoiseHandshakeError, NoiseInvalidMessage, NoiseValueError

from hub.errors import HubError

PROTOCOL_NAME: Final = b"Noise_NNpsk0_25519_ChaChaPoly_SHA256"
PROLOGUE_PREFIX: Final = b"NoiseAPIInit"
"""ESPHome's prologue: this, then the client hello's 2-byte length and its bytes."""
_NONCE = struct.Struct("<4xQ")
_MAX_NONCE: Final = (1 << 64) - 1

__all__ = ["PROTOCOL_NAME", "HandshakeError", "HandshakeMacError", "NoiseResponder"]


class HandshakeError(HubError):
    """The client's handshake message could not be processed."""


class HandshakeMacError(HandshakeError):
    """The client's handshake failed authentication: it used a different pre-shared key."""


class TransportError(HubError):
    """A transport message failed authentication or the nonce space ran out."""


class NoiseResponder:
    """One connection's Noise state: the handshake, then the two transport ciphers."""

    __slots__ = ("_decrypt", "_encrypt", "_proto", "_rx_nonce", "_tx_nonce")

    def __init__(self, psk: bytes, client_hello: bytes) -> None:
        if len(psk) != 32:
            raise ValueError(f"noise psk must be 32 bytes, got {len(psk)}")
        proto = NoiseConnection.from_name(PROTOCOL_NAME)
        proto.set_as_responder()
        proto.set_psks(psk)
        size = len(client_hello)
        proto.set_prologue(PROLOGUE_PREFIX + bytes((size >> 8, size & 0xFF)) + client_hello)
        self._proto: NoiseConnection | None = proto
        self._encrypt: ChaCha20Poly1305 | None = None
        self._decrypt: ChaCha20Poly1305 | None = None
        self._tx_nonce = 0
        self._rx_nonce = 0

    def respond(self, message: bytes) -> bytes:
        """Read the client's handshake message and return ours; raises ``HandshakeError``."""
        proto = self._proto
        if proto is None:
            raise HandshakeError("handshake already done")
        proto.start_handshake()
        try:
            proto.read_message(message)
        except InvalidTag as err:
            raise HandshakeMacError("handshake MAC failure") from err
        except (NoiseHandshakeError, NoiseInvalidMessage, NoiseValueError, ValueError) as err:
            raise HandshakeError(f"bad handshake message: {err}") from err
        reply = bytes(proto.write_message())
        state = proto.noise_protocol
        # Keep only the two keys: cryptography's AEAD is faster than noiseprotocol's wrappers.
        self._encrypt = ChaCha20Poly1305(state.cipher_state_encrypt.k)
        self._decrypt = ChaCha20Poly1305(state.cipher_state_decrypt.k)
        self._proto = None
        return reply

    def encrypt(self, plain: bytes) -> bytes:
        """Encrypt one transport message."""
        cipher = self._encrypt
        if cipher is None or self._tx_nonce >= _MAX_NONCE:
            raise TransportError("no send cipher")
        nonce = _NONCE.pack(self._tx_nonce)
        self._tx_nonce += 1
        return cipher.encrypt(nonce, plain, None)

    def decrypt(self, cipher_text: bytes) -> bytes:
        """Decrypt one transport message; raises ``TransportError`` if it fails authentication."""
        cipher = self._decrypt
        if cipher is None or self._rx_nonce >= _MAX_NONCE:
            raise TransportError("no receive cipher")
        nonce = _NONCE.pack(self._rx_nonce)
        self._rx_nonce += 1
        try:
            return cipher.decrypt(nonce, cipher_text, None)
        except InvalidTag as err:
            raise TransportError("message failed authentication") from err
