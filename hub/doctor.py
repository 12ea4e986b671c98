"""``homehub doctor``: is this kit healthy? Each check says in plain words what to fix.

Checks read files and ask the running hub's local status page; they never open the hub's
store (the doctor runs as root, and root-owned SQLite side files would lock the hub out).
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Final

from hub.config import HubConfig, load_config
from hub.errors import ConfigError

DISK_WARN_FREE: Final = 0.10
"""Below 10 % free the SD card wears faster and the outbox may fill within weeks."""
DISK_FAIL_BYTES: Final = 64 * 1024 * 1024
"""Below 64 MB a day's minutes and a few sealed summaries (~1 MB/day) may not fit."""
OUTBOX_WARN_FILES: Final = 7
"""A week of undelivered summaries means delivery is broken, not just slow."""
STATUS_TIMEOUT_S: Final = 3.0
"""The local status page answers in milliseconds; seconds means the hub is stuck."""
CONNECTED: Final = frozenset({"connected", "up"})
"""Link states (``hub.links.LinkState`` values) that mean the sensor is streaming to the hub."""
FIRSTBOOT_RESULT: Final = Path("/var/lib/homehub/firstboot.json")
"""Where ``homehub firstboot`` records what it did."""


class Level(Enum):
    """How bad a finding is."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Check:
    """One finding."""

    name: str
    level: Level
    message: str
    advice: str = ""

    def as_dict(self) -> dict[str, str]:
        """JSON-friendly form for the web page."""
        return {
            "name": self.name,
            "level": self.level.value,
            "message": self.message,
            "advice": self.advice,
        }


StatusFetch = Callable[[], dict[str, Any] | None]
"""Returns the running hub's status snapshot, or None if it does not answer."""


def run_checks(
    config_path: Path,
    *,
    firstboot_result: Path = FIRSTBOOT_RESULT,
    clock_synchronised: Callable[[], bool] | None = None,
    fetch_status: StatusFetch | None = None,
) -> list[Check]:
    """Every check, in the order a technician should fix things."""
    checks = [check_firstboot(firstboot_result)]
    try:
        config: HubConfig | None = load_config(config_path)
    except ConfigError as err:
        config = None
        checks.append(
            Check("config", Level.FAIL, str(err), "fix homehub.toml on the boot partition")
        )
    if config is not None:
        checks.append(check_config(config))
    checks.append(check_clock(clock_synchronised))
    if config is not None:
        status = (fetch_status or _status_fetcher(config))()
        data_dir = Path(config.data_dir)
        checks += [
            check_hub(status),
            check_sensors(config, status),
            check_disk(data_dir),
            check_keys(data_dir),
            check_delivery(config, data_dir),
        ]
    return checks


def check_firstboot(result: Path) -> Check:
    """Did first boot apply the technician's file?"""
    try:
        data = json.loads(result.read_text())
    except FileNotFoundError:
        return Check("first boot", Level.WARN, "first boot has not run", "reboot the hub once")
    except (OSError, ValueError) as err:
        return Check("first boot", Level.FAIL, f"{result}: unreadable ({err})", "reboot the hub")
    errors = [str(e) for e in data.get("errors", [])]
    if errors:
        return Check(
            "first boot",
            Level.FAIL,
            "; ".join(errors),
            "correct homehub.toml on the boot partition (the message names the key) and reboot",
        )
    return Check("first boot", Level.OK, f"configuration applied at {data.get('time', '?')}")


def check_config(config: HubConfig) -> Check:
    """Is the study set up?"""
    if not config.study.recipients:
        return Check(
            "config",
            Level.FAIL,
            "no researcher public key: summaries cannot be sealed",
            "add the researchers' age keys to study.recipients in homehub.toml",
        )
    return Check(
        "config",
        Level.OK,
        f"participant {config.study.participant_id}, {len(config.study.recipients)} recipient(s)",
    )


def check_clock(clock_synchronised: Callable[[], bool] | None = None) -> Check:
    """Has the clock been set from the network?"""
    if clock_synchronised is None:
        from hub.timesync import is_clock_synchronised  # noqa: PLC0415

        clock_synchronised = is_clock_synchronised
    if clock_synchronised():
        return Check("clock", Level.OK, "synchronised to network time")
    return Check(
        "clock",
        Level.WARN,
        "not synchronised: the hub will not seal a day until it is",
        "connect the hub to the internet (network time); the Pi has no clock battery",
    )


def check_hub(status: dict[str, Any] | None) -> Check:
    """Is the hub service answering?"""
    if status is None:
        return Check(
            "hub",
            Level.FAIL,
            "the hub is not answering on its web page",
            "run 'systemctl status homehub' and 'journalctl -u homehub' to see why",
        )
    return Check("hub", Level.OK, f"running ({status.get('state', 'unknown state')})")


def check_sensors(config: HubConfig, status: dict[str, Any] | None) -> Check:
    """Are the sensors connected?"""
    sensors = status.get("sensors", {}) if status else {}
    if not isinstance(sensors, dict):
        sensors = {}
    up = sorted(
        n for n, s in sensors.items() if isinstance(s, dict) and s.get("state") in CONNECTED
    )
    down = sorted(set(sensors) - set(up))
    named = {s.name for s in config.sensors}
    missing = sorted(named - set(sensors))
    if not sensors and not named:
        return Check(
            "sensors",
            Level.WARN,
            "no sensors found",
            "power the room sensors and check they are on the same network as the hub",
        )
    if down or missing:
        return Check(
            "sensors",
            Level.WARN,
            f"{len(up)} connected; not connected: {', '.join(down + missing)}",
            "check those sensors have power and Wi-Fi (move them closer to the router)",
        )
    return Check("sensors", Level.OK, f"{len(up)} connected: {', '.join(up)}")


