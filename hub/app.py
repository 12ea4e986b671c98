"""The hub: wires discovery, links, sensing, fusion, summaries and the outbox, and runs their life.

Time comes from an injected ``Clock`` so the same hub runs the appliance (wall clock) and the
virtual home (compressed clock). Disk work goes through ``asyncio.to_thread``; classification
runs in a worker thread; nothing here blocks the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from zeroconf.asyncio import AsyncZeroconf

from hub.clock import Clock
from hub.config import HubConfig
from hub.discovery import Announcement, Discovery
from hub.errors import ClockNotSynchronised, ConfigError, HubError
from hub.fusion.minute import MinuteBuilder, MinuteRecord
from hub.links import SensorLink
from hub.reconnect import Backoff
from hub.sensing.audio import Classifier, RoomAudio
from hub.sensing.audio.stream import BYTES_PER_SECOND
from hub.sensing.ble import AdvertLike, BleSensing
from hub.store import Store
from hub.summary.build import DayWindow, build_summary

_LOGGER = logging.getLogger(__name__)

FLUSH_MINUTES: Final = 10
"""Minutes written to SQLite per transaction: ~1 KB per row, ~150 commits a day (SD wear)."""
CONSENT_SETTING: Final = "consent-version"
MAX_LATE_S: Final = 120.0
"""A minute closed this late, or a clock before its start, means the wall clock jumped."""
MEMBER_KEY: Final = "member-key"
PEER_LOGGERS: Final = ("aioesphomeapi", "zeroconf", "noise")
"""Libraries that log whole frames at DEBUG (audio samples, BLE addresses): never below INFO."""


def clamp_peer_loggers() -> None:
    """Stop libraries from logging message payloads, whatever the hub's verbosity."""
    for name in PEER_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)


"""Name of the secret under which registered tags are hashed."""


class HubState(Enum):
    """Lifecycle."""

    STOPPED = "stopped"
    RUNNING = "running"


@dataclass(frozen=True, slots=True)
class SealedDay:
    """Where a sealed day went."""

    date: dt.date
    path: Path
    summary: dict[str, Any]


