"""Sealing: a summary becomes an age file for the researchers plus the hub's signature over it.

The age format (X25519 recipients) opens with the stock ``age`` tool; the hub holds only public
keys, so it cannot read what it sealed. The signature file says who sealed it. Its format is
exactly three ASCII lines, each ending in ``\\n``::

    homehub-signature/1
    hub <hub id>
    <base64 of the 64-byte Ed25519 signature over the exact bytes of the .age file>

Verification re-renders the file from what it parsed and requires identical bytes, so no
flipped byte anywhere in it goes unnoticed (base64 alone tolerates some non-canonical input).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import pyrage

from hub.errors import ConfigError, IntegrityError
from hub.keys import DeviceKey, HubPublicKey

SIGNATURE_HEADER: Final = "homehub-signature/1"
"""First line of a ``.sig`` file."""
SUFFIX: Final = ".summary.age"
"""A sealed summary is ``<participant>_<date>.summary.age``."""
SIG_SUFFIX: Final = SUFFIX + ".sig"
"""... and its signature ``<participant>_<date>.summary.age.sig``."""
SIGNATURE_BYTES: Final = 64
MAX_SIGNATURE_FILE: Final = 256
"""A genuine ``.sig`` file is ~130 bytes; anything much larger is not one."""
_HUB_ID: Final = re.compile(r"[0-9a-f]{16}")
_PARTICIPANT: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class SealedSummary:
    """What goes into the outbox."""

    ciphertext: bytes
    """The ``.age`` file's bytes."""
    signature: bytes
    """The ``.sig`` file's bytes."""


def seal(summary_json: bytes, recipients: Sequence[str], key: DeviceKey) -> SealedSummary:
    """Encrypt to every recipient and sign the ciphertext."""
    parsed = parse_recipients(recipients)
    try:
        ciphertext = pyrage.encrypt(summary_json, parsed)
    except pyrage.EncryptError as err:
        raise IntegrityError(f"age encryption failed: {err}") from err
    return SealedSummary(ciphertext, signature_file(key, ciphertext))


def seal_summary(
    summary: Mapping[str, Any], recipients: Sequence[str], key: DeviceKey
) -> tuple[str, SealedSummary]:
    """Validate a built summary, then seal its canonical bytes; the outbox name and the result.

    Validation first means nothing undocumented ever leaves the hub, even by a builder bug.
    """
    from hub.summary.build import summary_bytes  # noqa: PLC0415 - build pulls in fusion
    from hub.summary.schema import validate  # noqa: PLC0415

    checked = validate(dict(summary))
    if checked["hub_id"] != key.hub_id:
        raise IntegrityError(f"summary names hub {checked['hub_id']}, but this is {key.hub_id}")
    name = summary_name(checked["participant_id"], checked["date"])
    return name, seal(summary_bytes(dict(checked)), recipients, key)


def parse_recipients(recipients: Sequence[str]) -> list[pyrage.x25519.Recipient]:
    """Researcher public keys; a bad one is named in the error."""
    if isinstance(recipients, str):
        raise ConfigError("study.recipients must be a list of age public keys, not one string")
    if not recipients:
        raise ConfigError("no researcher recipients: summaries cannot be sealed")
    parsed = []
    for i, text in enumerate(recipients):
        try:
            parsed.append(pyrage.x25519.Recipient.from_str(text.strip()))
        except (pyrage.RecipientError, AttributeError) as err:
            raise ConfigError(
                f"study.recipients[{i}] {text!r}: not an age X25519 public key (age1...)"
            ) from err
    return parsed


def signature_file(key: DeviceKey, ciphertext: bytes) -> bytes:
    """The ``.sig`` file for a ciphertext."""
    return _render(key.hub_id, key.sign(ciphertext))


def signer(signature_file_bytes: bytes) -> str:
    """The hub id a ``.sig`` file claims (not yet verified): to pick the key of a cohort."""
    return _parse(signature_file_bytes)[0]


def verify(
    ciphertext: bytes,
    signature_file_bytes: bytes,
    public: HubPublicKey | Mapping[str, HubPublicKey],
) -> str:
    """The signing hub's id; ``IntegrityError`` unless the ``.sig`` file is its over ``ciphertext``.

    ``public`` is one hub's key or a cohort's keys by hub id.
    """
    hub_id, signature = _parse(signature_file_bytes)
    if isinstance(public, HubPublicKey):
        if hub_id != public.hub_id:
            raise IntegrityError(f"signed by hub {hub_id}, not by hub {public.hub_id}")
        key = public
    else:
        found = public.get(hub_id)
        if found is None:
            raise IntegrityError(f"signed by hub {hub_id}, which has no public key here")
        key = found
    key.verify(signature, ciphertext)
    return hub_id


def summary_name(participant_id: str, date: str) -> str:
    """``<participant>_<date>``, the stem of the outbox files; bad parts are named."""
    if not _PARTICIPANT.fullmatch(participant_id):
        msg = f"participant id {participant_id!r}: expected 1-64 of A-Z a-z 0-9 . _ -"
        raise ConfigError(msg)
    if not _DATE.fullmatch(date):
        raise ConfigError(f"date {date!r}: expected YYYY-MM-DD")
    return f"{participant_id}_{date}"


def _render(hub_id: str, signature: bytes) -> bytes:
    encoded = base64.b64encode(signature).decode("ascii")
    return f"{SIGNATURE_HEADER}\nhub {hub_id}\n{encoded}\n".encode("ascii")


def _parse(data: bytes) -> tuple[str, bytes]:
    if len(data) > MAX_SIGNATURE_FILE:
        raise IntegrityError(f"signature file has {len(data)} bytes; not a homehub signature")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as err:
        raise IntegrityError("signature file is not ASCII; not a homehub signature") from err
    lines = text.split("\n")
    if len(lines) != 4 or lines[3] != "":
        raise IntegrityError("signature file must be exactly three lines ending in a newline")
    header, hub_line, encoded = lines[:3]
    if header != SIGNATURE_HEADER:
        raise IntegrityError(f"signature file header is {header[:30]!r}, not {SIGNATURE_HEADER}")
    hub_id = hub_line.removeprefix("hub ")
    if not hub_line.startswith("hub ") or not _HUB_ID.fullmatch(hub_id):
        raise IntegrityError(f"signature file line 2 is {hub_line[:30]!r}, not 'hub <16 hex>'")
    try:
        signature = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as err:
        raise IntegrityError("signature is not valid base64") from err
    if len(signature) != SIGNATURE_BYTES:
        raise IntegrityError(f"signature has {len(signature)} bytes, expected 64")
    if _render(hub_id, signature) != data:
        raise IntegrityError("signature file is not in canonical form (altered?)")
    return hub_id, signature
