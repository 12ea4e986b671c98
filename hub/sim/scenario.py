"""A virtual home as data: rooms, sensors, members and their routines, visits, devices, outages.

A scenario is a TOML file (``hub/sim/scenarios/default.toml`` is the demo home). Times of day are
local ``"HH:MM"`` strings in the scenario's timezone; routines repeat every day, visits and
outages happen on the scenario's ``date``. ``load_scenario`` validates everything and raises a
``ConfigError`` naming the key that is wrong.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import itertools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.errors import ConfigError

ACTIVITIES: Final = frozenset(
    {"sleep", "idle", "bathroom", "shower", "cook", "eat", "tv", "call", "reading", "away"}
)
"""What a member can be doing; each maps to what the room sounds like (see ``home``)."""

TAG_KINDS: Final = frozenset({"ibeacon", "tile"})
PHONE_KINDS: Final = frozenset({"iphone", "android"})
DEVICE_KINDS: Final = PHONE_KINDS | TAG_KINDS | {"samsung_tv", "smart_plug"}

AWAY: Final = "away"
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_MAC = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")


@dataclass(frozen=True, slots=True)
class Room:
    """A rectangle of floor, metres."""

    name: str
    x0: float
    y0: float
    x1: float
    y1: float

    def contains(self, x: float, y: float) -> bool:
        """Whether the point is inside (edges included)."""
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1

    @property
    def center(self) -> tuple[float, float]:
        """Middle of the room."""
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2


@dataclass(frozen=True, slots=True)
class Wall:
    """An extra wall segment (beyond room boundaries) and what it costs a signal to cross it."""

    x0: float
    y0: float
    x1: float
    y1: float
    loss_db: float


@dataclass(frozen=True, slots=True)
class RadioParams:
    """Propagation model parameters (log-distance path loss with walls and shadowing)."""

    path_loss_exponent: float = 2.2
    """Indoor values run 1.8-3.0; 2.2 is a furnished flat."""
    interior_wall_db: float = 5.0
    """Plasterboard or light brick between rooms."""
    exterior_wall_db: float = 10.0
    """Outer and party walls: brick or concrete."""
    shadowing_db: float = 4.0
    """Standard deviation of per-advertisement fading (bodies, multipath)."""
    dropout: float = 0.08
    """Probability that a sensor misses an advertisement it could hear (scan duty cycle)."""
    sensitivity_dbm: float = -97.0
    """Weakest advertisement an ESP32 receives."""


@dataclass(frozen=True, slots=True)
class SensorSpec:
    """One room sensor."""

    name: str
    room: str
    x: float
    y: float
    microphone: bool
    mac: str


@dataclass(frozen=True, slots=True)
class Step:
    """From ``at`` (minutes after local midnight) the member is in ``room`` doing ``activity``."""

    at: int
    room: str
    activity: str


@dataclass(frozen=True, slots=True)
class TagSpec:
    """A BLE tag carried by a member."""

    kind: str
    address: int
    address_type: int
    """0 public, 1 random static."""


@dataclass(frozen=True, slots=True)
class PhoneSpec:
    """A phone with resolvable private addresses; ``irk`` is None to derive one from the seed."""

    kind: str
    irk: bytes | None


@dataclass(frozen=True, slots=True)
class MemberSpec:
    """A household member: their tag, phone, voice and daily routine."""

    name: str
    bedroom: str
    tag: TagSpec
    phone: PhoneSpec | None
    routine: tuple[Step, ...]
    snoring: tuple[tuple[int, int], ...]
    """Windows (minutes after midnight, may wrap) when the member snores if asleep."""
    bed: tuple[float, float] | None = None
    """Where the member sleeps; None for the middle of the bedroom."""


@dataclass(frozen=True, slots=True)
class VisitSpec:
    """Visitors arriving and leaving through the entrance on the scenario date."""

    arrive: int
    leave: int
    people: int
    room: str


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """A background device: a neighbour's TV or phone, a smart plug; never a person here."""

    name: str
    kind: str
    x: float
    y: float
    tx_power: float
    schedule: tuple[tuple[int, int], ...]
    """Windows when it advertises (minutes after midnight); empty means always."""


