"""ESPHome-path adoption against a real API peer: Improv on a pty for Wi-Fi, then mDNS on
loopback and ``noise_encryption_set_key`` over Noise to the MicroPython sensor (unkeyed)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest

from hub.provision.adopt import KeyNotSet, SensorKind, Wifi, provision
from hub.provision.registry import SqliteSensorRegistry
from tests.firmware.conftest import FIRMWARE, find_tool, start_sensor
from tests.provision.fakes import FakeEsphome, FakeMicroPython

pytestmark = [pytest.mark.firmware, pytest.mark.timeout(60)]


def test_provision_adopts_over_the_network(tmp_path: Path) -> None:
    micropython = find_tool("micropython")
    registry = SqliteSensorRegistry(tmp_path / "data")
    try:
        with start_sensor(micropython, tmp_path, psk=None) as sensor:
            with FakeEsphome(name=sensor.name, ssid="net", passphrase="pw") as dev:
                done = provision(
                    dev.path,
                    "kitchen",
                    registry,
                    wifi=Wifi("net", "pw"),
                    interfaces=("127.0.0.1",),
                    adopt_timeout=10,
                )
            [record] = registry.list_sensors()
            stored = json.loads((tmp_path / "sensor.json").read_text())
    finally:
        registry.close()
    assert (done.kind, done.name, done.keyed) == (SensorKind.ESPHOME, sensor.name, True)
    assert record.psk is not None and len(record.psk) == 32
    # The sensor saved exactly the key the hub recorded.
    assert base64.b64decode(stored["psk"]) == record.psk


def test_provisioned_config_loads_in_the_firmware(tmp_path: Path) -> None:
    micropython = find_tool("micropython")
    registry = SqliteSensorRegistry(tmp_path / "data")
    try:
        with FakeMicroPython(tmp_path) as dev:
            provision(dev.path, "study", registry, name="ble-study-1", wifi=Wifi("n", "p"))
    finally:
        registry.close()
    proc = subprocess.run(
        [
            micropython,
            "-c",
            (
                "import config; c = config.load('sensor.json');"
                "print(c.name, c.room, c.port, len(c.psk), c.wifi_ssid)"
            ),
        ],
        cwd=tmp_path,
        env={"MICROPYPATH": f"{FIRMWARE}:.frozen"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.stdout.split() == ["ble-study-1", "study", "6053", "32", "n"], proc.stderr


def test_reprovisioning_keeps_the_key_the_hub_has(tmp_path: Path) -> None:
    micropython = find_tool("micropython")
    registry = SqliteSensorRegistry(tmp_path / "data")
    try:
        with start_sensor(micropython, tmp_path, psk=None) as sensor:
            for room in ("kitchen", "dining room"):
                with FakeEsphome(name=sensor.name, ssid="net", passphrase="pw") as dev:
                    provision(
                        dev.path,
                        room,
                        registry,
                        wifi=Wifi("net", "pw"),
                        interfaces=("127.0.0.1",),
                        adopt_timeout=10,
                    )
                [record] = registry.list_sensors()
                if room == "kitchen":
                    first_key = record.psk
        stored = json.loads((tmp_path / "sensor.json").read_text())
    finally:
        registry.close()
    assert (record.room, record.psk) == ("dining room", first_key)
    assert base64.b64decode(stored["psk"]) == first_key


def test_a_sensor_keyed_elsewhere_is_refused_and_not_recorded(tmp_path: Path) -> None:
    micropython = find_tool("micropython")
    registry = SqliteSensorRegistry(tmp_path / "data")
    try:
        with start_sensor(micropython, tmp_path, psk=os.urandom(32)) as sensor:
            with FakeEsphome(name=sensor.name, ssid="net", passphrase="pw") as dev:
                with pytest.raises(KeyNotSet, match="already has a key this hub does not know"):
                    provision(
                        dev.path,
                        "kitchen",
                        registry,
                        wifi=Wifi("net", "pw"),
                        interfaces=("127.0.0.1",),
                        adopt_timeout=10,
                    )
        assert registry.list_sensors() == []
    finally:
        registry.close()
