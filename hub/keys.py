"""The hub's device key: an Ed25519 key pair that signs every sealed summary.

The private key never leaves ``<data_dir>/keys`` (directory 0700, file 0600, the raw 32-byte
seed). Researchers get the public key as a ``hub-public-key`` text file and check provenance
with it; its format (see ``docs/summary-schema.md``) is one line::

    homehub-ed25519:<base64 of the raw 32-byte public key> <hub id>

Lines starting with ``#`` and blank lines are ignored. The hub id is the first 16 hex digits
of the SHA-256 of the raw public key, so it is checked against the key when present.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from hub.atomic import fsync_dir, write_synced
from hub.errors import IntegrityError, StoreError

KEY_FILE: Final = "device-ed25519.key"
PUBLIC_PREFIX: Final = "homehub-ed25519:"
"""A public key line: this prefix, then the raw 32-byte key in base64."""
PUBLIC_KEY_BYTES: Final = 32
SECRET_MODE_MASK: Final = 0o077
"""Permission bits that must be clear on the key file: only the hub's user may read it."""


@dataclass(frozen=True, slots=True)
class HubPublicKey:
    """A hub's public key, as researchers hold it."""

    raw: bytes

    @property
    def hub_id(self) -> str:
        """Short, stable id of the hub: the first 16 hex digits of SHA-256 of the key."""
        return hashlib.sha256(self.raw).hexdigest()[:16]

    def text(self) -> str:
        """One line for the ``hub-public-key`` file."""
        return f"{PUBLIC_PREFIX}{base64.b64encode(self.raw).decode()} {self.hub_id}\n"

    def verify(self, signature: bytes, data: bytes) -> None:
        """Raise ``IntegrityError`` unless ``signature`` is this key's over ``data``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, data)
        except InvalidSignature as err:
            raise IntegrityError(f"signature does not match hub {self.hub_id}") from err

    @classmethod
    def parse(cls, text: str) -> HubPublicKey:
        """Read a ``hub-public-key`` file's text (one key line; comments and blanks ignored)."""
        lines = [ln.strip() for ln in text.splitlines()]
        lines = [ln for ln in lines if ln and not ln.startswith("#")]
        if len(lines) != 1:
            msg = f"expected one '{PUBLIC_PREFIX}...' line, found {len(lines)} key lines"
            raise IntegrityError(msg)
        key, _, hub_id = lines[0].partition(" ")
        if not key.startswith(PUBLIC_PREFIX):
            raise IntegrityError(f"not a homehub public key (expected '{PUBLIC_PREFIX}...')")
        try:
            raw = base64.b64decode(key[len(PUBLIC_PREFIX) :], validate=True)
        except ValueError as err:
            raise IntegrityError("hub public key is not valid base64") from err
        if len(raw) != PUBLIC_KEY_BYTES:
            raise IntegrityError(f"hub public key has {len(raw)} bytes, expected 32")
        public = cls(raw)
        if hub_id.strip() and hub_id.strip() != public.hub_id:
            msg = (
                f"hub id {hub_id.strip()[:20]!r} does not match the key (its id is {public.hub_id})"
            )
            raise IntegrityError(msg)
        return public

    @classmethod
    def load(cls, path: Path) -> HubPublicKey:
        """Read a ``hub-public-key`` file; errors name the file."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise IntegrityError(f"{path}: cannot read the hub public key ({err})") from err
        try:
            return cls.parse(text)
        except IntegrityError as err:
            raise IntegrityError(f"{path}: {err}") from err


@dataclass(frozen=True, slots=True)
class DeviceKey:
    """The hub's signing key."""

    private: Ed25519PrivateKey

    @property
    def public(self) -> HubPublicKey:
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return HubPublicKey(raw)

    @property
    def hub_id(self) -> str:
        return self.public.hub_id

    def public_text(self) -> str:
        """The ``hub-public-key`` line."""
        return self.public.text()

    def sign(self, data: bytes) -> bytes:
        """Ed25519 signature over ``data``."""
        return self.private.sign(data)


def load_or_create_device_key(key_dir: Path) -> DeviceKey:
    """Load the hub's key, creating it (0600, atomically) on first use."""
    try:
        return load_device_key(key_dir)
    except FileNotFoundError:
        return _create(key_dir, key_dir / KEY_FILE)


def load_device_key(key_dir: Path) -> DeviceKey:
    """Load the hub's key; ``FileNotFoundError`` if there is none yet.

    A key file that others may read is refused (as ssh does): it may have been copied, and
    signatures made with it no longer prove which hub sealed a summary.
    """
    path = key_dir / KEY_FILE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise
    except OSError as err:
        raise StoreError(f"{path}: cannot read the hub's device key: {err.strerror}") from err
    try:
        mode = os.fstat(fd).st_mode
        raw = os.read(fd, PUBLIC_KEY_BYTES + 1)
    finally:
        os.close(fd)
    if mode & SECRET_MODE_MASK:
        msg = f"{path}: mode {mode & 0o777:o} lets others read the device key; expected 600"
        raise StoreError(msg)
    if len(raw) != PUBLIC_KEY_BYTES:
        raise StoreError(f"{path}: not a 32-byte Ed25519 private key (corrupt?)")
    return DeviceKey(Ed25519PrivateKey.from_private_bytes(raw))


def _create(key_dir: Path, path: Path) -> DeviceKey:
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write_synced(tmp, raw)
    try:
        os.link(tmp, path)  # never replaces a key another process created meanwhile
    except FileExistsError:
        tmp.unlink()
        return load_or_create_device_key(key_dir)
    tmp.unlink()
    fsync_dir(key_dir)
    return DeviceKey(key)
