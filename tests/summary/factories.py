"""Summaries made by the real builder from a synthetic day of minute records."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from hub.fusion.minute import MinuteRecord
from hub.summary.build import DayWindow, build_summary

ROOMS = ("bedroom", "kitchen", "living")
DATE = dt.date(2026, 11, 22)


def _minute(t: int, local: dt.datetime) -> MinuteRecord:
    hour = local.hour
    if local.date() < DATE and hour >= 23 or local.date() == DATE and hour < 7:
        room, sound = "bedroom", {"bedroom": {"snoring": 30, "quiet": 30}}
    elif local.date() == DATE and 10 <= hour < 12:
        return MinuteRecord(t, {"member-1": None}, 0, {}, ROOMS)
    elif local.date() == DATE and 15 <= hour < 16:
        room, sound = "living", {"living": {"conversation": 50, "laughter": 10}}
    else:
        room, sound = "kitchen", {"kitchen": {"kitchen": 40, "water": 20}}
    visitors = 2 if local.date() == DATE and 15 <= hour < 16 else 0
    return MinuteRecord(t, {"member-1": room}, visitors, sound, ROOMS)


def make_summary(**overrides: Any) -> dict[str, Any]:
    """A valid summary of a day with a night's sleep, time away and one visit."""
    tz = ZoneInfo("Europe/Berlin")
    window = DayWindow.for_date(DATE, tz)
    minutes = [
        _minute(t, dt.datetime.fromtimestamp(t, tz))
        for t in range(window.night_start, window.end, 60)
    ]
    summary = build_summary(
        window=window,
        minutes=minutes,
        participant_id="p-001",
        hub_id="0123456789abcdef",
        members=["member-1"],
        bedrooms={"member-1": "bedroom"},
        rooms=list(ROOMS),
        generated_at=window.end + 600,
    )
    summary.update(overrides)
    return summary
