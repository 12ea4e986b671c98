"""Open sealed summaries: check the hub's signature, then decrypt with a researcher identity."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyrage

from hub.errors import DecryptionError, IntegrityError
from hub.keys import HubPublicKey
from hub.summary.seal import verify


def load_identities(path: Path) -> list[pyrage.x25519.Identity]:
    """Every ``AGE-SECRET-KEY-1...`` line of an age identity file (``age-keygen`` format)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise DecryptionError(f"{path}: cannot read identity file ({err})") from err
    identities = []
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            identities.append(pyrage.x25519.Identity.from_str(line))
        except pyrage.IdentityError as err:
            raise DecryptionError(f"{path}:{number}: not an age X25519 identity") from err
    if not identities:
        raise DecryptionError(f"{path}: no identity in file")
    return identities


def verify_sealed(
    ciphertext: bytes, signature: bytes, public_key: str | HubPublicKey | Mapping[str, HubPublicKey]
) -> str:
    """The signing hub's id; ``IntegrityError`` unless that hub sealed these bytes.

    ``public_key`` is a ``hub-public-key`` file's text, a parsed key, or a cohort's keys by id.
    """
    keys = HubPublicKey.parse(public_key) if isinstance(public_key, str) else public_key
    return verify(ciphertext, signature, keys)


def decrypt(ciphertext: bytes, identities: Sequence[pyrage.x25519.Identity]) -> dict[str, Any]:
    """Decrypt and parse a summary."""
    plain = decrypt_bytes(ciphertext, identities)
    try:
        summary = json.loads(plain.decode("utf-8"))
    except ValueError as err:
        raise IntegrityError("decrypted summary is not UTF-8 JSON") from err
    if not isinstance(summary, dict):
        raise IntegrityError("decrypted summary is not a JSON object")
    return summary


def decrypt_bytes(ciphertext: bytes, identities: Sequence[pyrage.x25519.Identity]) -> bytes:
    """The plaintext of an age file; ``DecryptionError`` if no identity opens it."""
    try:
        return bytes(pyrage.decrypt(ciphertext, list(identities)))
    except pyrage.DecryptError as err:
        msg = f"cannot decrypt: {err} (not sealed to this identity, or damaged)"
        raise DecryptionError(msg) from err


def open_sealed(
    ciphertext: bytes, signature: bytes, identity: str, public_key_text: str
) -> dict[str, Any]:
    """Verify, then decrypt, a summary with one identity string."""
    verify_sealed(ciphertext, signature, public_key_text)
    try:
        ident = pyrage.x25519.Identity.from_str(identity.strip())
    except pyrage.IdentityError as err:
        raise DecryptionError("not an age X25519 identity") from err
    return decrypt(ciphertext, [ident])
