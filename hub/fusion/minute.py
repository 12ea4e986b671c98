"""One minute of the home, and the builder that collects it as the minute goes by."""

from __future__ import annotations

import json
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

from hub.sensing.ble import BleMinute

UNKNOWN: Final = "-"
"""Member value for a minute in which the hub could not tell (paused room, every sensor down)."""


@dataclass(frozen=True, slots=True)
class MinuteRecord:
    """What the hub keeps about one minute: counts and rooms, never identities or samples."""

    t: int
    """Epoch seconds of the minute's start."""
    members: dict[str, str | None]
    """Member -> room, None when away, ``UNKNOWN`` when nothing could be sensed (pause, outage)."""
    visitors: int
    """Unknown phones inside the home."""
    sound: dict[str, dict[str, int]] = field(default_factory=dict)
    """Room -> sound class -> seconds it was the top class."""
    sensors_up: tuple[str, ...] = ()
    """Rooms whose sensor was connected during the minute."""
    paused: tuple[str, ...] = ()
    """Rooms where sensing was paused during the minute."""

    def to_json(self) -> dict[str, Any]:
        """Compact JSON (short keys keep the store's daily writes small)."""
        out: dict[str, Any] = {"t": self.t, "m": self.members, "v": self.visitors}
        if self.sound:
            out["s"] = self.sound
        if self.sensors_up:
            out["u"] = list(self.sensors_up)
        if self.paused:
            out["p"] = list(self.paused)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MinuteRecord:
        """Inverse of ``to_json``."""
        return cls(
            t=int(data["t"]),
            members={str(k): (None if v is None else str(v)) for k, v in data["m"].items()},
            visitors=int(data["v"]),
            sound={r: {c: int(n) for c, n in cs.items()} for r, cs in data.get("s", {}).items()},
            sensors_up=tuple(data.get("u", ())),
            paused=tuple(data.get("p", ())),
        )

    def top_sound(self, room: str) -> str | None:
        """The class heard most in ``room`` this minute, if anything was heard."""
        counts = self.sound.get(room)
        if not counts:
            return None
        return max(counts.items(), key=lambda kv: kv[1])[0]

    def heard(self, sound_class: str) -> bool:
        """Whether ``sound_class`` was the top class of any second in any room."""
        return any(counts.get(sound_class, 0) > 0 for counts in self.sound.values())


def encode_minutes(records: list[MinuteRecord]) -> bytes:
    """Serialise a block of minutes for the store (compressed JSON: a few hundred bytes)."""
    return zlib.compress(json.dumps([r.to_json() for r in records], separators=(",", ":")).encode())


def decode_minutes(blob: bytes) -> list[MinuteRecord]:
    """Inverse of ``encode_minutes``; raises ``ValueError`` on a damaged block."""
    try:
        raw = zlib.decompress(blob)
    except zlib.error as err:
        raise ValueError(f"not a compressed block: {err}") from err
    return [MinuteRecord.from_json(item) for item in json.loads(raw)]


class MinuteBuilder:
    """Collects sound seconds and link state during a minute, then closes it with BLE's view."""

    def __init__(self, t: int) -> None:
        self.t = t
        self._sound: dict[str, Counter[str]] = {}
        self._up: set[str] = set()
        self._paused: set[str] = set()

    def add_sound(self, room: str, top: str) -> None:
        """Count one classified second in ``room``."""
        self._sound.setdefault(room, Counter())[top] += 1

    def mark_up(self, room: str) -> None:
        """The room's sensor was connected at some point in the minute."""
        self._up.add(room)

    def mark_paused(self, room: str) -> None:
        """Sensing was paused in ``room`` at some point in the minute."""
        self._paused.add(room)

    def close(self, ble: BleMinute) -> MinuteRecord:
        """The finished record; paused rooms contribute no sound and no presence."""
        if not self._up:
            members: dict[str, str | None] = dict.fromkeys(ble.members, UNKNOWN)
        else:
            members = {m: (UNKNOWN if r in self._paused else r) for m, r in ble.members.items()}
        visitors = ble.visitors - sum(ble.visitor_rooms.get(r, 0) for r in self._paused)
        return MinuteRecord(
            t=self.t,
            members=members,
            visitors=max(0, visitors),
            sound={r: dict(c) for r, c in sorted(self._sound.items()) if r not in self._paused},
            sensors_up=tuple(sorted(self._up)),
            paused=tuple(sorted(self._paused)),
        )
