"""Find sealed summaries on disk and open them one by one: a bad file is reported, not fatal."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyrage

from hub.errors import HubError, IntegrityError
from hub.keys import HubPublicKey
from hub.research.open import decrypt
from hub.summary import schema
from hub.summary.seal import SUFFIX, verify

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Opened:
    """The outcome for one sealed file: who signed it, its summary, or what went wrong."""

    path: Path
    hub_id: str | None = None
    summary: dict[str, Any] | None = None
    error: str | None = None


def find_sealed(paths: Sequence[Path]) -> list[Path]:
    """Every ``*.summary.age`` named or found (recursively) under the given paths, sorted."""
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found.update(p for p in path.rglob("*" + SUFFIX) if p.is_file())
        else:
            found.add(path)
    return sorted(found)


def verify_file(path: Path, keys: Mapping[str, HubPublicKey]) -> str:
    """The signing hub's id; an error naming the file if the pair does not verify."""
    sig = path.with_name(path.name + ".sig")
    try:
        ciphertext = path.read_bytes()
        signature = sig.read_bytes()
    except OSError as err:
        missing = sig if not sig.exists() else path
        raise IntegrityError(f"{path}: cannot read {missing.name}: {err.strerror}") from err
    try:
        return verify(ciphertext, signature, keys)
    except IntegrityError as err:
        raise IntegrityError(f"{path}: {err}") from err


def open_file(
    path: Path,
    identities: Sequence[pyrage.x25519.Identity],
    keys: Mapping[str, HubPublicKey] | None,
) -> tuple[str | None, dict[str, Any]]:
    """Verify (unless ``keys`` is None), decrypt and check a sealed file; errors name it."""
    hub_id = verify_file(path, keys) if keys is not None else None
    try:
        summary = decrypt(path.read_bytes(), identities)
        schema.validate(summary)
    except OSError as err:
        raise IntegrityError(f"{path}: cannot read: {err.strerror}") from err
    except HubError as err:
        raise type(err)(f"{path}: {err}") from err
    _check_attribution(path, hub_id, summary)
    return hub_id, summary


def open_all(
    paths: Sequence[Path],
    identities: Sequence[pyrage.x25519.Identity],
    keys: Mapping[str, HubPublicKey] | None,
) -> Iterator[Opened]:
    """Open every sealed file under ``paths``; each failure becomes an ``Opened`` with an error."""
    for path in find_sealed(paths):
        try:
            hub_id, summary = open_file(path, identities, keys)
        except HubError as err:
            yield Opened(path, error=str(err))
        else:
            yield Opened(path, hub_id, summary)


def _check_attribution(path: Path, hub_id: str | None, summary: dict[str, Any]) -> None:
    """The name and the signer must agree with the content: a renamed file is caught here."""
    expected = f"{summary['participant_id']}_{summary['date']}{SUFFIX}"
    if path.name != expected:
        raise IntegrityError(f"{path}: holds {expected}; the file was renamed")
    if hub_id is not None and summary["hub_id"] != hub_id:
        msg = f"{path}: says hub {summary['hub_id']} but was signed by hub {hub_id}"
        raise IntegrityError(msg)
