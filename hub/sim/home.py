"""The virtual home: who is where, what every sensor hears on the air and through its microphone.

Everything is a pure function of (scenario, seed, time). Random numbers are counter-based: each
draw comes from a generator seeded by (seed, stream, index), so any window can be asked for in
any order, or twice, and gives the same bytes.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import math
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast
from zoneinfo import ZoneInfo

import numpy as np

from hub.errors import ConfigError
from hub.sensing.audio.classes import SAMPLE_RATE
from hub.sim import ble_air
from hub.sim.radio import Radio
from hub.sim.scenario import AWAY, DeviceSpec, MemberSpec, Scenario, Step
from hub.sim.signals import RawAdvertisement
from hub.sim.sound import SoundBank, mix, resolve_audio_dir, to_int16
from hub.sim.truth import build_truth

if TYPE_CHECKING:
    from numpy.typing import NDArray

ENTRANCE_MIN: Final = 2
"""Minutes a visitor spends in the entrance on arrival and on leaving."""
NOISE_BLOCK: Final = 256
"""Advertisements per block of fading draws (one generator per block, cached)."""
CACHE_LIMIT: Final = 50_000
"""Entries per memo before it is cleared (a day of the demo needs a few thousand)."""
POSITION_HOLD_MIN: Final = 5
"""Minutes a person stays at one spot of a room before moving to another."""
ROOM_MARGIN_M: Final = 0.4
"""People stay this far from walls."""
SNORE_FRACTION: Final = 1.0
"""Share of a snoring window actually snored (all of it: the window is the truth)."""

TAG_TX: Final = -59.0
"""RSSI at 1 m of a tag (the iBeacon "measured power" of common tags)."""
PHONE_TX: Final = -62.0
"""Phones in pockets: a few dB under a tag in the open."""

_ACTIVITY_SOUND: Final = (
    ("call", "speech"),
    ("tv", "tv"),
    ("cook", "kitchen"),
    ("shower", "water"),
    ("bathroom", "water"),
)
"""Activities that make a room sound, strongest first."""


@dataclass(frozen=True, slots=True)
class SensorInfo:
    """A sensor of the virtual home as the demo registers it."""

    name: str
    room: str
    has_microphone: bool
    mac: str
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """What the hub is told about a household member."""

    name: str
    bedroom: str
    tag_addresses: tuple[int, ...]
    phone_irks: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who moves around: a member or a visitor."""

    id: str
    voice: int
    member: MemberSpec | None = None
    visit: int = -1
    arrive: int = 0
    leave: int = 0
    bathroom_at: int = -1


@dataclass(frozen=True, slots=True)
class Device:
    """One advertising device."""

    id: str
    stream: int
    kind: str
    tx: float
    phase: float
    holder: str | None
    """Person carrying it, or None for a fixed device."""
    spec: DeviceSpec | None
    address: int
    address_type: int
    irk: bytes | None
    rotation_s: float
    present: tuple[float, float]
    """Span outside which the device is certainly not on the air (visitors' phones)."""
    payload: bytes
    """Payload of a device that does not rotate."""


@dataclass(frozen=True, slots=True)
class MinuteState:
    """The home during one minute."""

    t: int
    rooms: dict[str, str]
    """Person id -> room or ``AWAY``."""
    activities: dict[str, str]
    sound: dict[str, str]
    """Room -> the sound label heard there this minute."""
    voices: dict[str, tuple[int, ...]]
    """Room -> voices of the people talking there."""


