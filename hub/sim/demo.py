"""``homehub demo``: a virtual home, emulated sensors and a real hub, over real sockets and mDNS.

The scenario engine decides what each sensor hears; emulators speak the ESPHome native API with
Noise on 127.0.0.1 and announce themselves with real mDNS; the hub discovers, adopts and links
them exactly as in a home. Time is compressed by a shared ``SimClock``. At the end the day is
sealed, decrypted with the demo's researcher identity, and scored against the ground truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import resource
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from zeroconf.asyncio import AsyncZeroconf

from hub.app import MEMBER_KEY, Hub
from hub.clock import SimClock
from hub.config import BleConfig, HubConfig, MemberConfig, SensorConfig, StudyConfig, SystemConfig
from hub.errors import HubError
from hub.fusion.minute import UNKNOWN, MinuteRecord
from hub.reconnect import Backoff
from hub.sensing.ble import tag_hash
from hub.sim.home import VirtualHome
from hub.sim.home_process import replica_name
from hub.sim.scenario import load_scenario
from hub.store import Store
from hub.summary.build import DayWindow

_LOGGER = logging.getLogger(__name__)

DEFAULT_SPEED: Final = 800.0
"""Home seconds per real second: 24 h in 108 s, inside the 2-minute budget."""
EVENING_BEFORE_H: Final = 4
"""The demo starts this many hours before the summarised day so the first night is seen whole."""
DEMO_STALE_S: Final = 300.0
"""BLE staleness in home seconds for the compressed clock (the appliance default is 120)."""
MATCH_SLACK_S: Final = 15 * 60
"""A found visit matches a true one when their spans overlap (with this slack)."""


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """What ``homehub demo`` was asked for."""

    out: Path
    scenario: Path | None = None
    seed: int | None = None
    hours: float = 24.0 + EVENING_BEFORE_H
    speed: float = DEFAULT_SPEED
    audio_dir: Path | None = None
    extra_sensors: int = 0
    """BLE-only sensors added beside the scenario's (load tests)."""


async def run_demo(options: DemoOptions) -> dict[str, Any]:
    """Run the virtual home and the hub; write the outputs; return the report."""
    wall_start = time.monotonic()
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    home = VirtualHome(
        load_scenario(options.scenario), seed=options.seed, audio_dir=options.audio_dir
    )
    day = dt.datetime.fromtimestamp(home.start, home.tz).date()
    window = DayWindow.for_date(day, home.tz)
    start = window.start - EVENING_BEFORE_H * 3600
    end = start + options.hours * 3600
    identity, recipient = _researcher_identity(out)
    data_dir = out / "hub-data"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    config = _hub_config(home, data_dir, recipient, options.extra_sensors)

    hub_zc = AsyncZeroconf(interfaces=["127.0.0.1"])
    hub = Hub(
        config,
        clock=SimClock(start, options.speed),
        classifier_factory=_classifier_factory(),
        zeroconf=hub_zc,
        backoff_factory=lambda: Backoff(initial=0.05, maximum=0.5, auth_failure=2.0),
        clock_synchronised=lambda: True,
    )
    minutes: list[MinuteRecord] = []
    home_proc = await _start_home_process(options, start, end)
    try:
        # both processes read the same compressed clock, anchored once the home is ready
        anchor = time.time()
        assert home_proc.stdin is not None
        home_proc.stdin.write(f"{anchor}\n".encode())
        await home_proc.stdin.drain()
        clock = SimClock(start, options.speed, anchor=anchor)
        hub.clock = clock
        costs = _Costs.now()
        await hub.start()
        await clock.sleep_until(end)
        await hub.tick()
        await hub.flush()
        assert hub.store is not None
        minutes = await asyncio.to_thread(hub.store.minutes_between, window.start, window.end)
        sealed = await hub.close_day(day)
        hub_costs = costs.since(options.hours)
    finally:
        await hub.stop()
        await _stop_home_process(home_proc)
        await hub_zc.async_close()

    report = await asyncio.to_thread(
        _finish, out, home, sealed.path, identity, minutes, window, time.monotonic() - wall_start
    )
    report["hub"] = hub_costs
    (out / "report.json").write_text(json.dumps(report, indent=1))
    return report


