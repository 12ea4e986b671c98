"""Push to and pull from a real S3 server (SeaweedFS) on loopback, signed with our SigV4."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp
import pyrage
import pytest

from hub.cli import main
from hub.delivery.outbox import Outbox
from hub.delivery.s3 import S3Client, S3Pusher, S3Target, pull_keys
from hub.errors import ConfigError, DeliveryError
from hub.keys import DeviceKey, load_or_create_device_key
from hub.research.open import decrypt
from hub.summary.seal import seal

from .conftest import Seaweed

pytestmark = pytest.mark.slow


def _target(seaweed: Seaweed, bucket: str, secret: str | None = None) -> S3Target:
    return S3Target(
        seaweed.endpoint, bucket, seaweed.access_key, secret or seaweed.secret_key, prefix="c1/"
    )


def _fill(tmp_path: Path, recipient: str, days: int) -> tuple[Outbox, DeviceKey]:
    key = load_or_create_device_key(tmp_path / "keys")
    outbox = Outbox(tmp_path / "outbox")
    for day in range(1, days + 1):
        sealed = seal(f'{{"day":{day}}}'.encode(), [recipient], key)
        outbox.put(f"p-001_2026-11-{day:02d}", sealed.ciphertext, sealed.signature)
    return outbox, key


async def test_push_then_pull_with_the_cli(
    seaweed: Seaweed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    identity = pyrage.x25519.Identity.generate()
    outbox, key = _fill(tmp_path, str(identity.to_public()), 3)
    target = _target(seaweed, "cohort-push")
    async with aiohttp.ClientSession() as session:
        client = S3Client(target, session)
        await client.create_bucket()
        assert await S3Pusher(outbox, client).push_pending() == 3
        assert outbox.pending() == []
        assert sum(e.delivered for e in outbox.list()) == 3
        keys = await client.list("c1/")
        assert len(keys) == 6
        assert await pull_keys(client, "c1/") == [
            f"c1/p-001/p-001_2026-11-0{d}.summary.age" for d in (1, 2, 3)
        ]
        # a damaged object in the bucket is caught by the puller
        bad = "c1/p-001/p-001_2026-11-02.summary.age"
        data = bytearray(await client.get(bad))
        data[-1] ^= 0x40
        await client.put(bad, bytes(data))
        assert await S3Pusher(outbox, client).push_pending() == 0
    (tmp_path / "hub-public-key").write_text(key.public_text())
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", seaweed.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", seaweed.secret_key)
    dest = tmp_path / "pulled"
    argv = [
        "research", "pull", "--s3", seaweed.endpoint, "--bucket", "cohort-push",
        "--prefix", "c1/", "-d", str(dest), "--hub-key", str(tmp_path / "hub-public-key"),
    ]  # fmt: skip
    code = await _in_thread(argv)
    assert code == 1  # the damaged one
    pulled = sorted(p.name for p in dest.iterdir())
    assert pulled == [
        "p-001_2026-11-01.summary.age", "p-001_2026-11-01.summary.age.sig",
        "p-001_2026-11-03.summary.age", "p-001_2026-11-03.summary.age.sig",
    ]  # fmt: skip
    assert decrypt((dest / pulled[2]).read_bytes(), [identity]) == {"day": 3}


async def _in_thread(argv: list[str]) -> int:
    return await asyncio.to_thread(main, argv)  # the CLI runs its own event loop


async def test_wrong_secret_leaves_the_outbox_as_it_was(seaweed: Seaweed, tmp_path: Path) -> None:
    recipient = str(pyrage.x25519.Identity.generate().to_public())
    outbox, _ = _fill(tmp_path, recipient, 2)
    async with aiohttp.ClientSession() as session:
        await S3Client(_target(seaweed, "cohort-auth"), session).create_bucket()
        client = S3Client(_target(seaweed, "cohort-auth", secret="not-the-secret"), session)
        with pytest.raises(DeliveryError, match="HTTP 403 SignatureDoesNotMatch") as info:
            await S3Pusher(outbox, client).push_pending()
        assert "not-the-secret" not in str(info.value)
    assert len(outbox.pending()) == 2


async def test_unreachable_endpoint_is_a_delivery_error(tmp_path: Path) -> None:
    recipient = str(pyrage.x25519.Identity.generate().to_public())
    outbox, _ = _fill(tmp_path, recipient, 1)
    port = _closed_port()
    target = S3Target(f"http://127.0.0.1:{port}", "cohort", "a", "b")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(DeliveryError, match="s3 PUT c1/|s3 PUT p-001/"):
            await S3Pusher(outbox, S3Client(target, session)).push_pending()
    assert len(outbox.pending()) == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("endpoint", "bucket", "message"),
    [
        ("ftp://host", "cohort", "s3_endpoint"),
        ("http://host/path", "cohort", "s3_endpoint"),
        ("http://host", "Bad_Bucket", "s3_bucket"),
    ],
)
def test_bad_targets_are_named(endpoint: str, bucket: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        S3Target(endpoint, bucket, "a", "b")


def test_secret_is_not_in_repr() -> None:
    assert "zz-secret" not in repr(S3Target("http://h", "cohort", "a", "zz-secret"))
