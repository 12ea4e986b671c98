"""BLE presence: raw advertisements in, per-minute room of each member and visitor count out.

Addresses exist only as dictionary keys in RAM for the current day. Each is resolved once to an
identity: a registered member (a tag whose keyed hash is in the configuration, or a phone whose
resolvable private address resolves with a registered IRK), or a pseudonym under the day's key.
Nothing here does I/O; the caller owns the day key and destroys it after sealing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final, Protocol

from bluetooth_data_tools import (
    get_cipher_for_irk,
    int_to_bluetooth_address,
    parse_advertisement_data_bytes,
    resolve_private_address,
)

from hub.config import BleConfig, MemberConfig

_LOGGER = logging.getLogger(__name__)

MAX_IDENTITY_CACHE: Final = 50_000
"""Distinct addresses remembered per day; a busy street shows a few thousand a day."""

ROTATION_LINK_S: Final = 60.0
"""A new phone pseudonym appearing within this many seconds of another going quiet is taken for
the same phone after an address rotation (iOS and Android rotate about every 15 minutes)."""

VISITOR_FRESH_S: Final = 30.0
"""An unknown phone counts as present while heard within this window."""

INSIDE_MINUTES: Final = 2
"""Consecutive minutes a phone must be inside before it counts as a visitor's."""

INSIDE_RSSI: Final = -82.0
"""Smoothed RSSI at the best sensor above which a device is inside the home, not next door."""

APPLE: Final = 0x004C
GOOGLE_FAST_PAIR_UUID: Final = "0000fe2c-0000-1000-8000-00805f9b34fb"
PHONE_MANUFACTURERS: Final = frozenset({APPLE, 0x0075, 0x0006, 0x00E0})
"""Apple, Samsung, Microsoft (Swift Pair/CDP) and Google manufacturer ids seen on phones."""
IBEACON_PREFIX: Final = b"\x02\x15"


class AdvertLike(Protocol):
    """What ESPHome's raw advertisement message carries (the protobuf object is passed through)."""

    @property
    def address(self) -> int: ...
    @property
    def address_type(self) -> int: ...
    @property
    def rssi(self) -> int: ...
    @property
    def data(self) -> bytes: ...


class Kind(Enum):
    """What an identity is."""

    MEMBER = "member"
    PHONE = "phone"  # an unknown device carried by a person: a visitor candidate
    OTHER = "other"  # fixtures, wearables of nobody in particular, neighbours' TVs


@dataclass(slots=True)
class Track:
    """Smoothed RSSI per room for one identity (member, or unknown pseudonym)."""

    kind: Kind
    label: str
    first_seen: float
    last_seen: float = 0.0
    rssi: dict[str, float] = field(default_factory=dict)
    heard: dict[str, float] = field(default_factory=dict)
    cluster: int = 0
    retired: bool = False
    successor: Track | None = None

    def update(self, room: str, rssi: float, t: float, tau: float) -> None:
        """Exponential smoothing with a time constant, robust to uneven advertisement rates."""
        last = self.heard.get(room)
        if last is None or t - last > 4 * tau:
            self.rssi[room] = rssi
        else:
            alpha = min(1.0, max(t - last, 0.5) / tau)
            prev = self.rssi[room]
            self.rssi[room] = prev + alpha * (rssi - prev)
        self.heard[room] = t
        self.last_seen = max(self.last_seen, t)

    def best_room(self, t: float, stale_s: float) -> tuple[str | None, float]:
        """Strongest fresh room and its smoothed RSSI."""
        best: str | None = None
        best_rssi = -1000.0
        for room, value in self.rssi.items():
            if t - self.heard[room] <= stale_s and value > best_rssi:
                best, best_rssi = room, value
        return best, best_rssi


@dataclass(frozen=True, slots=True)
class BleMinute:
    """What BLE says about one minute."""

    members: dict[str, str | None]
    """Member name -> room, or None when away (not heard)."""
    visitors: int
    """Unknown phones inside the home, rotations merged."""
    visitor_rooms: dict[str, int]
    """Room -> number of visitor phones there."""


