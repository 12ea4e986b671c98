"""The hub seals a day and the sealed pair lands in the study's bucket (real SeaweedFS)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import aiohttp
import pyrage
from zeroconf.asyncio import AsyncZeroconf

from hub.app import Hub
from hub.clock import SystemClock
from hub.config import DeliveryConfig, HubConfig, MemberConfig, StudyConfig
from hub.delivery.s3 import S3Client, S3Target
from hub.fusion.minute import MinuteRecord
from hub.summary.build import DayWindow
from tests.delivery.conftest import Seaweed


async def test_a_sealed_day_is_pushed_to_the_bucket(seaweed: Seaweed, tmp_path: Path) -> None:
    target = S3Target(seaweed.endpoint, "study-app", seaweed.access_key, seaweed.secret_key)
    async with aiohttp.ClientSession() as session:
        await S3Client(target, session).create_bucket()
    identity = pyrage.x25519.Identity.generate()
    config = HubConfig(
        data_dir=str(tmp_path),
        study=StudyConfig(
            participant_id="p-app", recipients=(str(identity.to_public()),), consent_on_hub=False
        ),
        members=(MemberConfig("member-1"),),
        delivery=DeliveryConfig(
            s3_endpoint=seaweed.endpoint,
            s3_bucket="study-app",
            s3_access_key=seaweed.access_key,
            s3_secret_key=seaweed.secret_key,
        ),
    )
    zc = AsyncZeroconf(interfaces=["127.0.0.1"])
    hub = Hub(config, clock=SystemClock(), zeroconf=zc, clock_synchronised=lambda: True)
    await hub.start()
    try:
        day = dt.date(2026, 1, 5)
        window = DayWindow.for_date(day, hub.tz)
        assert hub.store is not None
        minutes = [
            MinuteRecord(t, {"member-1": "kitchen"}, 0, sensors_up=("kitchen",))
            for t in range(window.start, window.start + 3600, 60)
        ]
        hub.store.append_minutes(str(day), minutes)
        sealed = await hub.close_day(day)
        assert hub._push is not None
        await asyncio.wait_for(hub._push.idle.wait(), 30)
        async with aiohttp.ClientSession() as session:
            keys = await S3Client(target, session).list("p-app/")
        assert any(k.endswith(sealed.path.name) for k in keys), keys
        assert any(k.endswith(sealed.path.name + ".sig") for k in keys), keys
    finally:
        await hub.stop()
        await zc.async_close()