@dataclass(frozen=True, slots=True)
class _Costs:
    """What the hub's process (this one) spent: disk writes and CPU."""

    written: int
    cpu: float
    wall: float

    @classmethod
    def now(cls) -> _Costs:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return cls(_bytes_written(), usage.ru_utime + usage.ru_stime, time.monotonic())

    def since(self, hours: float) -> dict[str, float]:
        end = _Costs.now()
        per_day = 24.0 / hours
        return {
            "bytes_written_per_day": round((end.written - self.written) * per_day),
            "cpu_s_per_day": round((end.cpu - self.cpu) * per_day, 1),
            "wall_s_per_day": round((end.wall - self.wall) * per_day, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }


def _bytes_written() -> int:
    """Bytes this process caused to be written to storage (Linux /proc/self/io)."""
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


async def _start_home_process(
    options: DemoOptions, start: float, end: float
) -> asyncio.subprocess.Process:
    """The virtual home (scenario + emulators) in its own process, on the shared clock."""
    argv = [
        sys.executable,
        "-m",
        "hub.sim.home_process",
        f"--start={start}",
        f"--end={end}",
        f"--speed={options.speed}",
    ]
    if options.scenario is not None:
        argv.append(f"--scenario={options.scenario}")
    if options.seed is not None:
        argv.append(f"--seed={options.seed}")
    if options.audio_dir is not None:
        argv.append(f"--audio-dir={options.audio_dir}")
    if options.extra_sensors:
        argv.append(f"--extra-sensors={options.extra_sensors}")
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    line = await proc.stdout.readline()
    if not line.startswith(b"ready"):
        raise HubError(f"the virtual home did not start (exit code {await proc.wait()})")
    return proc


async def _stop_home_process(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), 10)
    except TimeoutError:
        proc.kill()
        await proc.wait()


def _hub_config(
    home: VirtualHome, data_dir: Path, recipient: str, extra_sensors: int = 0
) -> HubConfig:
    store = Store(data_dir)
    member_key = store.secret(MEMBER_KEY)
    store.close()
    members = tuple(
        MemberConfig(
            m.name,
            tags=tuple(tag_hash(member_key, a) for a in m.tag_addresses),
            irks=tuple(irk.hex() for irk in m.phone_irks),
        )
        for m in home.members
    )
    return HubConfig(
        data_dir=str(data_dir),
        system=SystemConfig(timezone=home.tz.key),
        study=StudyConfig(
            participant_id="demo-home", recipients=(recipient,), consent_on_hub=False
        ),
        sensors=(
            *(SensorConfig(s.name, s.room) for s in home.sensors),
            *(
                SensorConfig(replica_name(s.name, i), s.room)
                for i, s in ((i, home.sensors[i % len(home.sensors)]) for i in range(extra_sensors))
            ),
        ),
        members=members,
        # at 800x a 150 ms stall of a busy machine is two home minutes without a batch:
        # wait longer before calling a member away than the appliance does
        ble=BleConfig(stale_s=DEMO_STALE_S),
    )


def _classifier_factory() -> Any:
    try:
        from hub.sensing.audio import load_default_classifier  # noqa: PLC0415
    except ImportError:
        from hub.sensing.audio import EnergyClassifier  # noqa: PLC0415

        return EnergyClassifier
    return load_default_classifier


def _researcher_identity(out: Path) -> tuple[str, str]:
    import pyrage  # noqa: PLC0415

    identity = pyrage.x25519.Identity.generate()
    path = out / "researcher-identity.txt"
    path.write_text(f"# homehub demo researcher identity\n{identity}\n")
    path.chmod(0o600)
    return str(identity), str(identity.to_public())


