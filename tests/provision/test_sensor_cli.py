"""``homehub sensor provision | list | forget`` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.cli import main
from tests.provision.fakes import FakeMicroPython

pytestmark = pytest.mark.timeout(30)


def test_provision_list_forget(tmp_path: Path, capsys, monkeypatch) -> None:
    data = tmp_path / "data"
    board = tmp_path / "board"
    board.mkdir()
    monkeypatch.setenv("HOMEHUB_WIFI_PSK", "hunter2 pass")
    base = ["sensor", "--config", str(tmp_path / "absent.toml"), "--data-dir", str(data)]
    with FakeMicroPython(board) as dev:
        code = main(
            [
                *base,
                "provision",
                dev.path,
                "--room",
                "hall",
                "--name",
                "ble-hall-1",
                "--ssid",
                "home-net",
            ]
        )
    assert code == 0
    out = capsys.readouterr().out
    assert "ble-hall-1: micropython sensor in hall" in out
    written = json.loads((board / "sensor.json").read_text())
    assert (written["wifi_ssid"], written["wifi_psk"]) == ("home-net", "hunter2 pass")

    assert main([*base, "list"]) == 0
    listing = capsys.readouterr().out
    assert "ble-hall-1" in listing and "hall" in listing and "yes" in listing
    assert written["psk"] not in listing

    assert main([*base, "forget", "ble-hall-1"]) == 0
    assert main([*base, "forget", "ble-hall-1"]) == 1
    assert "no sensor named 'ble-hall-1'" in capsys.readouterr().err
    assert main([*base, "list"]) == 0
    assert "no sensors adopted yet" in capsys.readouterr().out


def test_provision_needs_a_room(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["sensor", "provision", "/dev/null"])
    assert "--room" in capsys.readouterr().err
