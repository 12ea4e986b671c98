"""Build a day's summary (schema ``homehub.summary/1``) from its minute records."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo

from hub.fusion.episodes import (
    away_spans,
    sleep_episode,
    transitions,
    visits,
)
from hub.fusion.minute import UNKNOWN, MinuteRecord
from hub.sensing.audio.classes import CLASSES

SCHEMA: Final = "homehub.summary/1"

NIGHT_START_HOUR: Final = 18
"""The night that ends on day D is searched from 18:00 on D-1 ..."""
NIGHT_END_HOUR: Final = 14
"""... to 14:00 on D: sleep belongs to the day one wakes up on."""

ACTIVITY_SOUNDS: Final = {
    "footsteps_min": "footsteps",
    "kitchen_min": "kitchen",
    "water_min": "water",
    "tv_min": "tv",
    "speech_min": "speech",
    "conversation_min": "conversation",
}


@dataclass(frozen=True, slots=True)
class DayWindow:
    """The local day and the night window that belongs to it, as epoch seconds."""

    date: dt.date
    tz: ZoneInfo
    start: int
    end: int
    night_start: int
    night_end: int

    @classmethod
    def for_date(cls, date: dt.date, tz: ZoneInfo) -> DayWindow:
        midnight = dt.datetime.combine(date, dt.time(0), tzinfo=tz)
        following = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
        evening = dt.datetime.combine(date - dt.timedelta(days=1), dt.time(NIGHT_START_HOUR), tz)
        noon = dt.datetime.combine(date, dt.time(NIGHT_END_HOUR), tzinfo=tz)
        return cls(
            date,
            tz,
            int(midnight.timestamp()),
            int(following.timestamp()),
            int(evening.timestamp()),
            int(noon.timestamp()),
        )

    @classmethod
    def containing(cls, t: float, tz: ZoneInfo) -> DayWindow:
        """The local day that home time ``t`` falls in."""
        return cls.for_date(dt.datetime.fromtimestamp(t, tz).date(), tz)


def iso(t: int, tz: ZoneInfo) -> str:
    """Local ISO-8601 time with offset, to the minute."""
    return dt.datetime.fromtimestamp(t, tz).isoformat(timespec="minutes")


def build_summary(
    *,
    window: DayWindow,
    minutes: Sequence[MinuteRecord],
    participant_id: str,
    hub_id: str,
    members: Sequence[str],
    bedrooms: dict[str, str],
    rooms: Sequence[str],
    generated_at: float,
) -> dict[str, Any]:
    """The summary of ``window.date`` from every minute record between the night start and its end.

    ``minutes`` may include the previous evening (for sleep) and must be sorted by time.
    """
    tz = window.tz
    day = [m for m in minutes if window.start <= m.t < window.end]
    night = [m for m in minutes if window.night_start <= m.t < window.night_end]
    return {
        "schema": SCHEMA,
        "participant_id": participant_id,
        "hub_id": hub_id,
        "date": window.date.isoformat(),
        "timezone": tz.key,
        "generated_at": dt.datetime.fromtimestamp(generated_at, dt.UTC).isoformat(
            timespec="seconds"
        ),
        "coverage": _coverage(window, day, rooms),
        "members": {
            name: _member(name, day, night, bedrooms.get(name, "bedroom"), tz) for name in members
        },
        "visits": [
            {
                "arrival": iso(v.arrival, tz),
                "departure": iso(v.departure, tz),
                "duration_min": (v.departure - v.arrival) // 60,
                "head_count": v.head_count,
                "conversation_min": v.conversation_min,
            }
            for v in visits(day)
        ],
        "activity": _activity(day),
        "sound": _sound(day, rooms),
    }


def summary_bytes(summary: dict[str, Any]) -> bytes:
    """Canonical encoding: UTF-8 JSON with sorted keys (what is sealed and signed)."""
    return json.dumps(summary, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _coverage(
    window: DayWindow, day: Sequence[MinuteRecord], rooms: Sequence[str]
) -> dict[str, Any]:
    uptime = Counter(room for m in day for room in m.sensors_up)
    return {
        "minutes_total": (window.end - window.start) // 60,
        "minutes_observed": sum(1 for m in day if m.sensors_up),
        "minutes_paused": sum(1 for m in day if m.paused),
        "sensors": {room: {"uptime_min": uptime.get(room, 0)} for room in rooms},
    }


def _member(
    name: str,
    day: Sequence[MinuteRecord],
    night: Sequence[MinuteRecord],
    bedroom: str,
    tz: ZoneInfo,
) -> dict[str, Any]:
    where = [m.members.get(name) for m in day]
    rooms = Counter(r for r in where if r is not None and r != UNKNOWN)
    episode = sleep_episode(night, name, bedroom)
    sleep: dict[str, Any] = {
        "onset": None,
        "wake": None,
        "duration_min": 0,
        "snoring_min": 0,
        "cough_count": 0,
        "disturbances": 0,
        "restlessness": 0.0,
        "night_bathroom_visits": 0,
    }
    if episode is not None:
        sleep.update(
            onset=iso(episode.onset, tz),
            wake=iso(episode.wake, tz),
            duration_min=(episode.wake - episode.onset) // 60,
            snoring_min=episode.snoring_min,
            cough_count=episode.cough_count,
            disturbances=episode.disturbances,
            restlessness=episode.restlessness,
            night_bathroom_visits=episode.night_bathroom_visits,
        )
    return {
        "minutes_home": sum(rooms.values()),
        "minutes_away": sum(1 for r in where if r is None),
        "rooms": dict(sorted(rooms.items())),
        "transitions": transitions(day, name),
        "away_episodes": [
            {"start": iso(s.start, tz), "end": iso(s.end, tz)} for s in away_spans(day, name)
        ],
        "sleep": sleep,
    }


def _activity(day: Sequence[MinuteRecord]) -> dict[str, int]:
    out = {key: sum(1 for m in day if m.heard(cls)) for key, cls in ACTIVITY_SOUNDS.items()}
    door_minutes = [m.heard("door") for m in day]
    out["door_events"] = sum(
        1 for i, d in enumerate(door_minutes) if d and (i == 0 or not door_minutes[i - 1])
    )
    return dict(sorted(out.items()))


def _sound(day: Sequence[MinuteRecord], rooms: Sequence[str]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for room in rooms:
        tops = Counter(t for m in day if (t := m.top_sound(room)) is not None)
        out[room] = {cls: tops.get(cls, 0) for cls in CLASSES}
    return out