def _finish(  # noqa: PLR0917 - one call site, run in a thread
    out: Path,
    home: VirtualHome,
    sealed_path: Path,
    identity: str,
    minutes: list[MinuteRecord],
    window: DayWindow,
    wall_s: float,
) -> dict[str, Any]:
    from hub.keys import load_or_create_device_key  # noqa: PLC0415
    from hub.research.open import open_sealed  # noqa: PLC0415

    summaries = out / "summaries"
    summaries.mkdir(exist_ok=True)
    for src in (sealed_path, sealed_path.with_name(sealed_path.name + ".sig")):
        shutil.copy2(src, summaries / src.name)
    key = load_or_create_device_key(out / "hub-data" / "keys")
    (out / "hub-public-key").write_text(key.public_text())
    truth = home.truth()
    (out / "ground-truth.json").write_text(json.dumps(truth, indent=1))
    summary = open_sealed(
        (summaries / sealed_path.name).read_bytes(),
        (summaries / (sealed_path.name + ".sig")).read_bytes(),
        identity,
        key.public_text(),
    )
    report = score(summary, truth, minutes, window)
    report["wall_time_s"] = round(wall_s, 1)
    (out / "report.json").write_text(json.dumps(report, indent=1))
    print_side_by_side(summary, truth, report)
    return report


def score(
    summary: dict[str, Any],
    truth: dict[str, Any],
    minutes: Sequence[MinuteRecord],
    window: DayWindow,
) -> dict[str, Any]:
    """Compare the hub's view with the ground truth."""
    true_rooms = {int(m["t"]): m["members"] for m in truth["minutes"]}
    hits = total = 0
    for record in minutes:
        expected = true_rooms.get(record.t)
        if expected is None:
            continue
        for member, room in record.members.items():
            if room == UNKNOWN:
                continue
            want = expected.get(member)
            total += 1
            hits += (room or "away") == (want or "away")
    onset_err, wake_err = [], []
    for member, info in summary["members"].items():
        true_sleep = truth["sleep"].get(member)
        found = info["sleep"]
        if not true_sleep:
            continue
        if found["onset"] is None:
            onset_err.append(float("inf"))
            wake_err.append(float("inf"))
            continue
        onset_err.append(_minutes_between(found["onset"], true_sleep["onset"]))
        wake_err.append(_minutes_between(found["wake"], true_sleep["wake"]))
    true_visits = [v for v in truth["visits"] if window.start <= _epoch(v["arrival"]) < window.end]
    found_visits = summary["visits"]
    matched = sum(1 for v in true_visits if any(_overlaps(v, f) for f in found_visits))
    invented = sum(1 for f in found_visits if not any(_overlaps(v, f) for v in true_visits))
    return {
        "date": summary["date"],
        "room_accuracy": round(hits / total, 4) if total else 0.0,
        "room_minutes_scored": total,
        "sleep_onset_error_min": max(onset_err) if onset_err else None,
        "wake_error_min": max(wake_err) if wake_err else None,
        "visits_true": len(true_visits),
        "visits_found": len(found_visits),
        "visits_matched": matched,
        "visits_invented": invented,
        "head_counts": [
            {
                "true": v["head_count"],
                "found": [f["head_count"] for f in found_visits if _overlaps(v, f)],
            }
            for v in true_visits
        ],
        "snoring_min": {
            member: {
                "found": info["sleep"]["snoring_min"],
                "true": truth["sleep"].get(member, {}).get("snoring_min"),
            }
            for member, info in summary["members"].items()
        },
        "sound_min": _sound_minutes(summary, truth),
    }


def _sound_minutes(summary: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any]:
    """Minutes per room and class: the hub's (rooms with a microphone) against the truth."""
    out: dict[str, Any] = {}
    for room, classes in summary["sound"].items():
        heard = {c: n for c, n in classes.items() if n}
        if not heard:
            continue  # no microphone in this room
        true = truth.get("sound_min", {}).get(room, {})
        out[room] = {
            c: {"found": heard.get(c, 0), "true": true.get(c, 0)}
            for c in sorted(set(heard) | set(true))
            if c != "quiet"
        }
    return out