def check_disk(data_dir: Path) -> Check:
    """Is there room on the data partition?"""
    probe = data_dir if data_dir.exists() else data_dir.parent
    try:
        usage = shutil.disk_usage(probe)
    except OSError as err:
        return Check("disk", Level.FAIL, f"{data_dir}: {err.strerror}", "check the SD card")
    free_mb = usage.free // (1024 * 1024)
    if usage.free < DISK_FAIL_BYTES:
        return Check(
            "disk", Level.FAIL, f"only {free_mb} MB free", "use a bigger SD card or export data"
        )
    if usage.free < DISK_WARN_FREE * usage.total:
        return Check("disk", Level.WARN, f"{free_mb} MB free (under 10 %)", "export old data")
    return Check("disk", Level.OK, f"{free_mb} MB free")


def check_keys(data_dir: Path) -> Check:
    """Does the hub have its device key?"""
    keys = data_dir / "keys"
    try:
        present = keys.is_dir() and any(keys.iterdir())
    except PermissionError:
        return Check("keys", Level.WARN, f"cannot read {keys}", "run doctor with sudo")
    if not present:
        return Check(
            "keys",
            Level.FAIL,
            "the hub has no device key: summaries cannot be signed",
            "reboot so first boot creates it, or run 'sudo homehub firstboot'",
        )
    return Check("keys", Level.OK, "device key present")


def check_delivery(config: HubConfig, data_dir: Path) -> Check:
    """Is there a way for summaries to leave, and are they leaving?"""
    delivery = config.delivery
    ways = [
        w
        for w, on in (("S3 push", delivery.s3_endpoint), ("LAN pull", delivery.lan_pull_token))
        if on
    ]
    outbox = data_dir / "outbox"
    try:
        waiting = len([p for p in outbox.iterdir() if p.suffix == ".age"]) if outbox.is_dir() else 0
    except PermissionError:
        waiting = 0
    if not ways:
        return Check(
            "delivery",
            Level.WARN,
            f"no delivery configured; {waiting} summaries wait for USB export",
            "set delivery.s3_endpoint or delivery.lan_pull_token in homehub.toml",
        )
    if waiting >= OUTBOX_WARN_FILES:
        return Check(
            "delivery",
            Level.WARN,
            f"{waiting} summaries waiting in the outbox ({', '.join(ways)})",
            "check the internet connection and the delivery settings",
        )
    return Check("delivery", Level.OK, f"{', '.join(ways)}; {waiting} waiting")


def format_report(checks: list[Check]) -> str:
    """Plain text for a technician's terminal."""
    lines = []
    for check in checks:
        lines.append(f"[{check.level.value.upper():4}] {check.name}: {check.message}")
        if check.advice and check.level is not Level.OK:
            lines.append(f"       -> {check.advice}")
    return "\n".join(lines)


def _status_fetcher(config: HubConfig) -> StatusFetch:
    host = "127.0.0.1" if config.web.host in ("0.0.0.0", "", "::") else config.web.host  # noqa: S104
    url = f"http://{host}:{config.web.port}/status.json"

    def fetch() -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(url, timeout=STATUS_TIMEOUT_S) as resp:
                data = json.loads(resp.read())
        except (OSError, ValueError, urllib.error.URLError):
            return None
        return data if isinstance(data, dict) else None

    return fetch


class DoctorStatus:
    """A ``StatusProvider`` for the stand-in page served while the hub itself cannot run."""

    def __init__(self, config_path: Path, firstboot_result: Path = FIRSTBOOT_RESULT) -> None:
        self._config_path = config_path
        self._firstboot_result = firstboot_result

    def snapshot(self) -> dict[str, object]:
        """First-boot result, its errors and the checks (the hub is down by definition)."""
        checks = run_checks(
            self._config_path,
            firstboot_result=self._firstboot_result,
            fetch_status=lambda: None,
        )
        return {
            "state": "the hub is not running",
            "firstboot": read_firstboot(self._firstboot_result),
            "errors": [f"{c.name}: {c.message}" for c in checks if c.level is Level.FAIL],
            "doctor": [c.as_dict() for c in checks],
        }


def read_firstboot(result: Path = FIRSTBOOT_RESULT) -> dict[str, Any] | None:
    """The first-boot record (no secrets in it), or None if there is none yet."""
    try:
        data = json.loads(result.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class WithFirstBoot:
    """Wraps the hub's ``StatusProvider``: adds the first-boot record and its errors to the page.

    A bad ``homehub.toml`` dropped on a configured hub leaves the hub running on its previous
    settings; this is how the family's page still shows what was wrong with the new file.
    """

    def __init__(self, inner: Any, firstboot_result: Path = FIRSTBOOT_RESULT) -> None:
        self._inner = inner
        self._result = firstboot_result

    def snapshot(self) -> dict[str, object]:
        """The inner snapshot plus ``firstboot`` and its ``errors``."""
        snap = dict(self._inner.snapshot())
        record = read_firstboot(self._result)
        if record is not None:
            snap["firstboot"] = record
            errors = [f"first boot: {e}" for e in record.get("errors", [])]
            if errors:
                previous = snap.get("errors")
                snap["errors"] = [*(previous if isinstance(previous, list) else []), *errors]
        return snap
