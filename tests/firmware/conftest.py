"""Fixtures for the MicroPython firmware: tool lookup and a sensor running on the unix port."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware" / "micropython"


def find_tool(name: str) -> str:
    """A firmware tool from the venv or PATH; skip (or fail when the tier requires it)."""
    here = Path(sys.executable).parent / name
    path = str(here) if here.exists() else shutil.which(name)
    if path is None:
        msg = f"{name} not installed (scripts/ci/30-firmware.sh installs it)"
        if os.environ.get("HOMEHUB_FIRMWARE_REQUIRED"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def micropython() -> str:
    return find_tool("micropython")


@pytest.fixture(scope="session")
def mpy_cross() -> str:
    return find_tool("mpy-cross")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_mpy(micropython: str, code: str, timeout: float = 60) -> str:
    """Run ``code`` on the unix port with the firmware on the path; returns stdout."""
    env = {**os.environ, "MICROPYPATH": f"{FIRMWARE}:.frozen"}
    proc = subprocess.run(
        [micropython, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def wait_listening(port: int, proc: subprocess.Popen[str], timeout: float = 10.0) -> None:
    """Block until the sensor accepts TCP on ``port`` (it has no other ready signal)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"sensor exited early: {proc.communicate()[0]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"sensor did not listen on {port} within {timeout}s")


@dataclass
class RunningSensor:
    name: str
    port: int
    psk: bytes
    workdir: Path
    proc: subprocess.Popen[str]

    @property
    def psk_b64(self) -> str:
        return base64.b64encode(self.psk).decode()

    def output(self) -> str:
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=5)
        return out


@contextlib.contextmanager
def start_sensor(
    micropython: str, workdir: Path, psk: bytes | None, name: str | None = None
) -> Iterator[RunningSensor]:
    """The firmware's main.py on the unix port with a fake radio, a fresh name and port.

    ``psk`` None starts it unkeyed (all-zero key, adoptable with noise_encryption_set_key).
    """
    name = name or f"ble-test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    cfg: dict[str, object] = {"name": name, "room": "kitchen", "port": port, "batch_ms": 100}
    if psk is not None:
        cfg["psk"] = base64.b64encode(psk).decode()
    (workdir / "sensor.json").write_text(json.dumps(cfg))
    env = {**os.environ, "MICROPYPATH": f"{FIRMWARE}:.frozen", "HOMEHUB_FAKE_DEVICES": "20"}
    proc = subprocess.Popen(
        [micropython, str(FIRMWARE / "main.py"), "sensor.json"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = RunningSensor(name, port, psk or bytes(32), workdir, proc)
    try:
        wait_listening(port, proc)
        yield running
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()


@pytest.fixture
def sensor(micropython: str, tmp_path: Path) -> Iterator[RunningSensor]:
    """A keyed sensor on the unix port."""
    with start_sensor(micropython, tmp_path, os.urandom(32)) as running:
        yield running
