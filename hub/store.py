"""The local store: one SQLite database (WAL) for sensors, secrets and the minutes of open days.

Calls block on disk, so the async app calls them through ``asyncio.to_thread``. Writes are
batched by the caller (a block of minutes at a time) because SD cards wear out.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hub.errors import StoreError
from hub.fusion.minute import MinuteRecord, decode_minutes, encode_minutes

_LOGGER = logging.getLogger(__name__)

SCHEMA_VERSION: Final = 1
DB_NAME: Final = "hub.sqlite3"
PAGE_SIZE: Final = 1024
"""Bytes per SQLite page (set when the database is created)."""
MAX_BLOCK_S: Final = 3600
"""A block of minutes written at once never spans more than this (the app flushes often)."""

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS sensors (
    name TEXT PRIMARY KEY,
    room TEXT NOT NULL,
    psk BLOB,
    adopted_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS minutes (
    t0 INTEGER PRIMARY KEY,
    day TEXT NOT NULL,
    blob BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS days (
    day TEXT PRIMARY KEY,
    sealed_at REAL,
    file TEXT
);
"""


@dataclass(frozen=True, slots=True)
class SensorRecord:
    """An adopted sensor."""

    name: str
    room: str
    psk: bytes | None
    adopted_at: float


class Store:
    """SQLite access for the hub; thread-safe, one connection."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / DB_NAME
        try:
            data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            # small pages: each commit of a block of minutes rewrites ~1 KB, not 4 (SD wear)
            self._db.execute(f"PRAGMA page_size={PAGE_SIZE}")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.execute("PRAGMA journal_size_limit=1048576")
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{self.path}: cannot open the hub database: {err}") from err
        self.path.chmod(0o600)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Checkpoint and close."""
        with self._lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except sqlite3.Error as err:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StoreError(f"{self.path}: {err}") from err
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    # sensors

    def save_sensor(self, name: str, room: str, psk: bytes | None) -> None:
        """Adopt or update a sensor and its key."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO sensors(name, room, psk, adopted_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET room=excluded.room, psk=excluded.psk",
                (name, room, psk, time.time()),
            )

    def sensor(self, name: str) -> SensorRecord | None:
        """One adopted sensor, if known."""
        with self._tx() as db:
            row = db.execute(
                "SELECT name, room, psk, adopted_at FROM sensors WHERE name=?", (name,)
            ).fetchone()
        return None if row is None else SensorRecord(*row)

    def sensor_psk(self, name: str) -> bytes | None:
        """The sensor's Noise key, if adopted with one (the links' ``KeyStore``)."""
        record = self.sensor(name)
        return None if record is None else record.psk

    def list_sensors(self) -> list[SensorRecord]:
        """Every adopted sensor."""
        with self._tx() as db:
            rows = db.execute("SELECT name, room, psk, adopted_at FROM sensors ORDER BY name")
            return [SensorRecord(*row) for row in rows]

    def forget_sensor(self, name: str) -> bool:
        """Remove a sensor and its key; True if it was known."""
        with self._tx() as db:
            return db.execute("DELETE FROM sensors WHERE name=?", (name,)).rowcount > 0

    # secrets

    def secret(self, name: str, create_size: int = 32) -> bytes:
        """A named random secret, created on first use."""
        with self._tx() as db:
            row = db.execute("SELECT value FROM secrets WHERE name=?", (name,)).fetchone()
            if row is not None:
                return bytes(row[0])
            value = os.urandom(create_size)
            db.execute("INSERT INTO secrets(name, value) VALUES (?, ?)", (name, value))
            return value

    def destroy_secret(self, name: str) -> None:
        """Delete a secret (secure_delete overwrites its page)."""
        with self._tx() as db:
            db.execute("DELETE FROM secrets WHERE name=?", (name,))

    # settings

    def setting(self, name: str) -> str | None:
        """A household setting (consent, ...), if set."""
        with self._tx() as db:
            row = db.execute("SELECT value FROM settings WHERE name=?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, name: str, value: str) -> None:
        """Record a household setting."""
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO settings(name, value) VALUES (?, ?)", (name, value))

    # minutes

    def append_minutes(self, day: str, records: list[MinuteRecord]) -> None:
        """Store a block of minutes (one row, one transaction)."""
        if not records:
            return
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO minutes(t0, day, blob) VALUES (?, ?, ?)",
                (records[0].t, day, encode_minutes(records)),
            )

    def minutes_between(self, start: int, end: int) -> list[MinuteRecord]:
        """Every stored minute with start <= t < end, sorted; corrupt blocks are skipped loudly."""
        with self._tx() as db:
            rows = db.execute(
                "SELECT t0, blob FROM minutes WHERE t0 >= ? AND t0 < ? ORDER BY t0",
                (start - MAX_BLOCK_S, end),
            ).fetchall()
        out: list[MinuteRecord] = []
        for t0, blob in rows:
            try:
                block = decode_minutes(blob)
            except (ValueError, KeyError, TypeError) as err:
                _LOGGER.warning("store: minutes block at %s is corrupt (%s); skipped", t0, err)
                continue
            out.extend(m for m in block if start <= m.t < end)
        out.sort(key=lambda m: m.t)
        return out

    def last_minute(self) -> int | None:
        """Time of the newest stored minute, for resuming after a restart."""
        with self._tx() as db:
            row = db.execute("SELECT blob FROM minutes ORDER BY t0 DESC LIMIT 1").fetchone()
        if row is None:
            return None
        block = decode_minutes(row[0])
        return block[-1].t if block else None

    def delete_minutes(self, day: str) -> int:
        """Delete a day's minutes (today's data on request); returns blocks deleted."""
        with self._tx() as db:
            count = db.execute("DELETE FROM minutes WHERE day=?", (day,)).rowcount
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return count

    def delete_minutes_before(self, t: int) -> int:
        """Delete minutes no longer needed once their days are sealed."""
        with self._tx() as db:
            return db.execute("DELETE FROM minutes WHERE t0 < ?", (t,)).rowcount

    # days

    def mark_sealed(self, day: str, file: str) -> None:
        """Record that a day was sealed into ``file``."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO days(day, sealed_at, file) VALUES (?, ?, ?)",
                (day, time.time(), file),
            )

    def unsealed_days(self) -> list[str]:
        """Days with stored minutes that have not been sealed, oldest first."""
        with self._tx() as db:
            rows = db.execute(
                "SELECT DISTINCT day FROM minutes WHERE day NOT IN "
                "(SELECT day FROM days WHERE sealed_at IS NOT NULL) ORDER BY day"
            ).fetchall()
        return [row[0] for row in rows]

    def is_sealed(self, day: str) -> bool:
        """Whether a day was already sealed."""
        with self._tx() as db:
            row = db.execute("SELECT sealed_at FROM days WHERE day=?", (day,)).fetchone()
        return row is not None and row[0] is not None
