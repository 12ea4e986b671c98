"""A researcher's age identity: made once, kept private (0600), its recipient given to the study."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pyrage

from hub.errors import ConfigError


def create_identity_file(path: Path) -> str:
    """Write a new X25519 identity to ``path`` (0600, never over an existing file); the recipient.

    The file is in ``age-keygen`` format, so the stock ``age -d -i`` reads it too.
    """
    identity = pyrage.x25519.Identity.generate()
    recipient = str(identity.to_public())
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    text = f"# created: {created}\n# public key: {recipient}\n{identity}\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as err:
        raise ConfigError(f"{path}: already exists; not overwriting an identity") from err
    except OSError as err:
        raise ConfigError(f"{path}: cannot create the identity file: {err.strerror}") from err
    try:
        os.write(fd, text.encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return recipient
