"""The daily summary's shape (``homehub.summary/1``) as TypedDicts, and a validator that names
the bad field.

The TypedDicts are the single source of truth: the validator walks their annotations, and a
test keeps ``schema.json`` (the documented JSON Schema for researchers) in step with them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import (
    Annotated,
    Any,
    Final,
    Literal,
    NoReturn,
    TypedDict,
    Union,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.errors import SchemaError
from hub.sensing.audio.classes import CLASSES

SCHEMA_ID: Final = "homehub.summary/1"
DAY_MINUTES: Final = (23 * 60, 24 * 60, 25 * 60)
"""A local day lasts 23, 24 or 25 hours (daylight saving changes)."""
MAX_NAME: Final = 64
"""Longest room or member name (the configuration's limit is well under this)."""


@dataclass(frozen=True, slots=True)
class Check:
    """A constraint on a value beyond its JSON type, with the expectation it states."""

    expected: str
    ok: Callable[[Any], bool]


def _iso_time(value: str) -> bool:
    try:
        return dt.datetime.fromisoformat(value).tzinfo is not None and "T" in value
    except ValueError:
        return False


def _utc_time(value: str) -> bool:
    return _iso_time(value) and dt.datetime.fromisoformat(value).utcoffset() == dt.timedelta(0)


def _date(value: str) -> bool:
    try:
        return re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None and bool(
            dt.date.fromisoformat(value)
        )
    except ValueError:
        return False


def _timezone(value: str) -> bool:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*", value):
        return False
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


IsoTime = Annotated[str, Check("ISO time with UTC offset", _iso_time)]
UtcTime = Annotated[str, Check("ISO time in UTC", _utc_time)]
Date = Annotated[str, Check("date YYYY-MM-DD", _date)]
TimeZone = Annotated[str, Check("IANA time zone name", _timezone)]
HubId = Annotated[str, Check("16 lowercase hex digits", re.compile(r"[0-9a-f]{16}").fullmatch)]
Participant = Annotated[
    str, Check("participant id of A-Z a-z 0-9 . _ -", re.compile(r"[A-Za-z0-9._-]{1,64}").fullmatch)
]
SoundClass = Annotated[str, Check("sound class of hub.sensing.audio.classes", CLASSES.__contains__)]
"""Every class is present in each room (minutes it was the top class), and no other."""
Fraction = Annotated[float, Check("number from 0 to 1", lambda v: 0 <= v <= 1)]


class AwayEpisode(TypedDict):
    """A span a member spent away from home."""

    start: IsoTime
    end: IsoTime


class Sleep(TypedDict):
    """The main sleep episode that ended on this day (onset may be the evening before)."""

    onset: IsoTime | None
    wake: IsoTime | None
    duration_min: int
    snoring_min: int
    cough_count: int
    disturbances: int
    restlessness: Fraction
    night_bathroom_visits: int


class Member(TypedDict):
    """One registered household member's day."""

    minutes_home: int
    minutes_away: int
    rooms: dict[str, int]
    transitions: int
    away_episodes: list[AwayEpisode]
    sleep: Sleep


class Visit(TypedDict):
    """Visitors present at home."""

    arrival: IsoTime
    departure: IsoTime
    duration_min: int
    head_count: int
    conversation_min: int


class Activity(TypedDict):
    """Home-wide activity minutes and counts."""

    footsteps_min: int
    door_events: int
    kitchen_min: int
    water_min: int
    tv_min: int
    speech_min: int
    conversation_min: int


class SensorCoverage(TypedDict):
    """One room sensor's availability."""

    uptime_min: int


class Coverage(TypedDict):
    """How much of the day was observed."""

    minutes_total: int
    minutes_observed: int
    minutes_paused: int
    sensors: dict[str, SensorCoverage]


class Summary(TypedDict):
    """One home's day."""

    schema: Literal["homehub.summary/1"]
    participant_id: Participant
    hub_id: HubId
    date: Date
    timezone: TimeZone
    generated_at: UtcTime
    coverage: Coverage
    members: dict[str, Member]
    visits: list[Visit]
    activity: Activity
    sound: dict[str, dict[SoundClass, int]]


def validate(value: object) -> Summary:
    """``value`` as a ``Summary``; ``SchemaError`` naming the first bad field otherwise."""
    _check(value, Summary, "")
    summary: Summary = value  # type: ignore[assignment]  # checked field by field above
    _check_consistency(summary)
    return summary


def parse(data: bytes) -> Summary:
    """Decode and validate a summary's JSON bytes (UTF-8, no duplicate keys)."""
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError as err:
        raise SchemaError(f"summary is not UTF-8 (byte {err.start})") from err
    except ValueError as err:
        raise SchemaError(f"summary is not JSON: {err}") from err
    return validate(value)


def describe(tp: Any) -> str:
    """What a value of type ``tp`` must be, in words."""
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        return str(args[1].expected)
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return " or ".join(describe(a) for a in inner) + " or null"
    if origin is Literal:
        return " or ".join(repr(a) for a in args)
    if tp is int:
        return "whole number >= 0"
    if tp is float:
        return "number >= 0"
    if tp is str:
        return "string"
    if origin is list:
        return "list"
    return "object"


def _check(value: object, tp: Any, path: str) -> None:
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        _check(value, args[0], path)
        if not args[1].ok(value):
            _fail(path, tp, value)
    elif origin in (Union, types.UnionType):
        if value is not None:
            (inner,) = [a for a in args if a is not type(None)]
            try:
                _check(value, inner, path)
            except SchemaError:
                _fail(path, tp, value)  # state the whole expectation, "or null" included
    elif origin is Literal:
        if value not in args:
            _fail(path, tp, value)
    elif is_typeddict(tp):
        _check_object(value, tp, path)
    elif origin is dict:
        _check_mapping(value, args, path, tp)
    elif origin is list:
        if not isinstance(value, list):
            _fail(path, tp, value)
        for i, item in enumerate(value):
            _check(item, args[0], f"{path}[{i}]")
    elif not _fits(value, tp):
        _fail(path, tp, value)


def _fits(value: object, tp: Any) -> bool:
    """Only the JSON type (and the sign and finiteness of numbers)."""
    if get_origin(tp) is Annotated:
        return _fits(value, get_args(tp)[0])
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if tp is float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        return math.isfinite(value) and value >= 0
    if tp is str:
        return isinstance(value, str)
    return True


def _check_object(value: object, tp: Any, path: str) -> None:
    if not isinstance(value, dict):
        _fail(path, tp, value)
    hints = get_type_hints(tp, include_extras=True)
    for key in value:
        if key not in hints:
            raise SchemaError(f"{_join(path, key)}: unknown field")
    for key, field in hints.items():
        if key not in value:
            raise SchemaError(f"{_join(path, key)}: missing field ({describe(field)})")
        _check(value[key], field, _join(path, key))


def _check_mapping(value: object, args: tuple[Any, ...], path: str, tp: Any) -> None:
    if not isinstance(value, dict):
        _fail(path, tp, value)
    key_type, item = args
    for key, child in value.items():
        if not key or len(key) > MAX_NAME or not key.isprintable():
            raise SchemaError(f"{_join(path, key[:MAX_NAME])}: expected a name of 1-64 characters")
        if get_origin(key_type) is Annotated and not get_args(key_type)[1].ok(key):
            raise SchemaError(f"{_join(path, key)}: unknown {describe(key_type)}")
        _check(child, item, _join(path, key))


def _check_consistency(s: Summary) -> None:
    cov = s["coverage"]
    total = cov["minutes_total"]
    if total not in DAY_MINUTES:
        raise SchemaError(f"coverage.minutes_total: expected 1380, 1440 or 1500, got {total}")
    for key in ("minutes_observed", "minutes_paused"):
        if cov[key] > total:
            raise SchemaError(f"coverage.{key}: more than minutes_total ({total})")
    for room, sensor in cov["sensors"].items():
        if sensor["uptime_min"] > total:
            raise SchemaError(f"coverage.sensors.{room}.uptime_min: more than minutes_total")
    for name, member in s["members"].items():
        if member["minutes_home"] + member["minutes_away"] > total:
            raise SchemaError(f"members.{name}: minutes_home + minutes_away > minutes_total")
        for i, span in enumerate(member["away_episodes"]):
            _ordered(span["start"], span["end"], f"members.{name}.away_episodes[{i}]")
        sleep = member["sleep"]
        if (sleep["onset"] is None) != (sleep["wake"] is None):
            raise SchemaError(f"members.{name}.sleep: onset and wake must both be set or null")
        if sleep["onset"] is not None and sleep["wake"] is not None:
            _ordered(sleep["onset"], sleep["wake"], f"members.{name}.sleep")
    for room, classes in s["sound"].items():
        for name in CLASSES:
            if name not in classes:
                raise SchemaError(f"sound.{room}.{name}: missing field (whole number >= 0)")
    for i, visit in enumerate(s["visits"]):
        _ordered(visit["arrival"], visit["departure"], f"visits[{i}]")


def _ordered(start: str, end: str, path: str) -> None:
    if dt.datetime.fromisoformat(end) < dt.datetime.fromisoformat(start):
        raise SchemaError(f"{path}: ends before it starts")


def _fail(path: str, tp: Any, value: object) -> NoReturn:
    shown = json.dumps(value, ensure_ascii=True)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    raise SchemaError(f"{path or 'summary'}: expected {describe(tp)}, got {shown}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out