class VirtualHome:
    """A scenario brought to life: positions, advertisements, audio and ground truth."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        audio_dir: Path | None = None,
        *,
        advert_interval_s: float | None = None,
    ) -> None:
        if advert_interval_s is not None:
            if advert_interval_s < 0.1:
                raise ConfigError(f"advert_interval_s {advert_interval_s} is below 0.1 s")
            scenario = dataclasses.replace(scenario, advert_interval_s=advert_interval_s)
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.tz: ZoneInfo = scenario.tz
        self.start = self._local(scenario.date, 0)
        """Epoch seconds of local midnight starting the scenario's day."""
        self.radio = Radio(scenario.radio, scenario.rooms, scenario.walls)
        self._rooms = {r.name: r for r in scenario.rooms}
        self._lock = threading.Lock()
        self._memo: dict[tuple[Any, ...], Any] = {}
        self.sensors = tuple(
            SensorInfo(s.name, s.room, s.microphone, s.mac, s.x, s.y) for s in scenario.sensors
        )
        self._sensor_index = {s.name: i for i, s in enumerate(self.sensors)}
        self._people = self._make_people()
        self._devices = self._make_devices()
        self.members = tuple(self._member_info(m) for m in scenario.members)
        self._outages: dict[str, list[tuple[float, float]]] = {
            o.sensor: [] for o in scenario.outages
        }
        for o in scenario.outages:
            begin = self._local(scenario.date, o.at)
            self._outages[o.sensor].append((begin, begin + 60 * o.minutes))
        self._sound = SoundBank(resolve_audio_dir(audio_dir), self.seed)

    # Public API

    def sensor_up(self, sensor: str, t: float) -> bool:
        """Whether the sensor is on the air at home time ``t``."""
        self._sensor_spec(sensor)
        return not any(a <= t < b for a, b in self._outages.get(sensor, ()))

    def advertisements(self, sensor: str, t0: float, t1: float) -> list[RawAdvertisement]:
        """Every advertisement sent in [t0, t1) that the sensor receives, in time order."""
        spec = self._sensor_spec(sensor)
        index = self._sensor_index[sensor]
        interval = self.scenario.advert_interval_s
        heard: list[tuple[float, int, RawAdvertisement]] = []
        outages = self._outages.get(sensor, ())
        for n, device in enumerate(self._devices):
            lo, hi = max(t0, device.present[0]), min(t1, device.present[1])
            first = math.ceil((lo - device.phase) / interval)
            last = math.ceil((hi - device.phase) / interval)
            minute, mean = None, None
            for i in range(first, last):
                t = device.phase + i * interval
                if outages and any(a <= t < b for a, b in outages):
                    continue
                if int(t // 60) != minute:
                    minute = int(t // 60)
                    mean = self._mean_rssi(device, n, index, (spec.x, spec.y), minute)
                if mean is None:
                    continue
                gauss, uniform = self._fading(device.stream, index, i)
                rssi = self.radio.observed(mean, gauss, uniform)
                if rssi is None:
                    continue
                address, address_type, data = self._emission(device, t)
                heard.append((t, n, RawAdvertisement(address, address_type, rssi, data)))
        heard.sort(key=lambda h: (h[0], h[1]))
        return [h[2] for h in heard]

    def audio(self, room: str, t0: float, t1: float) -> NDArray[np.int16]:
        """The room's sound in [t0, t1) as 16 kHz int16 PCM."""
        if room not in self._rooms:
            raise ConfigError(f"no room {room!r} in scenario {self.scenario.name!r}")
        if t1 < t0:
            raise ValueError("audio window ends before it starts")
        rate = SAMPLE_RATE
        n0, n1 = round(t0 * rate), round(t1 * rate)
        if n1 == n0:
            return np.zeros(0, np.int16)
        s0, s1 = n0 // rate, -(-n1 // rate)
        room_id = _stream(room)
        chunks = []
        for s in range(s0, s1):
            state = self.state(s // 60)
            key = mix(mix(self.seed, room_id), s)
            chunks.append(
                self._sound.second(
                    state.sound.get(room, "quiet"), state.voices.get(room, ()), s, key
                )
            )
        pcm = np.concatenate(chunks)[n0 - s0 * rate : n1 - s0 * rate]
        return to_int16(pcm)

    def truth(self, t0: float | None = None, t1: float | None = None) -> dict[str, Any]:
        """Per-minute ground truth and episodes (JSON-serialisable); default the scenario's day."""
        start = self.start if t0 is None else int(t0)
        end = self._local(self.scenario.date + dt.timedelta(days=1), 0) if t1 is None else int(t1)
        return build_truth(self, start, end)

    def state(self, minute: int) -> MinuteState:
        """The home during minute ``minute`` (epoch seconds // 60)."""
        return self._memoised(("state", minute), lambda: self._compute_state(minute))

    def room_of(self, person: str, minute: int) -> str:
        """Where a person (member name or visitor id) is during a minute, or ``AWAY``."""
        return self._rooms_at(minute).get(person, AWAY)

    @property
    def people(self) -> tuple[Person, ...]:
        """Members and visitors."""
        return self._people

    @property
    def devices(self) -> tuple[Device, ...]:
        """Everything that advertises: tags, phones, background devices."""
        return self._devices

    def emission(self, device: Device, t: float) -> tuple[int, int, bytes]:
        """Address, address type and payload the device sends at home time ``t``."""
        return self._emission(device, t)

    def is_member(self, person: str) -> bool:
        """Whether a person id is a household member."""
        return any(p.id == person and p.member is not None for p in self._people)

    def position(self, person: str, minute: int) -> tuple[float, float] | None:
        """Where a person stands during a minute; None when away."""
        room_name = self.room_of(person, minute)
        if room_name == AWAY:
            return None
        room = self._rooms[room_name]
        p = self._person(person)
        if p.member is not None and self._activity(p, minute) == "sleep":
            if p.member.bed is not None and room_name == p.member.bedroom:
                return p.member.bed
            cx, cy = room.center
            side = 0.6 if self._people.index(p) % 2 else -0.6
            return cx + side, cy
        # People settle somewhere for a few minutes, then move on (or change room).
        u = self._uniforms(("pos", person, room_name), minute // POSITION_HOLD_MIN, 2)
        m = min(ROOM_MARGIN_M, (room.x1 - room.x0) / 4, (room.y1 - room.y0) / 4)
        return (
            room.x0 + m + float(u[0]) * (room.x1 - room.x0 - 2 * m),
            room.y0 + m + float(u[1]) * (room.y1 - room.y0 - 2 * m),
        )

    def snoring(self, person: str, minute: int) -> bool:
        """Whether a member snores during a minute (asleep and inside a snoring window)."""
        p = self._person(person)
        if p.member is None or self._activity(p, minute) != "sleep":
            return False
        of_day = self._minute_of_day(minute)
        return any(_in_window(of_day, a, b) for a, b in p.member.snoring)

    def activity(self, person: str, minute: int) -> str:
        """What a person is doing during a minute."""
        return self._activity(self._person(person), minute)

    def visit_span(self, visit: int) -> tuple[int, int]:
        """Arrival and departure of a visit, epoch seconds."""
        spec = self.scenario.visits[visit]
        return self._local(self.scenario.date, spec.arrive), self._local(
            self.scenario.date, spec.leave
        )

    def outage_spans(self) -> list[tuple[str, float, float]]:
        """Every sensor outage as (sensor, start, end)."""
        return [(s, a, b) for s, spans in self._outages.items() for a, b in spans]

    # People and routines

    def _make_people(self) -> tuple[Person, ...]:
        people = [Person(m.name, i, member=m) for i, m in enumerate(self.scenario.members)]
        voice = len(people)
        for v, spec in enumerate(self.scenario.visits):
            arrive, leave = self.visit_span(v)
            for j in range(spec.people):
                u = self._uniforms(("visitor", v), j, 2)
                bathroom = -1
                if j == 0 and spec.leave - spec.arrive >= 60:
                    bathroom = arrive // 60 + 10 + int(u[0] * ((leave - arrive) // 60 - 30))
                people.append(
                    Person(f"visitor-{v + 1}.{j + 1}", voice, None, v, arrive, leave, bathroom)
                )
                voice += 1
        return tuple(people)

    def _person(self, person: str) -> Person:
        for p in self._people:
            if p.id == person:
                return p
        raise KeyError(person)

    def _rooms_at(self, minute: int) -> dict[str, str]:
        return self._memoised(
            ("rooms", minute), lambda: {p.id: self._room(p, minute) for p in self._people}
        )

    def _room(self, p: Person, minute: int) -> str:
        if p.member is not None:
            return self._step(p.member, minute).room
        t = minute * 60
        if not p.arrive <= t < p.leave:
            return AWAY
        spec = self.scenario.visits[p.visit]
        if t < p.arrive + ENTRANCE_MIN * 60 or t >= p.leave - ENTRANCE_MIN * 60:
            return self.scenario.entrance
        if p.bathroom_at <= minute < p.bathroom_at + 5 and "bathroom" in self._rooms:
            return "bathroom"
        return spec.room

    def _activity(self, p: Person, minute: int) -> str:
        if p.member is not None:
            return self._step(p.member, minute).activity
        return "idle" if self._room(p, minute) != AWAY else "away"

    def _step(self, member: MemberSpec, minute: int) -> Step:
        t = minute * 60
        date = dt.datetime.fromtimestamp(t, self.tz).date()
        starts: list[float] = []
        steps: list[Step] = []
        for offset in (-1, 0, 1):
            day_starts, day_steps = self._day_plan(member, date + dt.timedelta(days=offset))
            starts.extend(day_starts)
            steps.extend(day_steps)
        i = bisect.bisect_right(starts, t) - 1
        return steps[i]

    def _day_plan(self, member: MemberSpec, date: dt.date) -> tuple[list[float], list[Step]]:
        """The member's steps on a date with start times jittered per day (order kept)."""

        def plan() -> tuple[list[float], list[Step]]:
            routine = member.routine
            jitter = self._uniforms(("jitter", member.name), date.toordinal(), len(routine))
            starts = []
            for i, step in enumerate(routine):
                before = step.at - routine[i - 1].at if i else step.at + 1440 - routine[-1].at
                after = (
                    routine[i + 1].at if i + 1 < len(routine) else routine[0].at + 1440
                ) - step.at
                limit = min(self.scenario.jitter_min, before // 3, after // 3)
                shift = round((float(jitter[i]) * 2 - 1) * limit)
                starts.append(float(self._local(date, step.at + shift)))
            return starts, list(routine)

        return self._memoised(("plan", member.name, date), plan)

    def _minute_of_day(self, minute: int) -> int:
        local = dt.datetime.fromtimestamp(minute * 60, self.tz)
        return local.hour * 60 + local.minute

    # Sound

    def _compute_state(self, minute: int) -> MinuteState:
        rooms = self._rooms_at(minute)
        before = self._rooms_at(minute - 1)
        after = self._rooms_at(minute + 1)
        activities = {p.id: self._activity(p, minute) for p in self._people}
        present: dict[str, list[Person]] = {}
        for p in self._people:
            if rooms[p.id] != AWAY:
                present.setdefault(rooms[p.id], []).append(p)
        sound: dict[str, str] = {}
        voices: dict[str, tuple[int, ...]] = {}
        entrance = self.scenario.entrance
        door = any(
            (rooms[p.id] == entrance and after[p.id] == AWAY)
            or (rooms[p.id] == entrance and before[p.id] == AWAY)
            for p in self._people
        )
        knock = any(p.member is None and p.arrive == (minute + 1) * 60 for p in self._people)
        for room in self._rooms:
            here = present.get(room, [])
            awake = [p for p in here if activities[p.id] != "sleep"]
            label = "quiet"
            talk: tuple[int, ...] = ()
            if room == entrance and door:
                label = "door"
            elif room == entrance and knock:
                label = "knock"
            elif len(awake) >= 2 and (
                any(p.member is None for p in awake)
                or all(activities[p.id] == "eat" for p in awake)
            ):
                label, talk = "conversation", tuple(sorted(p.voice for p in awake))
            else:
                label, talk = self._activity_sound(here, activities, minute, before, room)
            sound[room] = label
            if talk:
                voices[room] = talk
        return MinuteState(minute * 60, dict(rooms), activities, sound, voices)

    def _activity_sound(
        self,
        here: list[Person],
        activities: dict[str, str],
        minute: int,
        before: dict[str, str],
        room: str,
    ) -> tuple[str, tuple[int, ...]]:
        doing = {activities[p.id]: p for p in here}
        for activity, label in _ACTIVITY_SOUND:
            if activity in doing:
                return label, (doing[activity].voice,) if label == "speech" else ()
        if any(self.snoring(p.id, minute) for p in here):
            return "snoring", ()
        if any(before[p.id] != room and activities[p.id] != "sleep" for p in here):
            return "footsteps", ()
        return "quiet", ()

    # Devices and the air

    def _make_devices(self) -> tuple[Device, ...]:
        devices: list[Device] = []
        rotation = self.scenario.rotation_s
        for p in self._people:
            if p.member is not None:
                tag = p.member.tag
                devices.append(
                    self._device(
                        f"{p.id}/tag", tag.kind, TAG_TX, p.id, None, tag.address, tag.address_type
                    )
                )
                if p.member.phone is not None:
                    irk = p.member.phone.irk or self._bytes(("irk", p.id), 0, 16)
                    devices.append(
                        self._device(
                            f"{p.id}/phone",
                            p.member.phone.kind,
                            PHONE_TX,
                            p.id,
                            None,
                            0,
                            1,
                            irk,
                            rotation,
                        )
                    )
            else:
                kind = (
                    "iphone" if self._uniforms(("phone-kind", p.id), 0, 1)[0] < 0.55 else "android"
                )
                irk = self._bytes(("irk", p.id), 0, 16)
                devices.append(
                    self._device(f"{p.id}/phone", kind, PHONE_TX, p.id, None, 0, 1, irk, rotation)
                )
        for spec in self.scenario.devices:
            if spec.kind in {"iphone", "android"}:
                irk = self._bytes(("irk", spec.name), 0, 16)
                devices.append(
                    self._device(
                        spec.name, spec.kind, spec.tx_power, None, spec, 0, 1, irk, rotation
                    )
                )
            else:
                random48 = int.from_bytes(self._bytes(("addr", spec.name), 0, 6), "big")
                address = ble_air.static_random_address(random48)
                devices.append(
                    self._device(spec.name, spec.kind, spec.tx_power, None, spec, address, 1)
                )
        return tuple(devices)

    def _device(  # noqa: PLR0917 - private factory, one positional per Device field
        self,
        name: str,
        kind: str,
        tx: float,
        holder: str | None,
        spec: DeviceSpec | None,
        address: int,
        address_type: int,
        irk: bytes | None = None,
        rotation: float = 0.0,
    ) -> Device:
        u = self._uniforms(("device", name), 0, 2)
        interval = self.scenario.advert_interval_s
        # Phones rotate every ~15 min give or take a few minutes, as iOS and Android do.
        rotation_s = rotation * (0.85 + 0.3 * float(u[1])) if irk else 0.0
        present = (-math.inf, math.inf)
        if holder is not None:
            person = self._person(holder)
            if person.member is None:
                present = (float(person.arrive), float(person.leave))
        device = Device(
            name,
            _stream(name),
            kind,
            tx,
            float(u[0]) * interval,
            holder,
            spec,
            address,
            address_type,
            irk,
            rotation_s,
            present,
            b"",
        )
        return dataclasses.replace(device, payload=self._payload(device, 0))

    def _member_info(self, m: MemberSpec) -> MemberInfo:
        irks = tuple(d.irk for d in self._devices if d.holder == m.name and d.irk is not None)
        return MemberInfo(m.name, m.bedroom, (m.tag.address,), irks)

    def _device_position(self, device: Device, minute: int) -> tuple[float, float] | None:
        if device.holder is not None:
            return self.position(device.holder, minute)
        spec = device.spec
        assert spec is not None
        if spec.schedule:
            of_day = self._minute_of_day(minute)
            if not any(_in_window(of_day, a, b) for a, b in spec.schedule):
                return None
        return spec.x, spec.y

    def _mean_rssi(
        self, device: Device, n: int, sensor: int, at: tuple[float, float], minute: int
    ) -> float | None:
        pos = self._memoised(("where", n, minute), lambda: self._device_position(device, minute))
        if pos is None:
            return None
        return self._memoised(
            ("rssi", n, sensor, pos), lambda: self.radio.mean_rssi(device.tx, pos, at)
        )

    def _fading(self, stream: int, sensor: int, i: int) -> tuple[float, float]:
        block, k = divmod(i, NOISE_BLOCK)

        def draw() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
            rng = np.random.default_rng(
                [self.seed, _stream("fading"), stream, sensor, block % 2**62]
            )
            return rng.standard_normal(NOISE_BLOCK), rng.random(NOISE_BLOCK)

        gauss, uniform = self._memoised(("fade", stream, sensor, block), draw)
        return float(gauss[k]), float(uniform[k])

    def _emission(self, device: Device, t: float) -> tuple[int, int, bytes]:
        """Address, address type and payload of the device at time t."""
        if device.irk is None:
            return device.address, device.address_type, device.payload
        period = math.floor((t - device.phase * 37) / device.rotation_s)

        def rotate() -> tuple[int, bytes]:
            random24 = int.from_bytes(self._bytes(("rpa", device.id), period, 3), "big")
            assert device.irk is not None
            return ble_air.resolvable_private_address(device.irk, random24), self._payload(
                device, period
            )

        address, payload = self._memoised(("rpa", device.id, period), rotate)
        return address, 1, payload

    def _payload(self, device: Device, period: int) -> bytes:
        kind = device.kind
        if kind == "ibeacon":
            uuid = self._bytes(("ibeacon-uuid",), 0, 16)
            minor = int.from_bytes(self._bytes(("minor", device.id), 0, 2), "big")
            return ble_air.ibeacon(uuid, 1, minor, round(TAG_TX))
        if kind == "tile":
            return ble_air.tile(self._bytes(("tile", device.id), 0, 8))
        if kind == "iphone":
            return ble_air.iphone(self._bytes(("nearby", device.id), period, 5))
        if kind == "android":
            return ble_air.android(self._bytes(("model", device.id), 0, 3))
        if kind == "samsung_tv":
            return ble_air.samsung_tv(self._bytes(("tv", device.id), 0, 6))
        if kind == "smart_plug":
            return ble_air.smart_plug(12.5, 230.0)
        raise ConfigError(f"device {device.id!r}: unknown kind {kind!r}")

    # Counter-based randomness and memos

    def _uniforms(self, stream: tuple[Any, ...], index: int, n: int) -> NDArray[np.float64]:
        """``n`` uniforms in [0, 1) for (stream, index): the same whenever asked."""
        key = ("u", stream, index, n)

        def draw() -> NDArray[np.float64]:
            s = _stream("/".join(map(str, stream)))
            return np.random.default_rng([self.seed, s, index % 2**62]).random(n)

        result: NDArray[np.float64] = self._memoised(key, draw)
        return result

    def _bytes(self, stream: tuple[Any, ...], index: int, n: int) -> bytes:
        s = _stream("/".join(map(str, stream)))
        return np.random.default_rng([self.seed, s, index % 2**62]).bytes(n)

    def _memoised(self, key: tuple[Any, ...], compute: Callable[[], _T]) -> _T:
        found = self._memo.get(key, _MISSING)
        if found is _MISSING:
            found = compute()
            with self._lock:
                if len(self._memo) >= CACHE_LIMIT:
                    self._memo.clear()
                self._memo[key] = found
        return cast("_T", found)

    def _sensor_spec(self, sensor: str) -> SensorInfo:
        index = self._sensor_index.get(sensor)
        if index is None:
            raise ConfigError(f"no sensor {sensor!r} in scenario {self.scenario.name!r}")
        return self.sensors[index]

    def _local(self, date: dt.date, minutes: int) -> int:
        """Epoch seconds of ``minutes`` after local midnight of ``date`` (may be < 0 or > 1440)."""
        day = date + dt.timedelta(days=minutes // 1440)
        hh, mm = divmod(minutes % 1440, 60)
        return int(dt.datetime.combine(day, dt.time(hh, mm), tzinfo=self.tz).timestamp())


_MISSING: Final = object()
_T = TypeVar("_T")


def _stream(name: str) -> int:
    """A stable integer for a stream name (``hash()`` is salted per process)."""
    return zlib.crc32(name.encode())


def _in_window(of_day: int, a: int, b: int) -> bool:
    """Whether a minute of the day is in [a, b), windows may wrap past midnight."""
    return a <= of_day < b if a <= b else of_day >= a or of_day < b