@dataclass(frozen=True, slots=True)
class OutageSpec:
    """A sensor off the air on the scenario date."""

    sensor: str
    at: int
    minutes: int


@dataclass(frozen=True, slots=True)
class Scenario:
    """A whole virtual home."""

    name: str
    date: dt.date
    timezone: str
    seed: int
    entrance: str
    rooms: tuple[Room, ...]
    walls: tuple[Wall, ...]
    sensors: tuple[SensorSpec, ...]
    members: tuple[MemberSpec, ...]
    visits: tuple[VisitSpec, ...]
    devices: tuple[DeviceSpec, ...]
    outages: tuple[OutageSpec, ...]
    radio: RadioParams
    advert_interval_s: float = 10.0
    rotation_s: float = 900.0
    jitter_min: int = 10

    @property
    def tz(self) -> ZoneInfo:
        """The home's timezone."""
        return ZoneInfo(self.timezone)

    def room(self, name: str) -> Room:
        """The room called ``name``."""
        for room in self.rooms:
            if room.name == name:
                return room
        raise KeyError(name)


def load_scenario(path: Path | None = None) -> Scenario:
    """Read and validate a scenario file; None reads the packaged demo home."""
    if path is None:
        resource = importlib.resources.files("hub.sim") / "scenarios" / "default.toml"
        text = resource.read_text(encoding="utf-8")
        where = "default.toml"
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"scenario {path}: cannot read: {err}") from err
        where = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"scenario {where}: not valid TOML: {err}") from err
    return parse_scenario(data, where)


def parse_scenario(data: Mapping[str, Any], where: str = "scenario") -> Scenario:
    """Build a ``Scenario`` from parsed TOML, naming the offending key on any error."""
    r = _Reader(where)
    rooms = tuple(_room(r, f"rooms[{i}]", d) for i, d in enumerate(r.tables(data, "rooms")))
    names = {room.name for room in rooms}
    if len(names) != len(rooms):
        raise r.error("rooms", "room names must be unique")
    entrance = r.text(data, "entrance")
    r.check(entrance in names, "entrance", f"{entrance!r} is not a room")
    sensors = tuple(
        _sensor(r, f"sensors[{i}]", d, rooms) for i, d in enumerate(r.tables(data, "sensors"))
    )
    sensor_names = {s.name for s in sensors}
    r.check(len(sensor_names) == len(sensors), "sensors", "sensor names must be unique")
    members = tuple(
        _member(r, f"members[{i}]", d, rooms) for i, d in enumerate(r.tables(data, "members"))
    )
    r.check(len({m.name for m in members}) == len(members), "members", "names must be unique")
    timezone = r.text(data, "timezone")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise r.error("timezone", f"unknown timezone {timezone!r}") from err
    try:
        date = dt.date.fromisoformat(r.text(data, "date"))
    except ValueError as err:
        raise r.error("date", "expected YYYY-MM-DD") from err
    return Scenario(
        name=r.text(data, "name"),
        date=date,
        timezone=timezone,
        seed=r.integer(data, "seed"),
        entrance=entrance,
        rooms=rooms,
        walls=tuple(_wall(r, f"walls[{i}]", d) for i, d in enumerate(r.tables(data, "walls", 0))),
        sensors=sensors,
        members=members,
        visits=tuple(
            _visit(r, f"visits[{i}]", d, names) for i, d in enumerate(r.tables(data, "visits", 0))
        ),
        devices=tuple(
            _device(r, f"devices[{i}]", d) for i, d in enumerate(r.tables(data, "devices", 0))
        ),
        outages=tuple(
            _outage(r, f"outages[{i}]", d, sensor_names)
            for i, d in enumerate(r.tables(data, "outages", 0))
        ),
        radio=_radio(r, data.get("radio", {})),
        advert_interval_s=r.number(data, "advert_interval_s", 10.0, minimum=0.1),
        rotation_s=r.number(data, "rotation_s", 900.0, minimum=60.0),
        jitter_min=r.integer(data, "jitter_min", 10),
    )


