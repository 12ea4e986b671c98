"""``provision`` end to end on pseudo-terminals: detection, Wi-Fi, keys, and the registry."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from hub.errors import ProvisioningError
from hub.provision.adopt import SensorKind, Wifi, provision
from hub.provision.registry import SqliteSensorRegistry
from tests.provision.fakes import FakeEsphome, FakeMicroPython, GarbageDevice, SilentDevice

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def registry(tmp_path: Path):
    reg = SqliteSensorRegistry(tmp_path / "data")
    yield reg
    reg.close()


def test_micropython_gets_config_and_key(tmp_path: Path, registry) -> None:
    board = tmp_path / "board"
    board.mkdir()
    with FakeMicroPython(board) as dev:
        done = provision(dev.path, "Living room", registry, wifi=Wifi("home-net", "pw"))
    assert done.kind is SensorKind.MICROPYTHON and done.keyed
    assert done.name.startswith("ble-living-room-")
    written = json.loads((board / "sensor.json").read_text())
    [record] = registry.list_sensors()
    assert (record.name, record.room) == (done.name, "Living room")
    assert base64.b64decode(written["psk"]) == record.psk
    assert len(record.psk) == 32
    assert written | {"psk": ""} == {
        "name": done.name,
        "room": "Living room",
        "psk": "",
        "port": 6053,
        "wifi_ssid": "home-net",
        "wifi_psk": "pw",
    }
    assert dev.soft_reboots == 1


def test_a_failed_write_leaves_no_key_behind(tmp_path: Path, registry) -> None:
    # The board's filesystem is missing, so open() raises on the device.
    with FakeMicroPython(tmp_path / "missing") as dev:
        with pytest.raises(ProvisioningError, match="device raised"):
            provision(dev.path, "kitchen", registry, name="ble-kitchen-1")
    assert registry.list_sensors() == []


def test_esphome_gets_wifi_and_waits_for_adoption(registry) -> None:
    with FakeEsphome(name="homehub-room-a1b2c3", ssid="home-net", passphrase="pw") as dev:
        done = provision(
            dev.path,
            "bedroom",
            registry,
            wifi=Wifi("home-net", "pw"),
            interfaces=("127.0.0.1",),
            adopt_timeout=0.5,
        )
    assert dev.wifi_attempts == [("home-net", "pw")]
    assert (done.kind, done.name, done.keyed) == (SensorKind.ESPHOME, "homehub-room-a1b2c3", False)
    assert "ESPHome 2026.6.5 on ESP32-S3" in done.firmware
    [record] = registry.list_sensors()
    assert (record.name, record.room, record.psk) == ("homehub-room-a1b2c3", "bedroom", None)


def test_esphome_without_wifi_is_told_what_to_pass(registry) -> None:
    with FakeEsphome() as dev:
        with pytest.raises(ProvisioningError, match="--ssid"):
            provision(dev.path, "bedroom", registry)
    assert registry.list_sensors() == []


@pytest.mark.parametrize("device", [GarbageDevice, SilentDevice])
def test_unknown_device_names_both_protocols(registry, device: type) -> None:
    with device() as dev:
        with pytest.raises(ProvisioningError, match="neither ESPHome nor MicroPython") as err:
            provision(dev.path, "kitchen", registry)
    assert "Improv" in str(err.value) and "REPL prompt" in str(err.value)
    assert registry.list_sensors() == []


@pytest.mark.parametrize(
    ("room", "name", "message"),
    [("", None, "room"), ("kitchen", "Bad Name!", "sensor name"), ("\x1b[31m", None, "room")],
)
def test_bad_names_are_refused_before_anything_is_written(
    tmp_path: Path, registry, room: str, name: str | None, message: str
) -> None:
    with FakeMicroPython(tmp_path) as dev:
        with pytest.raises(ProvisioningError, match=message):
            provision(dev.path, room, registry, name=name)
    assert not (tmp_path / "sensor.json").exists()


def test_missing_port_is_a_clear_error(registry) -> None:
    with pytest.raises(ProvisioningError, match="cannot open serial port /dev/nonexistent-tty"):
        provision("/dev/nonexistent-tty", "kitchen", registry)
