"""Apply the technician's ``homehub.toml`` from the boot partition to the appliance.

Runs as root at every boot, before the network and the hub start. The root file system is a
read-only overlay whose changes vanish at reboot, so the file is *imported* once onto the
persistent data partition (the copy on the FAT boot partition, which anyone with the SD card
can read, is deleted because it holds the Wi-Fi passphrase and delivery secrets) and the
imported copy is *applied* at every boot: hostname, time zone, Wi-Fi (a NetworkManager
keyfile), regulatory domain, the optional SSH key, the hub's own configuration and its device
key. A bad file is reported, never fatal: the error goes to the journal and to ``result.json``,
which the web page and ``homehub doctor`` show, and the previous good configuration stays.
"""

from __future__ import annotations

import datetime as dt
import difflib
import grp
import json
import logging
import os
import pwd
import re
import subprocess
import tempfile
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Final, TypedDict

from hub.config import HubConfig, load_config
from hub.errors import ConfigError, HubError

_LOGGER = logging.getLogger(__name__)

SERVICE_USER: Final = "homehub"
"""The unprivileged user the hub runs as (created by the image's stage)."""
ADMIN_USER: Final = "hhadmin"
"""The image's login user (pi-gen FIRST_USER_NAME); password locked, SSH key only."""
WIFI_CONNECTION: Final = "homehub-wifi"
"""NetworkManager connection id (and keyfile name) of the home's Wi-Fi."""
IMPORTED_NOTE: Final = "homehub-imported.txt"
"""Left on the boot partition in place of the imported file, so the technician knows."""

HOSTNAME_RE: Final = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
"""One RFC 1123 label, lower case: the name is also the mDNS name <hostname>.local."""
PARTICIPANT_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""Participant ids end up in file names of sealed summaries."""
AGE_RECIPIENT_RE: Final = re.compile(r"^age1[02-9ac-hj-np-z]{58}$")
"""An age X25519 recipient: 'age1' and 58 bech32 characters."""
SSH_KEY_RE: Final = re.compile(
    r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com)"
    r" [A-Za-z0-9+/]+={0,2}( [^\n]*)?$"
)
"""One OpenSSH public key line."""
COUNTRY_RE: Final = re.compile(r"^[A-Z]{2}$")
"""ISO 3166-1 alpha-2, as the Wi-Fi regulatory domain expects."""


@dataclass(frozen=True, slots=True)
class Layout:
    """Where first boot reads and writes; tests point ``root`` at a temporary directory."""

    root: Path = Path("/")
    """The system root (``/etc`` and ``/home`` are under it)."""
    boot_dir: Path = Path("/boot/firmware")
    """The FAT boot partition as mounted on Raspberry Pi OS bookworm."""
    state_dir: Path = Path("/var/lib/homehub")
    """The persistent data partition."""

    @property
    def boot_file(self) -> Path:
        """The technician's file."""
        return self.boot_dir / "homehub.toml"

    @property
    def imported(self) -> Path:
        """The imported copy with its secrets (root only)."""
        return self.state_dir / "system" / "homehub.toml"

    @property
    def hub_config(self) -> Path:
        """The hub's configuration (``/etc/homehub/homehub.toml`` links here)."""
        return self.state_dir / "etc" / "homehub.toml"

    @property
    def hub_data(self) -> Path:
        """The hub's data directory (store, keys, outbox)."""
        return self.state_dir / "hub"

    @property
    def result(self) -> Path:
        """What the last run did, for the web page and ``doctor``."""
        return self.state_dir / "firstboot.json"

    def etc(self, *parts: str) -> Path:
        """A path under the system's ``/etc``."""
        return self.root.joinpath("etc", *parts)


class Result(TypedDict):
    """``firstboot.json``: no secrets, readable by everyone."""

    time: str
    ok: bool
    configured: bool
    imported: bool
    source: str
    applied: list[str]
    errors: list[str]


Runner = Callable[[list[str]], None]
"""Runs a system command (live system only)."""