class Hub:
    """One home's hub."""

    def __init__(
        self,
        config: HubConfig,
        *,
        clock: Clock,
        classifier_factory: Callable[[], Classifier] | None = None,
        zeroconf: AsyncZeroconf | None = None,
        backoff_factory: Callable[[], Backoff] = Backoff,
        clock_synchronised: Callable[[], bool] | None = None,
    ) -> None:
        if not config.study.recipients:
            raise ConfigError("study.recipients: at least one researcher public key is needed")
        clamp_peer_loggers()
        self.config = config
        self.clock = clock
        self.tz = ZoneInfo(config.system.timezone)
        self.data_dir = Path(config.data_dir)
        self._classifier_factory = classifier_factory
        self._own_zeroconf = zeroconf is None
        self._zeroconf = zeroconf
        self._backoff_factory = backoff_factory
        self._clock_synchronised = clock_synchronised or _default_clock_check
        self.state = HubState.STOPPED
        self._lock = asyncio.Lock()
        self.store: Store | None = None
        self.ble: BleSensing | None = None
        self.links: dict[str, SensorLink] = {}
        self._discovery: Discovery | None = None
        self._rooms_up: set[str] = set()
        self._paused: set[str] = set(config.audio.paused_rooms)
        self._audio: dict[str, RoomAudio] = {}
        self._classifying: dict[str, asyncio.Task[None]] = {}
        self._classifier: Classifier | None = None
        self._builder: MinuteBuilder | None = None
        self._pending: list[MinuteRecord] = []
        self._day: dt.date | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._minute_lock = asyncio.Lock()
        self.sealed: list[SealedDay] = []
        self._sealed_through: dt.date | None = None
        self._synced = False
        self._consent: str | None = None
        self._push: Any = None
        self._warned_unsynced = False
        self.audio_seconds = 0

    # lifecycle

    async def start(self) -> None:
        """Open the store, start discovery and the minute clock (idempotent)."""
        async with self._lock:
            if self.state is HubState.RUNNING:
                return
            self.store = await asyncio.to_thread(Store, self.data_dir)
            member_key = await asyncio.to_thread(self.store.secret, MEMBER_KEY)
            self._consent = await asyncio.to_thread(self.store.setting, CONSENT_SETTING)
            self.ble = BleSensing(
                self.config.ble, self.config.members, member_key, day_key=os.urandom(32)
            )
            if self.config.audio.enabled and self._classifier_factory is not None:
                self._classifier = await asyncio.to_thread(self._classifier_factory)
            if self._zeroconf is None:
                interfaces: Any = list(self.config.discovery_interfaces) or None
                self._zeroconf = (
                    AsyncZeroconf(interfaces=interfaces) if interfaces else AsyncZeroconf()
                )
            self._discovery = Discovery(self._zeroconf, self._on_announce, self._on_remove)
            await self._start_push()
            await self._discovery.start()
            self._open_minute(self.clock.now())
            self._tasks = [
                asyncio.create_task(self._minute_loop(), name="hub-minutes"),
            ]
            self.state = HubState.RUNNING

    async def stop(self) -> None:
        """Flush state and stop everything this hub started (idempotent)."""
        async with self._lock:
            if self.state is HubState.STOPPED:
                return
            for task in [*self._tasks, *self._classifying.values()]:
                task.cancel()
            for task in [*self._tasks, *self._classifying.values()]:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._tasks = []
            if self._discovery is not None:
                await self._discovery.stop()
            if self._push is not None:
                await self._push.stop()
                self._push = None
            await asyncio.gather(*(link.stop() for link in self.links.values()))
            self.links.clear()
            for audio in self._audio.values():
                audio.clear()
            if self._pending and self.store is not None and self._day is not None:
                await asyncio.to_thread(self.store.append_minutes, str(self._day), self._pending)
                self._pending = []
            if self._own_zeroconf and self._zeroconf is not None:
                await self._zeroconf.async_close()
                self._zeroconf = None
            if self.store is not None:
                await asyncio.to_thread(self.store.close)
                self.store = None
            self.state = HubState.STOPPED

    async def _start_push(self) -> None:
        """Push sealed summaries to the study's bucket, when one is configured."""
        if not self.config.delivery.s3_endpoint:
            return
        from hub.delivery.outbox import Outbox  # noqa: PLC0415 - only with delivery
        from hub.delivery.push import PushService  # noqa: PLC0415
        from hub.delivery.s3 import S3Target  # noqa: PLC0415

        target = S3Target.from_config(self.config.delivery)
        if target is None:
            return
        outbox = await asyncio.to_thread(Outbox, self.data_dir / "outbox")
        self._push = PushService(outbox, target, clock=self.clock)
        await self._push.start()

    # sensors

    def _room_for(self, name: str) -> str | None:
        return self.config.room_of(name)

    def _on_announce(self, ann: Announcement) -> None:
        link = self.links.get(ann.name)
        if link is not None:
            link.announce(ann.host, ann.port, ann.encrypted)
            return
        room = self._room_for(ann.name)
        if room is None:
            _LOGGER.info("%s: discovered, not adopted (name it in the configuration)", ann.name)
            return
        assert self.store is not None
        link = SensorLink(
            ann.name,
            room,
            host=ann.host,
            port=ann.port,
            keys=self.store,
            sink=self,
            clock=self.clock,
            zeroconf=self._zeroconf,
            backoff=self._backoff_factory(),
            allow_plaintext=self.config.allow_plaintext_sensors,
            encrypted_hint=ann.encrypted,
        )
        self.links[ann.name] = link
        task = asyncio.create_task(link.start(), name=f"start-{ann.name}")
        self._tasks.append(task)

    def _on_remove(self, name: str) -> None:
        _LOGGER.debug("%s: left mDNS", name)

    # LinkSink

    def on_advertisements(self, room: str, adverts: Iterable[AdvertLike], t: float) -> None:
        """BLE batch from a sensor."""
        if self.ble is None or room in self._paused or not self.consented:
            return
        self.ble.ingest(room, adverts, t)

    def on_audio(self, room: str, pcm: bytes) -> None:
        """PCM from a sensor: buffered in RAM only, dropped while paused."""
        if not self.audio_wanted(room) or self._classifier is None:
            return
        audio = self._audio.get(room)
        if audio is None:
            audio = self._audio[room] = RoomAudio(self._classifier)
        audio.push(pcm)
        if audio.buffered_bytes >= BYTES_PER_SECOND and room not in self._classifying:
            self._classifying[room] = asyncio.create_task(
                self._classify(room, audio), name=f"classify-{room}"
            )

    def on_link_state(self, sensor: str, room: str, up: bool) -> None:
        """Track which rooms are observed."""
        if up:
            self._rooms_up.add(room)
            if self._builder is not None:
                self._builder.mark_up(room)
        else:
            self._rooms_up.discard(room)

    def audio_wanted(self, room: str) -> bool:
        """Audio is wanted unless disabled or the room is paused."""
        return self.config.audio.enabled and self.consented and room not in self._paused

    # family controls

    def pause(self, room: str | None = None) -> None:
        """Pause sensing in one room or everywhere: audio stops at once and is forgotten."""
        rooms = [room] if room is not None else self.rooms()
        for r in rooms:
            self._paused.add(r)
            audio = self._audio.get(r)
            if audio is not None:
                audio.clear()
            if self._builder is not None:
                self._builder.mark_paused(r)
        for link in self.links.values():
            if link.room in rooms:
                link.set_audio(False)

    def resume(self, room: str | None = None) -> None:
        """Resume sensing in one room or everywhere."""
        rooms = [room] if room is not None else list(self._paused)
        for r in rooms:
            self._paused.discard(r)
        for link in self.links.values():
            if link.room in rooms:
                link.set_audio(self.audio_wanted(link.room))

    async def delete_today(self) -> int:
        """Forget everything about today: stored and pending minutes, the open minute, every
        address seen (a new pseudonym key) and buffered audio. Returns minutes deleted."""
        assert self.store is not None and self.ble is not None
        today = dt.datetime.fromtimestamp(self.clock.now(), self.tz).date()
        window = DayWindow.for_date(today, self.tz)
        async with self._minute_lock:
            pending = [m for m in self._pending if m.t >= window.start]
            self._pending = [m for m in self._pending if m.t < window.start]
            stored = await asyncio.to_thread(self.store.minutes_between, window.start, window.end)
            await asyncio.to_thread(self.store.delete_minutes, str(today))
            self.ble.rotate_day_key(os.urandom(32))
            for audio in self._audio.values():
                audio.clear()
            self._open_minute(self.clock.now())
        _LOGGER.warning("today's data was deleted at the household's request")
        return len(stored) + len(pending)

    def paused_rooms(self) -> list[str]:
        """Rooms paused now."""
        return sorted(self._paused)

    def rooms(self) -> list[str]:
        """Every room with a named sensor."""
        return sorted({s.room for s in self.config.sensors})

    # minutes

    def _open_minute(self, now: float) -> None:
        t = int(now // 60 * 60)
        self._builder = MinuteBuilder(t)
        for room in self._rooms_up:
            self._builder.mark_up(room)
        for room in self._paused:
            self._builder.mark_paused(room)
        day = dt.datetime.fromtimestamp(t, self.tz).date()
        if self._day is not None and day != self._day and self.ble is not None:
            # a new pseudonym day: yesterday's key is dropped and never stored
            self.ble.rotate_day_key(os.urandom(32))
        self._day = self._day or day

    async def _minute_loop(self) -> None:
        while True:
            assert self._builder is not None
            await _sleep_until(self.clock, self._builder.t + 60)
            await self.tick()

    async def tick(self) -> None:
        """Close the current minute if it is over, store a block when due, seal finished days.

        Serialised: the minute loop and a caller closing the day may both call it.
        """
        async with self._minute_lock:
            await self._close_minute()
        await self._seal_due_days()

    async def _close_minute(self) -> None:
        assert self._builder is not None and self.ble is not None and self.store is not None
        builder = self._builder
        now = self.clock.now()
        if builder.t <= now < builder.t + 60:
            return  # not over yet: an early wake-up, or a second caller
        if not self.consented or not await self._clock_trusted(builder, now):
            self._open_minute(now)
            return
        record = builder.close(self.ble.minute(builder.t + 60))
        day = dt.datetime.fromtimestamp(record.t, self.tz).date()
        if self._day is not None and day != self._day and self._pending:
            await asyncio.to_thread(self.store.append_minutes, str(self._day), self._pending)
            self._pending = []
        self._day = day
        self._pending.append(record)
        if len(self._pending) >= FLUSH_MINUTES:
            await asyncio.to_thread(self.store.append_minutes, str(day), self._pending)
            self._pending = []
        self._open_minute(builder.t + 60)

    @property
    def consented(self) -> bool:
        """The household accepted the current consent text (or the study took consent)."""
        study = self.config.study
        return not study.consent_on_hub or self._consent == study.consent_version

    async def give_consent(self, version: str) -> None:
        """Record that the household accepted consent text ``version``."""
        if version != self.config.study.consent_version:
            raise ConfigError(f"consent text version {version!r} is not the current one")
        assert self.store is not None
        await asyncio.to_thread(self.store.set_setting, CONSENT_SETTING, version)
        self._consent = version
        _LOGGER.warning("the household accepted consent text version %s", version)
        for link in self.links.values():
            link.set_audio(self.audio_wanted(link.room))

    async def _clock_trusted(self, builder: MinuteBuilder, now: float) -> bool:
        """Minutes are kept only on a synchronised clock that did not jump during them."""
        if not self._synced:
            self._synced = await asyncio.to_thread(self._clock_synchronised)
            if not self._synced:
                if not self._warned_unsynced:
                    _LOGGER.warning("clock not synchronised: minutes are not recorded yet")
                    self._warned_unsynced = True
                return False
        end = builder.t + 60
        # on a compressed clock a busy event loop is late by many home seconds: allow 2 s real
        late_ok = MAX_LATE_S * max(1.0, self.clock.speed / 60)
        if now > end + late_ok or now < builder.t:
            _LOGGER.warning("clock jumped by %.0f s; the open minute is dropped", now - end)
            return False
        return True

    async def flush(self) -> None:
        """Write pending minutes now."""
        async with self._minute_lock:
            if self._pending and self.store is not None and self._day is not None:
                pending, self._pending = self._pending, []
                await asyncio.to_thread(self.store.append_minutes, str(self._day), pending)

    async def _seal_due_days(self) -> None:
        """Seal every finished day not sealed yet (several, after a long power cut)."""
        now = self.clock.now()
        grace = 60 * self.config.day_close_grace_min
        today = dt.datetime.fromtimestamp(now, self.tz).date()
        if self._sealed_through == today:
            return
        assert self.store is not None
        for day in await asyncio.to_thread(self.store.unsealed_days):
            date = dt.date.fromisoformat(day)
            if now < DayWindow.for_date(date, self.tz).end + grace:
                return
            try:
                await self.close_day(date)
            except ClockNotSynchronised:
                _LOGGER.warning("clock not synchronised yet: day %s stays open", day)
                return
        self._sealed_through = today

    async def close_day(self, date: dt.date) -> SealedDay:
        """Summarise, seal and put a day in the outbox; idempotent per day."""
        if not await asyncio.to_thread(self._clock_synchronised):
            raise ClockNotSynchronised("the clock is not synchronised; days are not sealed")
        assert self.store is not None
        await self.flush()
        window = DayWindow.for_date(date, self.tz)
        minutes = await asyncio.to_thread(
            self.store.minutes_between, window.night_start, window.end
        )
        sealed = await asyncio.to_thread(self._seal, window, minutes)
        self.sealed.append(sealed)
        if self._push is not None:
            self._push.notify()
        return sealed

    def _seal(self, window: DayWindow, minutes: list[MinuteRecord]) -> SealedDay:
        from hub.delivery.outbox import Outbox  # noqa: PLC0415 - crypto loads on first seal
        from hub.keys import load_or_create_device_key  # noqa: PLC0415
        from hub.summary.seal import seal_summary  # noqa: PLC0415

        assert self.store is not None
        key = load_or_create_device_key(self.data_dir / "keys")
        summary = build_summary(
            window=window,
            minutes=minutes,
            participant_id=self.config.study.participant_id,
            hub_id=key.hub_id,
            members=[m.name for m in self.config.members],
            bedrooms={m.name: m.bedroom for m in self.config.members},
            rooms=self.rooms(),
            generated_at=self.clock.now(),
        )
        name, sealed = seal_summary(summary, self.config.study.recipients, key)
        path = Outbox(self.data_dir / "outbox").put(name, sealed.ciphertext, sealed.signature)
        self.store.mark_sealed(window.date.isoformat(), path.name)
        # the evening of this day is still needed for the next night's sleep
        older = DayWindow.for_date(window.date + dt.timedelta(days=1), self.tz).night_start
        self.store.delete_minutes_before(older)
        _LOGGER.info("sealed %s into %s", window.date, path.name)
        return SealedDay(window.date, path, summary)

    # audio

    async def _classify(self, room: str, audio: RoomAudio) -> None:
        """Classify whole buffered seconds off the event loop until none is left; PCM is gone
        afterwards. Started by ``on_audio`` as soon as a second is complete."""
        try:
            while room not in self._paused and len(seconds := audio.take_seconds()):
                results = await asyncio.to_thread(audio.classify, seconds)
                del seconds
                if room in self._paused or self._builder is None:
                    break
                for second in results:
                    self._builder.add_sound(room, second.top)
                self.audio_seconds += len(results)
        finally:
            del self._classifying[room]

    def status(self) -> dict[str, Any]:
        """A snapshot for the status page and ``doctor`` (no identities, no audio)."""
        return {
            "state": self.state.value,
            "sensors": {
                name: {"room": link.room, "state": link.state.value, "error": link.last_error}
                for name, link in sorted(self.links.items())
            },
            "paused": self.paused_rooms(),
            "ble": self.ble.stats() if self.ble is not None else {},
            "audio_seconds": self.audio_seconds,
            "sealed": [str(s.date) for s in self.sealed],
        }


async def _sleep_until(clock: Clock, when: float) -> None:
    """Sleep in short steps so a wall clock jumping back is noticed (``tick`` handles it)."""
    while 0 < (left := when - clock.now()) <= 60 + MAX_LATE_S * max(1.0, clock.speed / 60):
        await clock.sleep(min(left, 15.0))


def _default_clock_check() -> bool:
    try:
        from hub.timesync import is_clock_synchronised  # noqa: PLC0415
    except ImportError:
        return True
    try:
        return bool(is_clock_synchronised())
    except HubError:
        return False
