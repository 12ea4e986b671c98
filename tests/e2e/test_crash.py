"""kill -9 of the hub while it writes minutes and seals days: nothing sealed is lost, no partial
file is left, and the day state resumes after a restart."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyrage
import pytest

from hub.delivery.outbox import Outbox
from hub.keys import load_or_create_device_key
from hub.research.open import verify_sealed
from hub.store import Store

pytestmark = pytest.mark.slow


def _run_until_killed(data_dir: Path, recipient: str, seconds: float) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.crash_worker", str(data_dir), recipient],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).parents[2],
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith(b"started"), proc.stderr.read() if proc.stderr else b""
    time.sleep(seconds)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def test_kill_9_loses_no_sealed_day_and_leaves_no_partial_file(tmp_path: Path) -> None:
    identity = pyrage.x25519.Identity.generate()
    recipient = str(identity.to_public())
    rng = random.Random(7)
    before: set[int] = set()
    for _ in range(6):
        _run_until_killed(tmp_path, recipient, rng.uniform(1.0, 4.0))
        store = Store(tmp_path)
        times = [m.t for m in store.minutes_between(0, 2**40)]
        # the day state resumes: times never repeat, and a stored minute only goes once its
        # day has been sealed (old days are pruned after sealing)
        assert times == sorted(set(times))
        for t in before - set(times):
            day = dt.datetime.fromtimestamp(t, dt.UTC).date()
            assert store.is_sealed(str(day)), f"minute {t} of unsealed {day} was lost"
        store.close()
        before = set(times)
    outbox_dir = tmp_path / "outbox"
    Outbox(outbox_dir)  # recovery at start-up removes temporary files
    leftovers = [p.name for p in outbox_dir.iterdir() if not p.name.endswith((".age", ".sig"))]
    assert leftovers == []
    sealed = sorted(outbox_dir.glob("*.age"))
    assert sealed, "several simulated days passed: some must have been sealed"
    key = load_or_create_device_key(tmp_path / "keys")
    for path in sealed:
        signature = path.with_name(path.name + ".sig")
        assert signature.exists(), f"{path.name} has no signature"
        verify_sealed(path.read_bytes(), signature.read_bytes(), key.public_text())
        assert pyrage.decrypt(path.read_bytes(), [identity])
