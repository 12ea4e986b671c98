"""Ground truth of the virtual home: per-minute state and episodes, as JSON-ready dicts.

The demo scores the hub's sealed summary against this: member rooms per minute, sleep onset and
wake of the night that belongs to the day (the same 18:00-14:00 window the summary uses), visits
with head counts, and sensor outages.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Final

from hub.sim.scenario import AWAY

if TYPE_CHECKING:
    from hub.sim.home import VirtualHome

NIGHT_START_HOUR: Final = 18
NIGHT_END_HOUR: Final = 14
"""The night belonging to a day runs from 18:00 the evening before to 14:00 (as the summary)."""
SLEEP_BRIDGE_MIN: Final = 30
"""Wakeful gaps up to this long (a bathroom trip) stay inside one sleep episode."""


def build_truth(home: VirtualHome, start: int, end: int) -> dict[str, Any]:
    """Per-minute truth in [start, end) and the episodes of that span."""
    members = [p.id for p in home.people if p.member is not None]
    visitors = [p.id for p in home.people if p.member is None]
    minutes: list[dict[str, Any]] = []
    away_min = dict.fromkeys(members, 0)
    room_min: dict[str, dict[str, int]] = {m: {} for m in members}
    for minute in range(start // 60, -(-end // 60)):
        state = home.state(minute)
        t = minute * 60
        where = {m: state.rooms[m] for m in members}
        for m, room in where.items():
            if room == AWAY:
                away_min[m] += 1
            else:
                room_min[m][room] = room_min[m].get(room, 0) + 1
        visitor_rooms: dict[str, int] = {}
        for v in visitors:
            room = state.rooms[v]
            if room != AWAY:
                visitor_rooms[room] = visitor_rooms.get(room, 0) + 1
        minutes.append(
            {
                "t": t,
                "time": _iso(home, t),
                "members": where,
                "asleep": {m: state.activities[m] == "sleep" for m in members},
                "visitors": sum(visitor_rooms.values()),
                "visitor_rooms": visitor_rooms,
                "sound": dict(state.sound),
                "sensors_down": [s.name for s in home.sensors if not home.sensor_up(s.name, t)],
            }
        )
    date = dt.datetime.fromtimestamp(start, home.tz).date()
    return {
        "scenario": home.scenario.name,
        "seed": home.seed,
        "timezone": home.tz.key,
        "date": date.isoformat(),
        "start": start,
        "end": end,
        "minutes": minutes,
        "sleep": {m: _sleep(home, m, date) for m in members},
        "visits": _visits(home),
        "outages": [
            {
                "sensor": s,
                "start": _iso(home, a),
                "end": _iso(home, b),
                "start_epoch": a,
                "end_epoch": b,
            }
            for s, a, b in home.outage_spans()
        ],
        "away_min": away_min,
        "room_min": room_min,
        "sound_min": _sound_minutes(minutes),
    }


def _sound_minutes(minutes: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Room -> label -> minutes, for labels other than quiet."""
    out: dict[str, dict[str, int]] = {}
    for m in minutes:
        for room, label in m["sound"].items():
            if label != "quiet":
                per_room = out.setdefault(room, {})
                per_room[label] = per_room.get(label, 0) + 1
    return out


def sleep_span(home: VirtualHome, member: str, date: dt.date) -> tuple[int, int] | None:
    """Onset and wake (epoch seconds) of the member's main sleep in the night ending on ``date``."""
    tz = home.tz
    night_start = dt.datetime.combine(date - dt.timedelta(days=1), dt.time(NIGHT_START_HOUR), tz)
    night_end = dt.datetime.combine(date, dt.time(NIGHT_END_HOUR), tz)
    runs: list[list[int]] = []
    for minute in range(int(night_start.timestamp()) // 60, int(night_end.timestamp()) // 60):
        if home.activity(member, minute) != "sleep":
            continue
        if runs and minute - runs[-1][1] <= SLEEP_BRIDGE_MIN:
            runs[-1][1] = minute + 1
        else:
            runs.append([minute, minute + 1])
    if not runs:
        return None
    first, last = max(runs, key=lambda r: r[1] - r[0])
    return first * 60, last * 60


def _sleep(home: VirtualHome, member: str, date: dt.date) -> dict[str, Any] | None:
    span = sleep_span(home, member, date)
    if span is None:
        return None
    onset, wake = span
    snoring = trips = 0
    previous = None
    for minute in range(onset // 60, wake // 60):
        snoring += home.snoring(member, minute)
        room = home.room_of(member, minute)
        trips += room == "bathroom" != previous
        previous = room
    return {
        "onset": _iso(home, onset),
        "wake": _iso(home, wake),
        "onset_epoch": onset,
        "wake_epoch": wake,
        "snoring_min": snoring,
        "night_bathroom_visits": trips,
    }


def _visits(home: VirtualHome) -> list[dict[str, Any]]:
    out = []
    for i, spec in enumerate(home.scenario.visits):
        arrival, departure = home.visit_span(i)
        out.append(
            {
                "arrival": _iso(home, arrival),
                "departure": _iso(home, departure),
                "arrival_epoch": arrival,
                "departure_epoch": departure,
                "head_count": spec.people,
                "room": spec.room,
            }
        )
    return out


def _iso(home: VirtualHome, t: float) -> str:
    return dt.datetime.fromtimestamp(t, home.tz).isoformat()