def parse_hhmm(text: str) -> int:
    """``"HH:MM"`` -> minutes after midnight."""
    match = _HHMM.match(text)
    if not match:
        raise ValueError(text)
    return int(match.group(1)) * 60 + int(match.group(2))


def parse_mac(text: str) -> int:
    """``"AA:BB:CC:DD:EE:FF"`` -> 48-bit integer."""
    if not _MAC.match(text):
        raise ValueError(text)
    return int(text.replace(":", ""), 16)


class _Reader:
    """Typed access to TOML values with errors that name the key."""

    def __init__(self, where: str) -> None:
        self.where = where

    def error(self, key: str, expected: str) -> ConfigError:
        return ConfigError(f"scenario {self.where}: key {key!r}: {expected}")

    def check(self, ok: bool, key: str, expected: str) -> None:
        if not ok:
            raise self.error(key, expected)

    def get(self, data: Mapping[str, Any], key: str, prefix: str = "") -> Any:
        full = f"{prefix}.{key}" if prefix else key
        if not isinstance(data, Mapping):
            raise self.error(prefix or key, "expected a table")
        if key not in data:
            raise self.error(full, "missing")
        return data[key]

    def text(self, data: Mapping[str, Any], key: str, prefix: str = "") -> str:
        value = self.get(data, key, prefix)
        self.check(isinstance(value, str) and value != "", _k(prefix, key), "expected a string")
        return str(value)

    def integer(
        self,
        data: Mapping[str, Any],
        key: str,
        default: int | None = None,
        prefix: str = "",
        bounds: tuple[int, int] | None = None,
    ) -> int:
        if default is not None and key not in data:
            return default
        value = self.get(data, key, prefix)
        full = _k(prefix, key)
        self.check(
            isinstance(value, int) and not isinstance(value, bool), full, "expected an integer"
        )
        if bounds is not None:
            self.check(bounds[0] <= value <= bounds[1], full, f"expected {bounds[0]}-{bounds[1]}")
        return int(value)

    def number(
        self,
        data: Mapping[str, Any],
        key: str,
        default: float | None = None,
        prefix: str = "",
        minimum: float | None = None,
    ) -> float:
        if default is not None and key not in data:
            return default
        value = self.get(data, key, prefix)
        full = _k(prefix, key)
        self.check(
            isinstance(value, int | float) and not isinstance(value, bool),
            full,
            "expected a number",
        )
        if minimum is not None:
            self.check(value >= minimum, full, f"must be >= {minimum}")
        return float(value)

    def flag(self, data: Mapping[str, Any], key: str, prefix: str, default: bool) -> bool:
        value = data.get(key, default)
        self.check(isinstance(value, bool), _k(prefix, key), "expected true or false")
        return bool(value)

    def hhmm(self, data: Mapping[str, Any], key: str, prefix: str) -> int:
        text = self.text(data, key, prefix)
        try:
            return parse_hhmm(text)
        except ValueError as err:
            raise self.error(_k(prefix, key), f"expected HH:MM, got {text!r}") from err

    def numbers(self, data: Mapping[str, Any], key: str, prefix: str, count: int) -> list[float]:
        value = self.get(data, key, prefix)
        ok = isinstance(value, list) and len(value) == count
        ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        self.check(ok, _k(prefix, key), f"expected a list of {count} numbers")
        return [float(v) for v in value]

    def tables(self, data: Mapping[str, Any], key: str, minimum: int = 1) -> list[Any]:
        value = data.get(key, [])
        self.check(isinstance(value, list), key, "expected an array of tables ([[...]])")
        self.check(len(value) >= minimum, key, f"expected at least {minimum} entries")
        for i, item in enumerate(value):
            self.check(isinstance(item, Mapping), f"{key}[{i}]", "expected a table")
        return list(value)

    def windows(
        self, data: Mapping[str, Any], key: str, prefix: str
    ) -> tuple[tuple[int, int], ...]:
        value = data.get(key, [])
        full = _k(prefix, key)
        ok = isinstance(value, list) and all(
            isinstance(w, list) and len(w) == 2 and all(isinstance(x, str) for x in w)
            for w in value
        )
        self.check(ok, full, 'expected a list of ["HH:MM", "HH:MM"] pairs')
        try:
            return tuple((parse_hhmm(a), parse_hhmm(b)) for a, b in value)
        except ValueError as err:
            raise self.error(full, f"expected HH:MM, got {err}") from err


