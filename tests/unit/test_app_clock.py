"""The hub's minute clock: jumps of the wall clock and an unsynchronised clock."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pyrage
import pytest
from zeroconf.asyncio import AsyncZeroconf

from hub.app import Hub
from hub.config import HubConfig, MemberConfig, StudyConfig
from hub.errors import ConfigError

T0 = 1_767_225_600


class ManualClock:
    """A clock the test moves by hand."""

    speed = 1.0

    def __init__(self, t: float) -> None:
        self.t = t

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        raise AssertionError("the test drives tick() itself")


@pytest.fixture
async def zc() -> AsyncZeroconf:
    zc = AsyncZeroconf(interfaces=["127.0.0.1"])
    yield zc
    await zc.async_close()


def config(tmp_path: Path, consent_on_hub: bool = False) -> HubConfig:
    recipient = str(pyrage.x25519.Identity.generate().to_public())
    return HubConfig(
        data_dir=str(tmp_path),
        study=StudyConfig(recipients=(recipient,), consent_on_hub=consent_on_hub),
        members=(MemberConfig("member-1"),),
    )


async def _hub(
    tmp_path: Path,
    zc: AsyncZeroconf,
    clock: ManualClock,
    synced: list[bool],
    consent_on_hub: bool = False,
) -> Hub:
    hub = Hub(
        config(tmp_path, consent_on_hub),
        clock=clock,
        zeroconf=zc,
        clock_synchronised=lambda: synced[0],
    )
    await hub.start()
    for task in hub._tasks:  # drive the minutes by hand
        task.cancel()
    return hub


async def test_a_forward_jump_drops_the_open_minute_instead_of_replaying_hours(
    tmp_path: Path, zc: AsyncZeroconf
) -> None:
    clock = ManualClock(T0 + 5)
    hub = await _hub(tmp_path, zc, clock, [True])
    clock.t = T0 + 61
    await hub.tick()
    clock.t = T0 + 3 * 3600 + 10  # NTP moved the clock three hours on
    await hub.tick()
    clock.t = T0 + 3 * 3600 + 61
    await hub.tick()
    await hub.flush()
    assert hub.store is not None
    times = [m.t for m in hub.store.minutes_between(0, 2**40)]
    assert times == [T0, T0 + 3 * 3600]
    await hub.stop()


async def test_a_backward_jump_drops_the_open_minute(tmp_path: Path, zc: AsyncZeroconf) -> None:
    clock = ManualClock(T0 + 5)
    hub = await _hub(tmp_path, zc, clock, [True])
    clock.t = T0 - 7200
    await hub.tick()
    clock.t = T0 - 7200 + 60
    await hub.tick()
    await hub.flush()
    assert hub.store is not None
    assert [m.t for m in hub.store.minutes_between(0, 2**40)] == [T0 - 7200]
    await hub.stop()


async def test_nothing_is_recorded_until_the_clock_is_synchronised(
    tmp_path: Path, zc: AsyncZeroconf, caplog: pytest.LogCaptureFixture
) -> None:
    synced = [False]
    clock = ManualClock(T0 + 5)
    hub = await _hub(tmp_path, zc, clock, synced)
    for i in range(1, 4):
        clock.t = T0 + 60 * i + 1
        await hub.tick()
    assert "not synchronised" in caplog.text
    synced[0] = True
    clock.t = T0 + 60 * 4 + 1
    await hub.tick()
    await hub.flush()
    assert hub.store is not None
    assert [m.t for m in hub.store.minutes_between(0, 2**40)] == [T0 + 180]
    await hub.stop()


async def test_delete_today_leaves_nothing_of_today_in_the_files(
    tmp_path: Path, zc: AsyncZeroconf
) -> None:
    clock = ManualClock(T0 + 5)
    hub = await _hub(tmp_path, zc, clock, [True])
    for i in range(1, 25):
        clock.t = T0 + 60 * i + 1
        await hub.tick()
    assert hub.store is not None
    assert len(hub.store.minutes_between(T0, T0 + 3600)) >= 20
    deleted = await hub.delete_today()
    assert deleted >= 24
    assert hub.store.minutes_between(T0, T0 + 86400) == []
    await hub.stop()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"member-1" not in path.read_bytes(), path


async def test_nothing_is_recorded_before_the_household_consents(
    tmp_path: Path, zc: AsyncZeroconf
) -> None:
    clock = ManualClock(T0 + 5)
    hub = await _hub(tmp_path, zc, clock, [True], consent_on_hub=True)
    assert not hub.consented
    assert not hub.audio_wanted("bedroom")
    for i in range(1, 4):
        clock.t = T0 + 60 * i + 1
        await hub.tick()
    with pytest.raises(ConfigError, match="version"):
        await hub.give_consent("0")
    await hub.give_consent("1")
    assert hub.audio_wanted("bedroom")
    clock.t = T0 + 60 * 4 + 1
    await hub.tick()
    await hub.flush()
    assert hub.store is not None
    assert [m.t for m in hub.store.minutes_between(0, 2**40)] == [T0 + 180]
    await hub.stop()
    hub = await _hub(tmp_path, zc, clock, [True], consent_on_hub=True)
    assert hub.consented, "consent survives a restart"
    await hub.stop()


async def test_concurrent_ticks_close_a_minute_once(tmp_path: Path, zc: AsyncZeroconf) -> None:
    clock = ManualClock(T0 + 5)
    hub = await _hub(tmp_path, zc, clock, [True])
    clock.t = T0 + 61
    await asyncio.gather(hub.tick(), hub.tick(), hub.flush(), hub.tick())
    clock.t = T0 + 121
    await asyncio.gather(hub.tick(), hub.tick())
    await hub.flush()
    assert hub.store is not None
    assert [m.t for m in hub.store.minutes_between(0, 2**40)] == [T0, T0 + 60]
    await hub.stop()
