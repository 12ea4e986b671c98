"""Sealing against the real ``age`` tool, and signatures that catch every flipped byte."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyrage
import pytest

from hub.errors import ConfigError, IntegrityError, SchemaError
from hub.keys import DeviceKey, load_or_create_device_key
from hub.research.open import decrypt, load_identities, verify_sealed
from hub.summary.seal import seal, seal_summary, signer, summary_name, verify

from .factories import make_summary

SUMMARY = json.dumps({"schema": "homehub.summary/1", "note": "sealed é"}, sort_keys=True).encode()


@pytest.fixture
def key(tmp_path: Path) -> DeviceKey:
    return load_or_create_device_key(tmp_path / "hub-keys")


def test_our_sealed_file_opens_with_age(
    tmp_path: Path,
    age_bin: str,
    identity: pyrage.x25519.Identity,
    identity_file: Path,
    key: DeviceKey,
) -> None:
    other = pyrage.x25519.Identity.generate()
    sealed = seal(SUMMARY, [str(other.to_public()), str(identity.to_public())], key)
    path = tmp_path / "p1_2026-11-22.summary.age"
    path.write_bytes(sealed.ciphertext)
    out = subprocess.run(
        [age_bin, "-d", "-i", str(identity_file), str(path)], capture_output=True, check=True
    )
    assert out.stdout == SUMMARY
    assert verify(sealed.ciphertext, sealed.signature, key.public) == key.hub_id


def test_file_from_age_opens_with_our_decrypt(
    tmp_path: Path, age_bin: str, identity: pyrage.x25519.Identity, identity_file: Path
) -> None:
    plain = tmp_path / "plain.json"
    plain.write_bytes(SUMMARY)
    out = tmp_path / "x.summary.age"
    subprocess.run(
        [age_bin, "-r", str(identity.to_public()), "-o", str(out), str(plain)], check=True
    )
    assert decrypt(out.read_bytes(), load_identities(identity_file)) == json.loads(SUMMARY)


def test_age_keygen_identity_files_load(tmp_path: Path, age_bin: str) -> None:
    keygen = Path(age_bin).with_name("age-keygen")
    if not keygen.exists():
        pytest.skip("age-keygen not installed next to age")
    path = tmp_path / "id.txt"
    subprocess.run([str(keygen), "-o", str(path)], check=True, capture_output=True)
    (identity,) = load_identities(path)
    assert str(identity.to_public()) in path.read_text()


def test_every_flipped_byte_of_the_age_file_fails(key: DeviceKey) -> None:
    sealed = seal(SUMMARY, [str(pyrage.x25519.Identity.generate().to_public())], key)
    for i in range(len(sealed.ciphertext)):
        damaged = bytearray(sealed.ciphertext)
        damaged[i] ^= 1 << (i % 8)
        with pytest.raises(IntegrityError):
            verify(bytes(damaged), sealed.signature, key.public)


def test_every_flipped_bit_of_the_sig_file_fails(key: DeviceKey) -> None:
    sealed = seal(SUMMARY, [str(pyrage.x25519.Identity.generate().to_public())], key)
    for i in range(len(sealed.signature)):
        for bit in range(8):
            damaged = bytearray(sealed.signature)
            damaged[i] ^= 1 << bit
            with pytest.raises(IntegrityError):
                verify(sealed.ciphertext, bytes(damaged), key.public)
    with pytest.raises(IntegrityError):
        verify(sealed.ciphertext, sealed.signature + b"\n", key.public)
    with pytest.raises(IntegrityError):
        verify(sealed.ciphertext, sealed.signature[:-1], key.public)


def test_another_hubs_key_fails(tmp_path: Path, key: DeviceKey) -> None:
    other = load_or_create_device_key(tmp_path / "other")
    sealed = seal(SUMMARY, [str(pyrage.x25519.Identity.generate().to_public())], key)
    with pytest.raises(IntegrityError, match=f"not by hub {other.hub_id}"):
        verify(sealed.ciphertext, sealed.signature, other.public)
    # a forged header naming the other hub still fails on the signature itself
    forged = sealed.signature.replace(key.hub_id.encode(), other.hub_id.encode())
    with pytest.raises(IntegrityError, match="signature does not match"):
        verify(sealed.ciphertext, forged, other.public)


def test_cohort_keys_pick_the_signer(tmp_path: Path, key: DeviceKey) -> None:
    other = load_or_create_device_key(tmp_path / "other")
    sealed = seal(SUMMARY, [str(pyrage.x25519.Identity.generate().to_public())], key)
    cohort = {k.hub_id: k.public for k in (key, other)}
    assert signer(sealed.signature) == key.hub_id
    assert verify_sealed(sealed.ciphertext, sealed.signature, cohort) == key.hub_id
    with pytest.raises(IntegrityError, match="has no public key here"):
        verify_sealed(sealed.ciphertext, sealed.signature, {other.hub_id: other.public})
    assert verify_sealed(sealed.ciphertext, sealed.signature, key.public_text()) == key.hub_id


@pytest.mark.parametrize("bad", ["age1notakey", "AGE-SECRET-KEY-1QQQ", "ssh-ed25519 AAAAC3Nz", ""])
def test_invalid_recipient_is_named(key: DeviceKey, bad: str) -> None:
    good = str(pyrage.x25519.Identity.generate().to_public())
    with pytest.raises(ConfigError, match=r"study\.recipients\[1\]") as info:
        seal(SUMMARY, [good, bad], key)
    assert repr(bad) in str(info.value)


def test_no_recipient_is_refused(key: DeviceKey) -> None:
    with pytest.raises(ConfigError, match="no researcher recipients"):
        seal(SUMMARY, [], key)
    with pytest.raises(ConfigError, match="not one string"):
        seal(SUMMARY, "age1abc", key)


def test_summary_name_checks_its_parts() -> None:
    assert summary_name("p-01", "2026-11-22") == "p-01_2026-11-22"
    with pytest.raises(ConfigError, match="participant id '../x'"):
        summary_name("../x", "2026-11-22")
    with pytest.raises(ConfigError, match="date '22/11/2026'"):
        summary_name("p", "22/11/2026")


def test_seal_summary_validates_then_seals(
    key: DeviceKey, identity: pyrage.x25519.Identity
) -> None:
    summary = make_summary(hub_id=key.hub_id)
    name, sealed = seal_summary(summary, [str(identity.to_public())], key)
    assert name == "p-001_2026-11-22"
    assert decrypt(sealed.ciphertext, [identity]) == summary
    with pytest.raises(SchemaError, match="ble_address: unknown field"):
        seal_summary({**summary, "ble_address": "aa:bb"}, [str(identity.to_public())], key)
    with pytest.raises(IntegrityError, match="summary names hub 0123456789abcdef"):
        seal_summary(make_summary(), [str(identity.to_public())], key)