def _k(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _room(r: _Reader, p: str, d: Mapping[str, Any]) -> Room:
    x0, y0, x1, y1 = r.numbers(d, "rect", p, 4)
    r.check(x1 > x0 and y1 > y0, f"{p}.rect", "expected [x0, y0, x1, y1] with x1 > x0, y1 > y0")
    name = r.text(d, "name", p)
    r.check(name != AWAY, f"{p}.name", f"{AWAY!r} is reserved")
    return Room(name, x0, y0, x1, y1)


def _wall(r: _Reader, p: str, d: Mapping[str, Any]) -> Wall:
    x0, y0, x1, y1 = r.numbers(d, "segment", p, 4)
    return Wall(x0, y0, x1, y1, r.number(d, "loss_db", prefix=p, minimum=0.0))


def _sensor(r: _Reader, p: str, d: Mapping[str, Any], rooms: tuple[Room, ...]) -> SensorSpec:
    name = r.text(d, "name", p)
    room = r.text(d, "room", p)
    match = [x for x in rooms if x.name == room]
    r.check(bool(match), f"{p}.room", f"{room!r} is not a room")
    x, y = r.numbers(d, "position", p, 2)
    r.check(match[0].contains(x, y), f"{p}.position", f"must be inside room {room!r}")
    mac = str(d.get("mac", _derived_mac(name)))
    r.check(bool(_MAC.match(mac)), f"{p}.mac", "expected AA:BB:CC:DD:EE:FF")
    return SensorSpec(name, room, x, y, r.flag(d, "microphone", p, True), mac.upper())


def _derived_mac(name: str) -> str:
    """An Espressif-prefixed MAC that is stable for a sensor name."""
    import hashlib  # noqa: PLC0415

    tail = hashlib.blake2b(name.encode(), digest_size=3).digest()
    return "24:0A:C4:" + ":".join(f"{b:02X}" for b in tail)


def _member(r: _Reader, p: str, d: Mapping[str, Any], all_rooms: tuple[Room, ...]) -> MemberSpec:
    rooms_by_name = {x.name: x for x in all_rooms}
    rooms = set(rooms_by_name)
    name = r.text(d, "name", p)
    bedroom = r.text(d, "bedroom", p)
    r.check(bedroom in rooms, f"{p}.bedroom", f"{bedroom!r} is not a room")
    tag_d = r.get(d, "tag", p)
    tag_kind = r.text(tag_d, "kind", f"{p}.tag")
    r.check(tag_kind in TAG_KINDS, f"{p}.tag.kind", f"one of {sorted(TAG_KINDS)}")
    try:
        address = parse_mac(r.text(tag_d, "address", f"{p}.tag"))
    except ValueError as err:
        raise r.error(f"{p}.tag.address", "expected AA:BB:CC:DD:EE:FF") from err
    address_type = {"public": 0, "random": 1}.get(str(tag_d.get("address_type", "public")))
    r.check(address_type is not None, f"{p}.tag.address_type", 'expected "public" or "random"')
    if address_type == 1:
        r.check(address >> 46 == 0b11, f"{p}.tag.address", "a static random address starts C-F")
    tag = TagSpec(tag_kind, address, int(address_type or 0))
    phone = None
    if "phone" in d:
        phone = _phone(r, f"{p}.phone", d["phone"])
    steps = [_step(r, f"{p}.routine[{i}]", s, rooms) for i, s in enumerate(r.tables(d, "routine"))]
    r.check(
        all(a.at < b.at for a, b in itertools.pairwise(steps)),
        f"{p}.routine",
        "steps must be in increasing time order within the day",
    )
    r.check(any(s.activity == "sleep" for s in steps), f"{p}.routine", "needs a sleep step")
    bed = None
    if "bed" in d:
        bx, by = r.numbers(d, "bed", p, 2)
        r.check(rooms_by_name[bedroom].contains(bx, by), f"{p}.bed", f"must be inside {bedroom!r}")
        bed = (bx, by)
    snoring = r.windows(d, "snoring", p)
    return MemberSpec(name, bedroom, tag, phone, tuple(steps), snoring, bed)


def _phone(r: _Reader, p: str, d: Mapping[str, Any]) -> PhoneSpec:
    kind = r.text(d, "kind", p)
    r.check(kind in PHONE_KINDS, f"{p}.kind", f"one of {sorted(PHONE_KINDS)}")
    irk: bytes | None = None
    if "irk" in d:
        try:
            irk = bytes.fromhex(r.text(d, "irk", p))
        except ValueError as err:
            raise r.error(f"{p}.irk", "expected 32 hex digits") from err
        r.check(len(irk) == 16, f"{p}.irk", "expected 32 hex digits (16 bytes)")
    return PhoneSpec(kind, irk)


def _step(r: _Reader, p: str, d: Mapping[str, Any], rooms: set[str]) -> Step:
    activity = r.text(d, "activity", p)
    r.check(activity in ACTIVITIES, f"{p}.activity", f"one of {sorted(ACTIVITIES)}")
    room = AWAY if activity == "away" else r.text(d, "room", p)
    r.check(room in rooms or room == AWAY, f"{p}.room", f"{room!r} is not a room")
    return Step(r.hhmm(d, "at", p), room, activity)


def _visit(r: _Reader, p: str, d: Mapping[str, Any], rooms: set[str]) -> VisitSpec:
    arrive, leave = r.hhmm(d, "arrive", p), r.hhmm(d, "leave", p)
    r.check(leave - arrive >= 10, f"{p}.leave", "must be at least 10 minutes after arrive")
    people = r.integer(d, "people", prefix=p, bounds=(1, 8))
    room = r.text(d, "room", p)
    r.check(room in rooms, f"{p}.room", f"{room!r} is not a room")
    return VisitSpec(arrive, leave, people, room)


def _device(r: _Reader, p: str, d: Mapping[str, Any]) -> DeviceSpec:
    kind = r.text(d, "kind", p)
    r.check(kind in DEVICE_KINDS, f"{p}.kind", f"one of {sorted(DEVICE_KINDS)}")
    x, y = r.numbers(d, "position", p, 2)
    return DeviceSpec(
        r.text(d, "name", p),
        kind,
        x,
        y,
        r.number(d, "tx_power", -59.0, prefix=p),
        r.windows(d, "schedule", p),
    )


def _outage(r: _Reader, p: str, d: Mapping[str, Any], sensors: set[str]) -> OutageSpec:
    sensor = r.text(d, "sensor", p)
    r.check(sensor in sensors, f"{p}.sensor", f"{sensor!r} is not a sensor")
    minutes = r.integer(d, "minutes", prefix=p, bounds=(1, 7 * 1440))
    return OutageSpec(sensor, r.hhmm(d, "at", p), minutes)


def _radio(r: _Reader, d: Any) -> RadioParams:
    r.check(isinstance(d, Mapping), "radio", "expected a table")
    base = RadioParams()
    return RadioParams(
        path_loss_exponent=r.number(d, "path_loss_exponent", base.path_loss_exponent, "radio", 1.0),
        interior_wall_db=r.number(d, "interior_wall_db", base.interior_wall_db, "radio", 0.0),
        exterior_wall_db=r.number(d, "exterior_wall_db", base.exterior_wall_db, "radio", 0.0),
        shadowing_db=r.number(d, "shadowing_db", base.shadowing_db, "radio", 0.0),
        dropout=r.number(d, "dropout", base.dropout, "radio", 0.0),
        sensitivity_dbm=r.number(d, "sensitivity_dbm", base.sensitivity_dbm, "radio"),
    )
