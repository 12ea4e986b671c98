"""Where adopted sensors and their keys are recorded: the hub store's ``sensors`` table.

``SensorKeyStore`` is what provisioning needs; ``SqliteSensorRegistry`` implements it on
``<data_dir>/hub.sqlite3`` through ``hub.store.Store``, the same table the running hub's links
read keys from, so a sensor provisioned over USB is known to the hub at once.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final, Protocol

from hub.errors import ProvisioningError
from hub.store import SensorRecord, Store

NAME_RE: Final = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
"""ESPHome node names: lower-case letters, digits and inner hyphens (they become host names)."""
MAX_ROOM_LEN: Final = 64


class SensorKeyStore(Protocol):
    """Adopted sensors: name, room and the per-sensor Noise key."""

    def save_sensor(self, name: str, room: str, psk: bytes | None) -> None:
        """Record (or re-record) a sensor; ``psk`` None means the hub adopts it on first link."""
        ...

    def list_sensors(self) -> list[SensorRecord]:
        """Every recorded sensor, by name."""
        ...

    def forget(self, name: str) -> bool:
        """Remove a sensor and its key; True if it was known."""
        ...


def check_name(name: str) -> str:
    """``name`` if it is a valid node name, else a clear error."""
    if not NAME_RE.match(name):
        raise ProvisioningError(
            f"sensor name {name!r} is not valid: use 1-63 lower-case letters, digits and hyphens"
        )
    return name


def check_room(room: str) -> str:
    """``room`` stripped, if it is a usable room name."""
    room = room.strip()
    if not room or len(room) > MAX_ROOM_LEN or not room.isprintable():
        raise ProvisioningError(
            f"room {room!r} is not valid: 1-{MAX_ROOM_LEN} printable characters"
        )
    return room


class SqliteSensorRegistry:
    """``SensorKeyStore`` on the hub's SQLite store."""

    def __init__(self, data_dir: Path) -> None:
        self._store = Store(data_dir)

    def close(self) -> None:
        self._store.close()

    def save_sensor(self, name: str, room: str, psk: bytes | None) -> None:
        if psk is not None and len(psk) != 32:
            raise ProvisioningError(f"a sensor key is 32 bytes, got {len(psk)}")
        self._store.save_sensor(check_name(name), check_room(room), psk)

    def list_sensors(self) -> list[SensorRecord]:
        return self._store.list_sensors()

    def forget(self, name: str) -> bool:
        return self._store.forget_sensor(name)
