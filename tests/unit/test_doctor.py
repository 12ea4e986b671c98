"""``homehub doctor`` checks and the status page they appear on (real server on port 0)."""

from __future__ import annotations

import asyncio
import html
import json
from pathlib import Path

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from hub.cli import main
from hub.config import config_from_dict, load_config
from hub.doctor import (
    DoctorStatus,
    Level,
    WithFirstBoot,
    _status_fetcher,
    check_delivery,
    check_disk,
    check_firstboot,
    check_keys,
    check_sensors,
    format_report,
    run_checks,
)
from hub.firstboot import Layout, run_firstboot
from hub.web import create_app

RECIPIENT = "age1r502dygg0hdft628pvzraqc9t768p6tjqc58zt2wgjy67ynxhs7sy9h754"


class Snap:
    def __init__(self, data: dict[str, object]) -> None:
        self.data = data

    def snapshot(self) -> dict[str, object]:
        return self.data


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "homehub.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "hub"}"\n{extra}\n'
        f'[study]\nparticipant_id = "P-1"\nrecipients = ["{RECIPIENT}"]\n'
    )
    return path


def test_firstboot_errors_fail_with_advice(tmp_path: Path) -> None:
    layout = Layout(root=tmp_path / "root", boot_dir=tmp_path, state_dir=tmp_path / "data")
    (tmp_path / "homehub.toml").write_text("[sytem]\n")
    run_firstboot(layout, live=False)
    check = check_firstboot(layout.result)
    assert check.level is Level.FAIL
    assert "'sytem'" in check.message and "did you mean 'system'" in check.message
    assert "boot partition" in check.advice
    assert check_firstboot(tmp_path / "none.json").level is Level.WARN


def test_sensors_named_but_not_connected_are_listed(tmp_path: Path) -> None:
    config = config_from_dict({"sensors": [{"name": "bedroom-1", "room": "bedroom"}]})
    status = {"sensors": {"kitchen-1": {"state": "connected"}, "hall-1": {"state": "waiting"}}}
    check = check_sensors(config, status)
    assert check.level is Level.WARN
    assert "1 connected" in check.message
    assert "bedroom-1" in check.message and "hall-1" in check.message
    ok = check_sensors(config_from_dict({}), {"sensors": {"kitchen-1": {"state": "connected"}}})
    assert ok.level is Level.OK
    assert check_sensors(config_from_dict({}), None).level is Level.WARN


def test_keys_and_delivery(tmp_path: Path) -> None:
    assert check_keys(tmp_path).level is Level.FAIL
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "device.pem").write_text("x")
    assert check_keys(tmp_path).level is Level.OK
    none = check_delivery(config_from_dict({}), tmp_path)
    assert none.level is Level.WARN and "delivery.s3_endpoint" in none.advice
    pull = config_from_dict({"delivery": {"lan_pull_token": "t"}})
    assert check_delivery(pull, tmp_path).level is Level.OK
    (tmp_path / "outbox").mkdir()
    for day in range(8):
        (tmp_path / "outbox" / f"P-1_2026-01-0{day + 1}.age").write_bytes(b"x")
    stuck = check_delivery(pull, tmp_path)
    assert stuck.level is Level.WARN and "8 summaries" in stuck.message


def test_disk_check_reports_free_space(tmp_path: Path) -> None:
    check = check_disk(tmp_path)
    assert check.level in (Level.OK, Level.WARN, Level.FAIL)
    assert "MB free" in check.message
    assert check_disk(tmp_path / "missing" / "deeper").level is Level.FAIL


def test_broken_config_is_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "homehub.toml"
    path.write_text("[study]\nparticipant_id = 3\n")
    checks = run_checks(
        path, firstboot_result=tmp_path / "fb.json", clock_synchronised=lambda: True
    )
    config = next(c for c in checks if c.name == "config")
    assert config.level is Level.FAIL and "study.participant_id" in config.message
    assert "[FAIL] config" in format_report(checks)


def test_cli_exit_code_follows_failures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, extra="[web]\nport = 1")
    code = main(["doctor", "--config", str(config), "--firstboot-result", str(tmp_path / "x")])
    out = capsys.readouterr().out
    assert code == 1
    assert "[FAIL] hub: the hub is not answering" in out
    assert "[FAIL] keys" in out


async def test_doctor_reads_live_status_from_the_page(tmp_path: Path) -> None:
    status = Snap(
        {"state": "running", "sensors": {"kitchen-1": {"room": "kitchen", "state": "connected"}}}
    )
    server = TestServer(create_app(status), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        config_path = write_config(tmp_path, extra=f"[web]\nport = {server.port}")
        fetch = _status_fetcher(load_config(config_path))
        checks = await asyncio.to_thread(
            run_checks,
            config_path,
            firstboot_result=tmp_path / "fb.json",
            clock_synchronised=lambda: False,
            fetch_status=fetch,
        )
    finally:
        await server.close()
    by_name = {c.name: c for c in checks}
    assert by_name["hub"].level is Level.OK
    assert by_name["sensors"].level is Level.OK and "kitchen-1" in by_name["sensors"].message
    assert by_name["clock"].level is Level.WARN


async def test_status_page_shows_errors_sensors_and_checks_escaped(tmp_path: Path) -> None:
    layout = Layout(root=tmp_path / "root", boot_dir=tmp_path, state_dir=tmp_path / "data")
    (tmp_path / "homehub.toml").write_text('[system]\nhostname = "<b>x</b>"\n')
    run_firstboot(layout, live=False)
    provider = DoctorStatus(tmp_path / "homehub.toml", layout.result)
    server = TestServer(create_app(provider), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with ClientSession() as session:
            async with session.get(server.make_url("/")) as resp:
                assert resp.status == 200
                page = await resp.text()
            async with session.get(server.make_url("/status.json")) as resp:
                data = json.loads(await resp.text())
    finally:
        await server.close()
    assert "Errors" in page and "system.hostname" in page
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert "not applied" in page
    assert "Checks" in page and "Problem" in page
    assert data["firstboot"]["ok"] is False
    assert any("system.hostname" in e for e in data["errors"])


async def test_status_page_lists_sensors() -> None:
    snap = Snap({"sensors": {"hall-1": {"room": "hall", "state": "waiting", "error": "timeout"}}})
    server = TestServer(create_app(snap), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with ClientSession() as session, session.get(server.make_url("/")) as resp:
            page = await resp.text()
    finally:
        await server.close()
    assert "hall-1" in page and "waiting" in page and "timeout" in page


async def test_running_hub_page_shows_a_rejected_new_file(tmp_path: Path) -> None:
    layout = Layout(root=tmp_path / "root", boot_dir=tmp_path, state_dir=tmp_path / "data")
    good = (
        f'[system]\ntimezone = "UTC"\n[study]\nparticipant_id = "P-1"\n'
        f'recipients = ["{RECIPIENT}"]\n'
    )
    (tmp_path / "homehub.toml").write_text(good)
    run_firstboot(layout, live=False)
    (tmp_path / "homehub.toml").write_text(good.replace("timezone", "time_zone"))
    run_firstboot(layout, live=False)
    hub = Snap({"state": "running", "sensors": {}})
    server = TestServer(create_app(WithFirstBoot(hub, layout.result)), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with ClientSession() as session, session.get(server.make_url("/")) as resp:
            page = html.unescape(await resp.text())
    finally:
        await server.close()
    assert "unknown key 'time_zone' (did you mean 'timezone'?)" in page
    assert "running" in page
    assert WithFirstBoot(hub, tmp_path / "missing.json").snapshot() == hub.data
