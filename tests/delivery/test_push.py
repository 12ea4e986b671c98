"""The push service against a real S3 server: drains the outbox, retries, survives bad keys."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pyrage
import pytest
from blockbuster import blockbuster_ctx

from hub.clock import SimClock
from hub.delivery.outbox import Outbox
from hub.delivery.push import PushService, PushState
from hub.delivery.s3 import S3Client, S3Target
from hub.keys import load_or_create_device_key
from hub.reconnect import Backoff
from hub.summary.seal import seal

from .conftest import Seaweed

pytestmark = pytest.mark.slow


def _put(outbox: Outbox, tmp_path: Path, day: int) -> None:
    key = load_or_create_device_key(tmp_path / "keys")
    recipient = str(pyrage.x25519.Identity.generate().to_public())
    sealed = seal(b"{}", [recipient], key)
    outbox.put(f"p-009_2026-12-{day:02d}", sealed.ciphertext, sealed.signature)


async def test_drains_the_outbox_and_pushes_on_notify(seaweed: Seaweed, tmp_path: Path) -> None:
    target = S3Target(seaweed.endpoint, "cohort-svc", seaweed.access_key, seaweed.secret_key)
    async with aiohttp.ClientSession() as session:
        await S3Client(target, session).create_bucket()
    outbox = Outbox(tmp_path / "outbox")
    _put(outbox, tmp_path, 1)
    _put(outbox, tmp_path, 2)
    service = PushService(outbox, target, clock=SimClock(0, speed=1000))
    await service.start()
    await service.start()  # idempotent
    try:
        await asyncio.wait_for(service.idle.wait(), 30)
        assert service.delivered == 2
        assert outbox.pending() == []
        _put(outbox, tmp_path, 3)
        service.notify()
        await asyncio.wait_for(service.idle.wait(), 30)
        assert service.delivered == 3
        async with aiohttp.ClientSession() as session:
            keys = await S3Client(target, session).list("p-009/")
        assert len(keys) == 6
    finally:
        await service.stop()
        await service.stop()
    assert service.state is PushState.STOPPED


async def test_refused_credentials_back_off_and_keep_the_pair(
    seaweed: Seaweed, tmp_path: Path
) -> None:
    target = S3Target(seaweed.endpoint, "cohort-svc2", seaweed.access_key, "wrong-secret")
    outbox = Outbox(tmp_path / "outbox")
    _put(outbox, tmp_path, 1)
    backoff = Backoff(initial=1.0, maximum=2.0, auth_failure=5.0)
    service = PushService(outbox, target, clock=SimClock(0, speed=50), backoff=backoff)
    await service.start()
    try:
        for _ in range(200):
            if backoff.attempts >= 2:
                break
            await asyncio.sleep(0.05)
        assert backoff.attempts >= 2  # it retried after the auth back-off
        assert service.last_error is not None
        assert "403" in service.last_error
        assert "wrong-secret" not in service.last_error
        assert not service.idle.is_set()
    finally:
        await service.stop()
    assert len(outbox.pending()) == 1


async def test_no_blocking_calls_in_the_event_loop(seaweed: Seaweed, tmp_path: Path) -> None:
    target = S3Target(seaweed.endpoint, "cohort-svc3", seaweed.access_key, seaweed.secret_key)
    async with aiohttp.ClientSession() as session:
        await S3Client(target, session).create_bucket()
    outbox = Outbox(tmp_path / "outbox")
    for day in (1, 2, 3):
        _put(outbox, tmp_path, day)
    service = PushService(outbox, target, clock=SimClock(0, speed=1000))
    with blockbuster_ctx(scanned_modules=["hub"]):
        await service.start()
        try:
            await asyncio.wait_for(service.idle.wait(), 30)
        finally:
            await service.stop()
    assert service.delivered == 3