def _epoch(iso_time: str) -> float:
    return dt.datetime.fromisoformat(iso_time).timestamp()


def _minutes_between(a: str, b: str) -> float:
    return round(abs(_epoch(a) - _epoch(b)) / 60, 1)


def _overlaps(true_visit: dict[str, Any], found: dict[str, Any]) -> bool:
    return (
        _epoch(found["arrival"]) < _epoch(true_visit["departure"]) + MATCH_SLACK_S
        and _epoch(true_visit["arrival"]) < _epoch(found["departure"]) + MATCH_SLACK_S
    )


def print_side_by_side(
    summary: dict[str, Any], truth: dict[str, Any], report: dict[str, Any]
) -> None:
    """The decrypted summary beside the ground truth, for a person to read."""
    rows: list[tuple[str, str, str]] = []
    for member, info in summary["members"].items():
        true_sleep = truth["sleep"].get(member, {})
        rows.append(
            (f"{member} sleep onset", _hm(info["sleep"]["onset"]), _hm(true_sleep.get("onset")))
        )
        rows.append((f"{member} wake", _hm(info["sleep"]["wake"]), _hm(true_sleep.get("wake"))))
        rows.append(
            (
                f"{member} snoring min",
                str(info["sleep"]["snoring_min"]),
                str(true_sleep.get("snoring_min", "-")),
            )
        )
        rows.append(
            (
                f"{member} minutes away",
                str(info["minutes_away"]),
                str(truth.get("away_min", {}).get(member, "-")),
            )
        )
        rows.append(
            (
                f"{member} rooms",
                _rooms(info["rooms"]),
                _rooms(truth.get("room_min", {}).get(member, {})),
            )
        )
    for i, v in enumerate(summary["visits"], 1):
        rows.append(
            (
                f"visit {i} (found)",
                f"{_hm(v['arrival'])}-{_hm(v['departure'])} x{v['head_count']}",
                "",
            )
        )
    for i, v in enumerate(truth["visits"], 1):
        rows.append(
            (
                f"visit {i} (true)",
                "",
                f"{_hm(v['arrival'])}-{_hm(v['departure'])} x{v['head_count']}",
            )
        )
    for room, classes in report["sound_min"].items():
        found = " ".join(f"{c}:{v['found']}" for c, v in classes.items())
        true = " ".join(f"{c}:{v['true']}" for c, v in classes.items())
        rows.append((f"{room} sound min", found, true))
    width = max(len(r[0]) for r in rows)
    print(f"\n{'':{width}}  {'hub (decrypted summary)':34}  ground truth")
    for label, found, true in rows:
        print(f"{label:{width}}  {found:34}  {true}")
    print(
        f"\nroom accuracy {report['room_accuracy']:.3f} over {report['room_minutes_scored']} "
        f"member-minutes; sleep onset error {report['sleep_onset_error_min']} min, "
        f"wake error {report['wake_error_min']} min; visits true {report['visits_true']}, "
        f"found {report['visits_found']}, matched {report['visits_matched']}, "
        f"invented {report['visits_invented']}"
    )


def _hm(iso_time: str | None) -> str:
    return "-" if not iso_time else iso_time[11:16]


def _rooms(rooms: dict[str, int]) -> str:
    return " ".join(f"{r}:{n}" for r, n in sorted(rooms.items()))


def main(options: DemoOptions) -> int:
    """Run the demo from the CLI."""
    with contextlib.suppress(KeyboardInterrupt):
        report = asyncio.run(run_demo(options))
        costs = report["hub"]
        print(
            "hub process per simulated day: "
            f"{costs['bytes_written_per_day'] / 1e6:.2f} MB written, "
            f"{costs['cpu_s_per_day']} s CPU, peak RSS {costs['peak_rss_mb']} MB, "
            f"{costs['wall_s_per_day']} s wall"
        )
        print(f"\noutputs in {options.out} (report.json, summaries/, ground-truth.json)")
        return 0 if report["room_accuracy"] > 0 else 1
    return 130
