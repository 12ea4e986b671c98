"""The outbox: atomic pairs, recovery after a crash, delivered pairs moved aside."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyrage
import pytest

from hub.delivery.outbox import Outbox, Recovery
from hub.errors import StoreError
from hub.keys import load_or_create_device_key
from hub.research.open import decrypt, verify_sealed
from hub.summary.seal import seal

ROOT = Path(__file__).parents[2]


def _sealed(tmp_path: Path, body: bytes = b"{}") -> tuple[bytes, bytes]:
    key = load_or_create_device_key(tmp_path / "keys")
    sealed = seal(body, [str(pyrage.x25519.Identity.generate().to_public())], key)
    return sealed.ciphertext, sealed.signature


def test_put_list_and_deliver(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    ct, sig = _sealed(tmp_path)
    path = outbox.put("p1_2026-11-22", ct, sig)
    assert path.name == "p1_2026-11-22.summary.age"
    assert path.read_bytes() == ct
    assert path.with_name(path.name + ".sig").read_bytes() == sig
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    outbox.put("p1_2026-11-23.summary.age", ct, sig)
    assert [p.name for p in outbox.pending()] == [
        "p1_2026-11-22.summary.age",
        "p1_2026-11-23.summary.age",
    ]
    outbox.mark_delivered(path)
    assert [p.name for p in outbox.pending()] == ["p1_2026-11-23.summary.age"]
    entries = outbox.list()
    assert [(e.name, e.delivered) for e in entries] == [
        ("p1_2026-11-22", True),
        ("p1_2026-11-23", False),
    ]
    assert entries[0].age.read_bytes() == ct
    assert entries[0].sig.read_bytes() == sig
    with pytest.raises(StoreError, match="not a pending summary"):
        outbox.mark_delivered("p1_2026-11-22")


@pytest.mark.parametrize("name", ["../escape", "", ".hidden", "a/b", "x y"])
def test_bad_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(StoreError, match="outbox name"):
        Outbox(tmp_path).put(name, b"x", b"y")
    assert list(tmp_path.iterdir()) == []


def test_recovery_cleans_up_and_reports(tmp_path: Path) -> None:
    directory = tmp_path / "outbox"
    outbox = Outbox(directory)
    ct, sig = _sealed(tmp_path)
    outbox.put("p_2026-11-20", ct, sig)
    outbox.put("p_2026-11-21", ct, sig)
    (directory / ".tmp-p_2026-11-22.summary.age.123").write_bytes(ct[:10])
    (directory / "p_2026-11-23.summary.age").write_bytes(ct)  # its .sig never came
    # a crash between the two renames of mark_delivered
    (directory / "delivered").mkdir()
    (directory / "p_2026-11-21.summary.age").replace(
        directory / "delivered" / "p_2026-11-21.summary.age"
    )
    recovery = Outbox(directory).recovery
    assert recovery.removed_tmp == (".tmp-p_2026-11-22.summary.age.123",)
    assert recovery.incomplete == ("p_2026-11-23.summary.age",)
    assert recovery.finished_moves == ("p_2026-11-21.summary.age",)
    assert sorted(p.name for p in directory.iterdir()) == [
        "delivered",
        "p_2026-11-20.summary.age",
        "p_2026-11-20.summary.age.sig",
    ]
    assert sorted(p.name for p in (directory / "delivered").iterdir()) == [
        "p_2026-11-21.summary.age",
        "p_2026-11-21.summary.age.sig",
    ]


def test_put_replaces_a_pair_of_the_same_name(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    first, second = _sealed(tmp_path, b'{"v":1}'), _sealed(tmp_path, b'{"v":2}')
    outbox.put("p_2026-11-20", *first)
    path = outbox.put("p_2026-11-20", *second)
    assert path.read_bytes() == second[0]
    assert path.with_name(path.name + ".sig").read_bytes() == second[1]


@pytest.mark.slow
def test_sigkill_while_writing_leaves_only_complete_verifying_pairs(tmp_path: Path) -> None:
    identity = pyrage.x25519.Identity.generate()
    rng = random.Random(2026)
    interrupted = 0
    for run in range(8):
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.delivery.outbox_writer",
                str(tmp_path),
                str(identity.to_public()),
                str(run * 1000),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        assert child.stdout is not None
        assert child.stdout.readline() == b"started\n", child.communicate()[1]
        time.sleep(rng.uniform(0.05, 0.6))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL, "the writer died before it was killed"
        recovery = Outbox(tmp_path / "outbox").recovery
        interrupted += len(recovery.removed_tmp) + len(recovery.incomplete)
        interrupted += len(recovery.finished_moves)
    print(f"kills that interrupted a write: {interrupted} of 8")
    outbox = Outbox(tmp_path / "outbox")
    key = load_or_create_device_key(tmp_path / "keys")
    for directory in (outbox.dir, outbox.done):
        for path in directory.iterdir():
            assert not path.name.startswith("."), f"temporary file {path.name} survived"
            if path.name.endswith(".age"):
                assert path.with_name(path.name + ".sig").exists(), f"{path.name} has no .sig"
            elif path.name.endswith(".sig"):
                assert path.with_name(path.name[:-4]).exists(), f"{path.name} has no .age"
            else:
                assert path.is_dir() and path.name == "delivered"
    entries = outbox.list()
    assert len(entries) >= 4
    for entry in entries:
        verify_sealed(entry.age.read_bytes(), entry.sig.read_bytes(), key.public)
        assert decrypt(entry.age.read_bytes(), [identity])["name"] == entry.name
    assert outbox.recover() == Recovery()  # nothing left to clean up