def tag_hash(member_key: bytes, address: int) -> str:
    """The keyed hash a registered tag is stored under (the address itself is never stored)."""
    return hmac.new(member_key, address.to_bytes(6, "big"), hashlib.sha256).hexdigest()[:32]


class BleSensing:
    """Turns advertisements from every room into member rooms and visitor counts."""

    def __init__(
        self,
        config: BleConfig,
        members: Sequence[MemberConfig],
        member_key: bytes,
        day_key: bytes,
    ) -> None:
        self._config = config
        self._member_key = member_key
        self._tags = {tag: m.name for m in members for tag in m.tags}
        self._irk_ciphers = [
            (get_cipher_for_irk(bytes.fromhex(irk)), m.name) for m in members for irk in m.irks
        ]
        self._member_names = [m.name for m in members]
        self._day_key = day_key
        self._identity: dict[int, Track] = {}
        self._members: dict[str, Track] = {}
        self._member_room: dict[str, str | None] = {}
        self._phones: list[Track] = []
        self._next_cluster = 1
        self._inside_streak: dict[int, int] = {}
        self.advertisements = 0
        self.dropped_weak = 0
        self.malformed = 0

    def rotate_day_key(self, day_key: bytes) -> None:
        """Start a new pseudonym day: forget every address and unknown track."""
        self._day_key = day_key
        self._identity.clear()
        self._phones.clear()

    def ingest(self, room: str, adverts: Iterable[AdvertLike], t: float) -> None:
        """Account for a batch of advertisements heard by the sensor in ``room`` at home time t."""
        tau = self._config.smoothing_s
        min_rssi = self._config.min_rssi
        identity = self._identity
        count = 0
        for adv in adverts:
            count += 1
            rssi = adv.rssi
            if rssi < min_rssi:
                self.dropped_weak += 1
                continue
            track = identity.get(adv.address)
            if track is None:
                track = self._resolve(adv, t)
                if track is None:
                    continue
            if track.retired:
                self._unlink(track)
            track.update(room, rssi, t, tau)
        self.advertisements += count

    def _resolve(self, adv: AdvertLike, t: float) -> Track | None:
        if len(self._identity) >= MAX_IDENTITY_CACHE:
            self._evict(t)
        address = adv.address
        if not 0 <= address < 1 << 48:
            self.malformed += 1
            return None
        member = self._member_for(address, adv.address_type)
        if member is not None:
            track = self._members.get(member)
            if track is None:
                track = self._members[member] = Track(Kind.MEMBER, member, t)
        else:
            kind = _classify(adv.data)
            if kind is None:
                self.malformed += 1
                return None
            digest = hmac.new(self._day_key, address.to_bytes(6, "big"), hashlib.sha256)
            track = Track(kind, digest.hexdigest()[:16], t)
            if kind is Kind.PHONE:
                self._link_rotation(track, t)
        self._identity[address] = track
        return track

    def _member_for(self, address: int, address_type: int) -> str | None:
        name = self._tags.get(tag_hash(self._member_key, address)) if self._tags else None
        if name is not None:
            return name
        if address_type == 1 and (address >> 46) == 0b01 and self._irk_ciphers:
            return self._resolve_rpa(address)
        return None

    def _resolve_rpa(self, address: int) -> str | None:
        """Resolve a private address with registered IRKs (Core spec Vol 3 Part C 10.8.2)."""
        text = int_to_bluetooth_address(address)
        for cipher, name in self._irk_ciphers:
            if resolve_private_address(cipher, text):
                return name
        return None

    def _link_rotation(self, new: Track, t: float) -> None:
        """Give a new phone pseudonym the cluster of one that just went quiet (address rotation)."""
        best: Track | None = None
        for old in self._phones:
            if old.retired:
                continue
            quiet_for = t - old.last_seen
            if 0.0 < quiet_for <= ROTATION_LINK_S and (
                best is None or old.last_seen > best.last_seen
            ):
                best = old
        if best is not None:
            best.retired = True
            best.successor = new
            new.cluster = best.cluster
        else:
            new.cluster = self._next_cluster
            self._next_cluster += 1
        self._phones.append(new)

    def _unlink(self, old: Track) -> None:
        """A phone taken for rotated was heard again: it was another phone after all."""
        old.retired = False
        successor, old.successor = old.successor, None
        if successor is not None and successor.cluster == old.cluster:
            successor.cluster = self._next_cluster
            self._next_cluster += 1

    def _evict(self, t: float) -> None:
        stale = [a for a, tr in self._identity.items() if t - tr.last_seen > self._config.stale_s]
        for address in stale:
            del self._identity[address]
        self._phones = [p for p in self._phones if t - p.last_seen <= self._config.stale_s]
        if len(self._identity) >= MAX_IDENTITY_CACHE:
            _LOGGER.warning("BLE identity cache full; forgetting all unknown devices")
            self._identity = {a: tr for a, tr in self._identity.items() if tr.kind is Kind.MEMBER}

    def minute(self, t: float) -> BleMinute:
        """Member rooms (with hysteresis) and visitor phones at home time t."""
        stale_s = self._config.stale_s
        rooms: dict[str, str | None] = {}
        for name in self._member_names:
            track = self._members.get(name)
            rooms[name] = self._room_with_hysteresis(name, track, t, stale_s)
        inside: dict[int, str] = {}
        for phone in self._phones:
            if phone.retired or t - phone.last_seen > VISITOR_FRESH_S:
                continue
            room, rssi = phone.best_room(t, VISITOR_FRESH_S)
            if room is not None and rssi >= INSIDE_RSSI:
                inside[phone.cluster] = room
        # a phone counts once it has been inside for two minutes in a row: a neighbour's phone
        # that peaks over the threshold for a moment, or a rotated address not yet linked, does not
        self._inside_streak = {c: self._inside_streak.get(c, 0) + 1 for c in inside}
        clusters = {c: r for c, r in inside.items() if self._inside_streak[c] >= INSIDE_MINUTES}
        self._phones = [p for p in self._phones if t - p.last_seen <= stale_s]
        visitor_rooms: dict[str, int] = {}
        for room in clusters.values():
            visitor_rooms[room] = visitor_rooms.get(room, 0) + 1
        return BleMinute(rooms, len(clusters), visitor_rooms)

    def _room_with_hysteresis(
        self, name: str, track: Track | None, t: float, stale_s: float
    ) -> str | None:
        if track is None:
            return None
        best, best_rssi = track.best_room(t, stale_s)
        current = self._member_room.get(name)
        if best is not None and current is not None and current != best:
            fresh = t - track.heard.get(current, -1e18) <= stale_s
            if fresh and track.rssi[current] + self._config.hysteresis_db > best_rssi:
                best = current
        self._member_room[name] = best
        return best

    def stats(self) -> dict[str, Any]:
        """Counters for health pages (no identities)."""
        return {
            "advertisements": self.advertisements,
            "dropped_weak": self.dropped_weak,
            "malformed": self.malformed,
            "devices_today": len(self._identity),
        }


def _classify(data: bytes) -> Kind | None:
    """Phone-like or other, from the advertisement payload; None if it is not valid AD data."""
    if not _valid_ad(data):
        return None
    try:
        _name, uuids, _service_data, manufacturer, _tx = parse_advertisement_data_bytes(data)
    except (ValueError, IndexError):
        return None
    for company, payload in manufacturer.items():
        if company == APPLE and payload.startswith(IBEACON_PREFIX):
            return Kind.OTHER
        if company in PHONE_MANUFACTURERS:
            return Kind.PHONE
    if GOOGLE_FAST_PAIR_UUID in uuids or GOOGLE_FAST_PAIR_UUID in _service_data:
        return Kind.PHONE
    return Kind.OTHER


def _valid_ad(data: bytes) -> bool:
    """AD structures must tile the payload exactly (length, type, value...), at most 62 bytes."""
    if len(data) > 62:
        return False
    i = 0
    n = len(data)
    while i < n:
        length = data[i]
        if length == 0:
            return all(b == 0 for b in data[i:])
        i += 1 + length
    return i == n
