"""One simulated demo day, end to end: the acceptance figures, privacy on disk and in logs, the
sealed outputs with the stock ``age`` tool, and tampering.

The day runs once per module (about two minutes) and every test reads its outputs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hub.errors import IntegrityError
from hub.research.open import open_sealed, verify_sealed
from hub.sim.demo import EVENING_BEFORE_H, DemoOptions, run_demo
from hub.sim.home import VirtualHome
from hub.sim.home_process import AUDIO_SECONDS_PER_MINUTE
from hub.sim.scenario import load_scenario
from hub.summary.build import DayWindow

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@dataclass(frozen=True)
class DemoDay:
    out: Path
    report: dict[str, Any]
    log: Path


@pytest.fixture(scope="module")
def demo_day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoDay]:
    out = tmp_path_factory.mktemp("demo")
    log = out.parent / "hub.log"
    handler = logging.FileHandler(log)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        report = asyncio.run(run_demo(DemoOptions(out=out)))
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        handler.close()
    yield DemoDay(out, report, log)


def test_demo_writes_the_promised_outputs(demo_day: DemoDay) -> None:
    out = demo_day.out
    sealed = list((out / "summaries").glob("*.summary.age"))
    assert len(sealed) == 1
    assert sealed[0].with_name(sealed[0].name + ".sig").exists()
    assert (out / "researcher-identity.txt").read_text().count("AGE-SECRET-KEY-1") == 1
    assert (out / "hub-public-key").read_text().startswith("homehub-ed25519:")
    assert json.loads((out / "ground-truth.json").read_text())["minutes"]
    report = json.loads((out / "report.json").read_text())
    for key in (
        "room_accuracy",
        "sleep_onset_error_min",
        "wake_error_min",
        "visits_true",
        "visits_found",
    ):
        assert key in report


def test_demo_day_meets_the_acceptance_figures(demo_day: DemoDay) -> None:
    report = demo_day.report
    assert report["room_accuracy"] >= 0.95, report
    assert report["sleep_onset_error_min"] <= 15, report
    assert report["wake_error_min"] <= 15, report
    assert report["visits_matched"] == report["visits_true"] >= 2, report
    assert report["visits_invented"] == 0, report


def _summary(demo_day: DemoDay) -> dict[str, Any]:
    (sealed,) = (demo_day.out / "summaries").glob("*.summary.age")
    identity = (demo_day.out / "researcher-identity.txt").read_text().split()[-1]
    return open_sealed(
        sealed.read_bytes(),
        sealed.with_name(sealed.name + ".sig").read_bytes(),
        identity,
        (demo_day.out / "hub-public-key").read_text(),
    )


def test_a_sensor_outage_costs_only_its_own_minutes(demo_day: DemoDay) -> None:
    summary = _summary(demo_day)
    truth = json.loads((demo_day.out / "ground-truth.json").read_text())
    coverage = summary["coverage"]
    assert coverage["minutes_observed"] >= 0.9 * coverage["minutes_total"]
    down = {o["sensor"]: (o["end_epoch"] - o["start_epoch"]) // 60 for o in truth["outages"]}
    assert down, "the demo home has a sensor outage"
    rooms = {s.name: s.room for s in VirtualHome(load_scenario()).sensors}
    for sensor, minutes in down.items():
        uptime = coverage["sensors"][rooms[sensor]]["uptime_min"]
        # the outage is seen (a stall of the machine may blur its edges by a few minutes), and
        # reconnecting after the sensor re-announces costs at most a few home minutes
        assert (
            coverage["minutes_observed"] - minutes - 10
            <= uptime
            <= coverage["minutes_observed"] - minutes // 2
        )


def test_stock_age_decrypts_the_sealed_summary(demo_day: DemoDay, age_bin: str) -> None:
    age = age_bin
    (sealed,) = (demo_day.out / "summaries").glob("*.summary.age")
    plain = subprocess.run(
        [age, "-d", "-i", str(demo_day.out / "researcher-identity.txt"), str(sealed)],
        check=True,
        capture_output=True,
    ).stdout
    summary = json.loads(plain)
    assert summary["schema"] == "homehub.summary/1"
    assert summary["date"] == demo_day.report["date"]


def test_tampering_with_the_sealed_summary_fails_verification(demo_day: DemoDay) -> None:
    (sealed,) = (demo_day.out / "summaries").glob("*.summary.age")
    data = sealed.read_bytes()
    signature = sealed.with_name(sealed.name + ".sig").read_bytes()
    public = (demo_day.out / "hub-public-key").read_text()
    verify_sealed(data, signature, public)
    for position in (0, len(data) // 2, len(data) - 1):
        tampered = bytearray(data)
        tampered[position] ^= 0x01
        with pytest.raises(IntegrityError):
            verify_sealed(bytes(tampered), signature, public)


def _files(demo_day: DemoDay) -> list[Path]:
    roots = [demo_day.out / "hub-data", demo_day.out / "summaries"]
    files = [p for root in roots for p in root.rglob("*") if p.is_file()]
    return [*files, demo_day.out / "report.json", demo_day.out / "hub-public-key", demo_day.log]


def _address_encodings(address: int) -> list[bytes]:
    raw = address.to_bytes(6, "big")
    text = raw.hex()
    colons = ":".join(text[i : i + 2] for i in range(0, 12, 2))
    return [
        raw,
        raw[::-1],
        text.encode(),
        colons.encode(),
        colons.upper().encode(),
        str(address).encode(),
    ]


def test_no_ble_address_on_disk_or_in_logs(demo_day: DemoDay) -> None:
    home = VirtualHome(load_scenario())
    window = DayWindow.containing(home.start, home.tz)
    start = window.start - EVENING_BEFORE_H * 3600
    addresses: set[int] = set()
    for sensor in home.sensors:
        for t in range(start, window.end, 3600):
            addresses.update(a.address for a in home.advertisements(sensor.name, t, t + 600))
    assert len(addresses) > 20  # tags, rotating phones, visitors, neighbours
    needles = {enc for a in addresses for enc in _address_encodings(a)}
    log = demo_day.log.read_text()
    assert "adopted with a new encryption key" in log, "the hub's log was captured"
    for path in _files(demo_day):
        blob = path.read_bytes()
        found = [n for n in needles if len(n) >= 6 and n in blob]
        assert not found, f"{path} holds a BLE address ({found[0]!r})"


def test_no_audio_sample_on_disk_or_in_logs(demo_day: DemoDay) -> None:
    home = VirtualHome(load_scenario())
    mics = [s.room for s in home.sensors if s.has_microphone]
    start = int(home.start)
    probes: list[bytes] = []
    for hour in range(0, 24, 2):
        minute = start + hour * 3600 + 600
        for room in mics:
            pcm = home.audio(room, minute, minute + AUDIO_SECONDS_PER_MINUTE)
            for offset in range(1000, len(pcm) - 16, 4000):
                window = pcm[offset : offset + 16]
                if np.abs(window.astype(np.int32)).max() > 64:  # silence is not evidence
                    probes.append(window.astype("<i2").tobytes())
    assert len(probes) > 50
    for path in _files(demo_day):
        blob = path.read_bytes()
        assert not any(p in blob for p in probes), f"{path} holds streamed PCM"
