"""The SQLite store: sensors, secrets, minute blocks, corruption and deletion."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hub.errors import StoreError
from hub.store import Store
from tests.unit.factories import make_minute

T0 = 1_700_000_040


def test_sensor_keys_round_trip_and_forget(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.save_sensor("sensor-bedroom", "bedroom", b"k" * 32)
    assert store.sensor("sensor-bedroom").psk == b"k" * 32  # type: ignore[union-attr]
    assert [s.name for s in store.list_sensors()] == ["sensor-bedroom"]
    assert store.forget_sensor("sensor-bedroom")
    assert store.sensor("sensor-bedroom") is None
    store.close()


def test_database_file_is_private(tmp_path: Path) -> None:
    Store(tmp_path).close()
    assert (tmp_path / "hub.sqlite3").stat().st_mode & 0o077 == 0


def test_secret_is_stable_across_reopen(tmp_path: Path) -> None:
    store = Store(tmp_path)
    key = store.secret("member-key")
    store.close()
    assert Store(tmp_path).secret("member-key") == key


def test_minutes_survive_reopen_and_are_filtered_by_time(tmp_path: Path) -> None:
    store = Store(tmp_path)
    block = [make_minute(T0 + 60 * i) for i in range(10)]
    store.append_minutes("2023-11-14", block)
    store.close()
    store = Store(tmp_path)
    assert store.minutes_between(T0 + 120, T0 + 300) == block[2:5]
    assert store.last_minute() == block[-1].t


def test_a_corrupt_block_is_skipped_and_others_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(tmp_path)
    store.append_minutes("d", [make_minute(T0)])
    store.append_minutes("d", [make_minute(T0 + 600)])
    store.close()
    with sqlite3.connect(tmp_path / "hub.sqlite3") as db:
        db.execute("UPDATE minutes SET blob=? WHERE t0=?", (b"{not json", T0))
    store = Store(tmp_path)
    assert [m.t for m in store.minutes_between(T0, T0 + 3600)] == [T0 + 600]
    assert "corrupt" in caplog.text


def test_a_file_that_is_not_a_database_gets_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "hub.sqlite3").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="hub.sqlite3"):
        Store(tmp_path)


def test_deleted_minutes_leave_no_trace_in_the_files(tmp_path: Path) -> None:
    store = Store(tmp_path)
    marker = "kitchen-marker-room"
    store.append_minutes("2023-11-14", [make_minute(T0, members={"member-1": marker})])
    store.delete_minutes("2023-11-14")
    store.close()
    for path in tmp_path.iterdir():
        assert marker.encode() not in path.read_bytes(), path
