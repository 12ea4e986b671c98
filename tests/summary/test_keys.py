"""The hub's device key: created once with 0600, refused when others can read it."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from hub.errors import IntegrityError, StoreError
from hub.keys import KEY_FILE, HubPublicKey, load_device_key, load_or_create_device_key


def test_created_once_private_and_stable(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    first = load_or_create_device_key(keys)
    mode = stat.S_IMODE((keys / KEY_FILE).stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(keys.stat().st_mode) & 0o077 == 0
    again = load_or_create_device_key(keys)
    assert again.hub_id == first.hub_id
    assert [p.name for p in keys.iterdir()] == [KEY_FILE]  # no temporary file left
    assert first.hub_id == hashlib.sha256(first.public.raw).hexdigest()[:16]


def test_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    load_or_create_device_key(tmp_path)
    (tmp_path / KEY_FILE).chmod(0o644)
    with pytest.raises(StoreError, match=r"mode 644 .* expected 600"):
        load_device_key(tmp_path)


def test_truncated_key_is_named(tmp_path: Path) -> None:
    load_or_create_device_key(tmp_path)
    path = tmp_path / KEY_FILE
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(StoreError, match=KEY_FILE):
        load_device_key(tmp_path)


def test_missing_key_is_not_created_by_load(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_device_key(tmp_path)
    assert not (tmp_path / KEY_FILE).exists()


def test_public_key_file_round_trip_with_comments(tmp_path: Path) -> None:
    key = load_or_create_device_key(tmp_path)
    text = "# hub in home 12\n\n" + key.public_text()
    assert HubPublicKey.parse(text) == key.public
    path = tmp_path / "hub-public-key"
    path.write_text(key.public_text())
    assert HubPublicKey.load(path).hub_id == key.hub_id


def test_public_key_with_a_wrong_hub_id_is_refused(tmp_path: Path) -> None:
    key = load_or_create_device_key(tmp_path)
    line = key.public_text().split()[0] + " 0123456789abcdef\n"
    with pytest.raises(IntegrityError, match="does not match the key"):
        HubPublicKey.parse(line)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "found 0 key lines"),
        ("ssh-ed25519 AAAA", "not a homehub public key"),
        ("homehub-ed25519:!!!!", "not valid base64"),
        ("homehub-ed25519:AAAA", "has 3 bytes"),
    ],
)
def test_bad_public_key_files_say_what_is_wrong(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "hub-public-key"
    path.write_text(text)
    with pytest.raises(IntegrityError, match=expected) as info:
        HubPublicKey.load(path)
    assert str(path) in str(info.value)