@dataclass(slots=True)
class _Run:
    layout: Layout
    live: bool
    runner: Runner
    applied: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def command(self, argv: list[str]) -> None:
        if self.live:
            self.runner(argv)


def run_firstboot(
    layout: Layout = Layout(),
    *,
    live: bool | None = None,
    runner: Runner | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> Result:
    """Import the boot-partition file if there is one, apply the imported file, record it all."""
    run = _Run(layout, live if live is not None else layout.root == Path("/"), runner or _system)
    imported = _import(run)
    config: HubConfig | None = None
    if layout.imported.exists():
        try:
            config = validate(load_config(layout.imported))
        except ConfigError as err:
            run.errors.append(f"imported configuration: {err}")
    if config is not None:
        _apply(run, config)
    if config is None and not run.errors:
        run.errors.append(
            f"no configuration yet: put a homehub.toml on the boot partition ({layout.boot_file})"
        )
    result = Result(
        time=now().isoformat(timespec="seconds"),
        ok=not run.errors,
        configured=config is not None,
        imported=imported,
        source=str(layout.imported if config is not None else layout.boot_file),
        applied=run.applied,
        errors=run.errors,
    )
    for error in run.errors:
        _LOGGER.error("%s", error)
    _write_atomic(layout.result, json.dumps(result, indent=2).encode() + b"\n", 0o644)
    return result


def validate(config: HubConfig) -> HubConfig:
    """Check the values a TOML type check cannot; raise ``ConfigError`` naming the key."""
    problems: list[str] = []
    system, wifi, study = config.system, config.wifi, config.study
    if not HOSTNAME_RE.match(system.hostname):
        problems.append(
            f"system.hostname: {system.hostname!r} is not a host name "
            "(lower-case letters, digits and '-', at most 63)"
        )
    if system.timezone not in _timezones():
        close = difflib.get_close_matches(system.timezone, _timezones(), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(f"system.timezone: {system.timezone!r} is not a known time zone{hint}")
    if system.ssh_authorized_key and not SSH_KEY_RE.match(system.ssh_authorized_key.strip()):
        problems.append("system.ssh_authorized_key: expected one OpenSSH public key line")
    if wifi.ssid and not 8 <= len(wifi.psk) <= 63:
        problems.append("wifi.psk: a WPA passphrase has 8 to 63 characters")
    if wifi.psk and not wifi.ssid:
        problems.append("wifi.ssid: missing (a passphrase is set but no network name)")
    if not COUNTRY_RE.match(wifi.country):
        problems.append(f"wifi.country: {wifi.country!r} is not a two-letter country code")
    if not PARTICIPANT_RE.match(study.participant_id):
        problems.append(f"study.participant_id: {study.participant_id!r} is not a plain id")
    if not study.recipients:
        problems.append("study.recipients: at least one researcher age public key is needed")
    for i, recipient in enumerate(study.recipients):
        if not AGE_RECIPIENT_RE.match(recipient):
            problems.append(f"study.recipients[{i}]: not an age public key (age1... 62 chars)")
    if problems:
        raise ConfigError("; ".join(problems))
    return config


def hub_config_toml(config: HubConfig, data_dir: Path) -> str:
    """The hub's configuration as TOML, without the Wi-Fi passphrase (the hub never needs it)."""
    hub = replace(config, data_dir=str(data_dir), wifi=replace(config.wifi, psk=""))
    return _dump_table(hub, ())


# import


def _import(run: _Run) -> bool:
    layout = run.layout
    if not layout.boot_file.exists():
        return False
    try:
        config = validate(load_config(layout.boot_file))
    except ConfigError as err:
        run.errors.append(f"{layout.boot_file} was not imported: {err}")
        return False
    _write_atomic(layout.imported, layout.boot_file.read_bytes(), 0o600)
    layout.boot_file.unlink()
    note = (
        f"homehub.toml was imported on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC and removed "
        "from this partition (it held secrets).\nTo change the settings, put a new complete "
        "homehub.toml here and restart the hub.\n"
    )
    (layout.boot_dir / IMPORTED_NOTE).write_text(note)
    del config
    run.applied.append(f"imported {layout.boot_file.name} and removed it from the boot partition")
    return True


# apply


def _apply(run: _Run, config: HubConfig) -> None:
    steps: tuple[Callable[[_Run, HubConfig], None], ...] = (
        _apply_hub_config,
        _apply_hostname,
        _apply_timezone,
        _apply_wifi,
        _apply_ssh,
        _apply_device_key,
    )
    for step in steps:
        try:
            step(run, config)
        except (OSError, subprocess.SubprocessError, HubError) as err:
            run.errors.append(f"{step.__name__.removeprefix('_apply_')}: {err}")


def _apply_hub_config(run: _Run, config: HubConfig) -> None:
    layout = run.layout
    data = layout.hub_data
    data.mkdir(parents=True, exist_ok=True)
    data.chmod(0o700)
    _chown(data, SERVICE_USER, SERVICE_USER)
    text = hub_config_toml(config, data)
    _write_atomic(layout.hub_config, text.encode(), 0o640, group=SERVICE_USER)
    run.applied.append(f"hub configuration for participant {config.study.participant_id}")


def _apply_hostname(run: _Run, config: HubConfig) -> None:
    name = config.system.hostname
    _write_atomic(run.layout.etc("hostname"), f"{name}\n".encode(), 0o644)
    hosts = run.layout.etc("hosts")
    lines = hosts.read_text().splitlines() if hosts.exists() else ["127.0.0.1\tlocalhost"]
    lines = [line for line in lines if not line.startswith("127.0.1.1")]
    lines.append(f"127.0.1.1\t{name}")
    _write_atomic(hosts, ("\n".join(lines) + "\n").encode(), 0o644)
    run.command(["hostname", name])
    run.applied.append(f"hostname {name}")


def _apply_timezone(run: _Run, config: HubConfig) -> None:
    tz = config.system.timezone
    localtime = run.layout.etc("localtime")
    tmp = localtime.with_name(".localtime.new")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(f"/usr/share/zoneinfo/{tz}")
    tmp.replace(localtime)
    _write_atomic(run.layout.etc("timezone"), f"{tz}\n".encode(), 0o644)
    run.applied.append(f"time zone {tz}")


def _apply_wifi(run: _Run, config: HubConfig) -> None:
    wifi = config.wifi
    country = f"options cfg80211 ieee80211_regdom={wifi.country}\n"
    _write_atomic(run.layout.etc("modprobe.d", "homehub-wifi.conf"), country.encode(), 0o644)
    keyfile = run.layout.etc(
        "NetworkManager", "system-connections", f"{WIFI_CONNECTION}.nmconnection"
    )
    if not wifi.ssid:
        keyfile.unlink(missing_ok=True)
        run.applied.append("no Wi-Fi configured (Ethernet only)")
        return
    _write_atomic(keyfile, nm_keyfile(wifi.ssid, wifi.psk).encode(), 0o600)
    run.command(["iw", "reg", "set", wifi.country])
    run.applied.append(f"Wi-Fi network set (country {wifi.country})")


def nm_keyfile(ssid: str, psk: str) -> str:
    """A NetworkManager keyfile for a WPA-PSK network."""
    for value, name in ((ssid, "ssid"), (psk, "psk")):
        if any(c in value for c in "\n\r\x00"):
            raise ConfigError(f"wifi.{name}: contains a line break or NUL")
    # keyfile values are GLib key-file strings: escape backslashes, keep ';' literal
    return (
        "[connection]\n"
        f"id={WIFI_CONNECTION}\ntype=wifi\nautoconnect=true\n\n"
        f"[wifi]\nmode=infrastructure\nssid={_glib_escape(ssid)}\n\n"
        f"[wifi-security]\nkey-mgmt=wpa-psk\npsk={_glib_escape(psk)}\n\n"
        "[ipv4]\nmethod=auto\n\n[ipv6]\nmethod=auto\naddr-gen-mode=stable-privacy\n"
    )


def _glib_escape(value: str) -> str:
    escaped = value.replace("\\", "\\\\")
    return "\\s" + escaped[1:] if escaped.startswith(" ") else escaped


def _apply_ssh(run: _Run, config: HubConfig) -> None:
    key = config.system.ssh_authorized_key.strip()
    home = run.layout.root / "home" / ADMIN_USER
    auth = home / ".ssh" / "authorized_keys"
    if not key:
        auth.unlink(missing_ok=True)
        run.command(["systemctl", "stop", "--no-block", "ssh.service"])
        run.applied.append("SSH off (no key given)")
        return
    auth.parent.mkdir(parents=True, exist_ok=True)
    auth.parent.chmod(0o700)
    _write_atomic(auth, f"{key}\n".encode(), 0o600)
    _chown(auth.parent, ADMIN_USER, ADMIN_USER)
    _chown(auth, ADMIN_USER, ADMIN_USER)
    run.command(["systemctl", "start", "--no-block", "ssh.service"])
    run.applied.append(f"SSH on for {ADMIN_USER} with the given key")


def _apply_device_key(run: _Run, config: HubConfig) -> None:
    del config
    keys = run.layout.hub_data / "keys"
    existed = keys.exists() and any(keys.iterdir())
    hub_id = create_device_key(keys)
    for path in [keys, *keys.iterdir()]:
        _chown(path, SERVICE_USER, SERVICE_USER)
    run.applied.append(f"device key {'kept' if existed else 'generated'} (hub id {hub_id})")


def create_device_key(keys: Path) -> str:
    """Make the hub's Ed25519 device key if there is none; return the hub id."""
    from hub.keys import load_or_create_device_key  # noqa: PLC0415 - crypto loads only here

    return load_or_create_device_key(keys).hub_id


# helpers


def _timezones() -> set[str]:
    return zoneinfo.available_timezones() | {"UTC"}


def _system(argv: list[str]) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=30)


def _ids(user: str, group: str | None) -> tuple[int, int] | None:
    try:
        uid = pwd.getpwnam(user).pw_uid if user else -1
        gid = grp.getgrnam(group).gr_gid if group else -1
    except KeyError:
        return None  # not on the appliance (tests, a developer's machine)
    return uid, gid


def _chown(path: Path, user: str, group: str) -> None:
    ids = _ids(user, group)
    if ids is not None and os.geteuid() == 0:
        os.chown(path, *ids, follow_symlinks=False)


def _write_atomic(path: Path, data: bytes, mode: int, group: str | None = None) -> None:
    """Write, fsync, rename, fsync the directory: a power cut leaves the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        if group is not None:
            ids = _ids("", group)
            if ids is not None and os.geteuid() == 0:
                os.fchown(fd, -1, ids[1])
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dirfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dirfd)
    finally:
        os.close(dirfd)


def _dump_table(obj: Any, path: tuple[str, ...]) -> str:
    scalars: list[str] = []
    tables: list[str] = []
    for f in fields(obj):
        value = getattr(obj, f.name)
        if is_dataclass(value):
            tables.append(
                f"\n[{'.'.join((*path, f.name))}]\n" + _dump_table(value, (*path, f.name))
            )
        elif isinstance(value, tuple) and value and is_dataclass(value[0]):
            for item in value:
                name = ".".join((*path, f.name))
                tables.append(f"\n[[{name}]]\n" + _dump_table(item, (*path, f.name)))
        else:
            scalars.append(f"{f.name} = {_toml_value(value)}\n")
    return "".join(scalars) + "".join(tables)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # a JSON string is a valid TOML basic string (same escapes, \uXXXX included)
        return json.dumps(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ConfigError(f"cannot write {type(value).__name__} to TOML")
