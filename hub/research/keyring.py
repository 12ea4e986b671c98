"""The hub public keys a researcher trusts: one ``hub-public-key`` file, or a directory of them."""

from __future__ import annotations

from pathlib import Path

from hub.errors import IntegrityError
from hub.keys import HubPublicKey


def load_keyring(path: Path) -> dict[str, HubPublicKey]:
    """Hub id -> key, from a ``hub-public-key`` file or every such file in a cohort directory.

    In a directory, files that are not hub keys (a README, ``.age`` files) are skipped; a file
    that claims to be one but is damaged is an error naming it.
    """
    if path.is_dir():
        keys: dict[str, HubPublicKey] = {}
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            if file.stat().st_size > 4096 or b"homehub-ed25519:" not in file.read_bytes():
                continue
            key = HubPublicKey.load(file)
            keys[key.hub_id] = key
        if not keys:
            raise IntegrityError(f"{path}: no hub-public-key files in this directory")
        return keys
    if not path.exists():
        raise IntegrityError(f"{path}: no such hub public key file or directory")
    key = HubPublicKey.load(path)
    return {key.hub_id: key}
