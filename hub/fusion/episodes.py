"""Episodes found in a run of minutes: sleep, visits, time away. Pure functions on records."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from hub.fusion.minute import UNKNOWN, MinuteRecord

ACTIVE_SOUNDS: Final = frozenset(
    {"speech", "conversation", "tv", "footsteps", "door", "knock", "water", "kitchen"}
)
"""Sounds that mean someone in the room is awake and doing something."""

NIGHT_DISTURBANCES: Final = frozenset({"door", "footsteps", "alarm", "baby", "knock"})
"""Sounds counted as disturbances of a sleep episode."""

SLEEP_MIN_MINUTES: Final = 180
"""A main sleep episode is at least three hours (shorter runs are naps)."""

SLEEP_BRIDGE_MINUTES: Final = 20
"""Interruptions up to this long (a bathroom trip, a noise) do not end a sleep episode."""

AWAKE_ACTIVITY_MINUTES: Final = 4
"""... but this many minutes in a row of activity in the bedroom (TV, talking) mean awake."""

VISIT_BRIDGE_MINUTES: Final = 10
"""Gaps up to this long between visitor minutes belong to the same visit (phones go quiet)."""

VISIT_MIN_MINUTES: Final = 10
"""Shorter sightings of unknown phones are passers-by or deliveries, not visits."""

AWAY_MIN_MINUTES: Final = 10
"""Absences shorter than this are noise (a tag in a pocket behind a wall), not time away."""


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open run of minutes [start, end) as epoch seconds."""

    start: int
    end: int

    @property
    def minutes(self) -> int:
        return (self.end - self.start) // 60


@dataclass(frozen=True, slots=True)
class SleepEpisode:
    """The main sleep of one member."""

    onset: int
    wake: int
    snoring_min: int
    cough_count: int
    disturbances: int
    restlessness: float
    night_bathroom_visits: int


@dataclass(frozen=True, slots=True)
class Visit:
    """People who are not household members, present together."""

    arrival: int
    departure: int
    head_count: int
    conversation_min: int


def runs(flags: Sequence[bool], bridge: int = 0, min_len: int = 1) -> list[tuple[int, int]]:
    """Index runs [i, j) where flags hold, bridging gaps <= ``bridge``, kept if >= ``min_len``."""
    out: list[tuple[int, int]] = []
    start: int | None = None
    last_true = -1
    for i, flag in enumerate(flags):
        if not flag:
            continue
        if start is None:
            start = i
        elif i - last_true - 1 > bridge:
            out.append((start, last_true + 1))
            start = i
        last_true = i
    if start is not None:
        out.append((start, last_true + 1))
    return [(a, b) for a, b in out if b - a >= min_len]


def sleep_episode(
    minutes: Sequence[MinuteRecord], member: str, bedroom: str, bathroom: str = "bathroom"
) -> SleepEpisode | None:
    """The longest quiet stay in the bedroom, bridging short interruptions; None if too short."""
    # with a microphone in the bedroom, a minute with nothing heard (a link down, a busy hub)
    # is unknown, not quiet; without one, presence alone decides
    has_mic = any(bedroom in m.sound for m in minutes)
    asleep = [
        m.members.get(member) == bedroom
        and (not has_mic or bedroom in m.sound)
        and m.top_sound(bedroom) not in ACTIVE_SOUNDS
        for m in minutes
    ]
    active = [m.top_sound(bedroom) in ACTIVE_SOUNDS for m in minutes]
    awake = [False] * len(minutes)
    for a, b in runs(active, min_len=AWAKE_ACTIVITY_MINUTES):
        awake[a:b] = [True] * (b - a)
    found = [
        piece
        for run in runs(asleep, bridge=SLEEP_BRIDGE_MINUTES)
        for piece in _split(run, awake, asleep)
        if piece[1] - piece[0] >= SLEEP_MIN_MINUTES
    ]
    if not found:
        return None
    start, end = max(found, key=lambda r: r[1] - r[0])
    span = minutes[start:end]
    inside = asleep[start:end]
    interruptions = runs([not a for a in inside])
    bathroom_visits = sum(
        1 for a, b in interruptions if any(m.members.get(member) == bathroom for m in span[a:b])
    )
    snoring = sum(1 for m in span if m.sound.get(bedroom, {}).get("snoring", 0) > 0)
    coughs = sum(m.sound.get(bedroom, {}).get("cough", 0) for m in span)
    noisy = [any(m.sound.get(bedroom, {}).get(c, 0) for c in NIGHT_DISTURBANCES) for m in span]
    disturbances = len(runs(noisy)) + len(interruptions)
    restless = sum(1 for a, n in zip(inside, noisy, strict=True) if n or not a)
    return SleepEpisode(
        onset=span[0].t,
        wake=span[-1].t + 60,
        snoring_min=snoring,
        cough_count=coughs,
        disturbances=disturbances,
        restlessness=round(restless / len(span), 3),
        night_bathroom_visits=bathroom_visits,
    )


def _split(
    run: tuple[int, int], awake: Sequence[bool], asleep: Sequence[bool]
) -> list[tuple[int, int]]:
    """Cut a bridged run wherever it spans sustained activity; pieces start and end asleep."""
    a, b = run
    pieces = []
    for i, j in runs([not w for w in awake[a:b]]):
        start, end = a + i, a + j
        while start < end and not asleep[start]:
            start += 1
        while end > start and not asleep[end - 1]:
            end -= 1
        if end > start:
            pieces.append((start, end))
    return pieces


def visits(minutes: Sequence[MinuteRecord]) -> list[Visit]:
    """Visits from the count of unknown phones inside, each with a robust head count."""
    present = [m.visitors > 0 for m in minutes]
    out = []
    for a, b in runs(present, bridge=VISIT_BRIDGE_MINUTES):
        if sum(present[a:b]) < VISIT_MIN_MINUTES:
            continue  # stray sightings bridged together are not a visit
        span = minutes[a:b]
        counts = [m.visitors for m in span if m.visitors > 0]
        out.append(
            Visit(
                arrival=span[0].t,
                departure=span[-1].t + 60,
                # the median ignores a phone counted twice for a minute around an address rotation
                head_count=max(1, round(statistics.median(counts))),
                conversation_min=sum(1 for m in span if m.heard("conversation")),
            )
        )
    return out


def away_spans(minutes: Sequence[MinuteRecord], member: str) -> list[Span]:
    """Times a member was not at home (unknown minutes neither start nor end an absence)."""
    away = [m.members.get(member) is None for m in minutes]
    return [
        Span(minutes[a].t, minutes[b - 1].t + 60)
        for a, b in runs(away, bridge=2, min_len=AWAY_MIN_MINUTES)
    ]


def transitions(minutes: Sequence[MinuteRecord], member: str) -> int:
    """Room-to-room moves inside the home."""
    count = 0
    previous: str | None = None
    for m in minutes:
        room = m.members.get(member)
        if room is None or room == UNKNOWN:
            continue
        if previous is not None and room != previous:
            count += 1
        previous = room
    return count
