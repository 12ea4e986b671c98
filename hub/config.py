"""Configuration: a tree of frozen dataclasses with defaults, loaded from TOML.

Only the CLI reads files; everything below receives a ``HubConfig``. The same loader validates
the technician's ``homehub.toml`` on the boot partition (sections ``system`` and ``wifi``), so a
typo is reported with the file, the key and what was expected.
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hub.errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SystemConfig:
    """Settings the first-boot service applies to the operating system."""

    hostname: str = "homehub"
    """Network name; the web page is at http://<hostname>.local."""
    timezone: str = "UTC"
    """IANA time zone of the home; days close at local midnight."""
    ssh_authorized_key: str = ""
    """An SSH public key; SSH stays off unless this is set."""


@dataclass(frozen=True, slots=True)
class WifiConfig:
    """The home's Wi-Fi network (leave empty for Ethernet)."""

    ssid: str = ""
    """Network name."""
    psk: str = ""
    """Passphrase; moved off the boot partition at first boot."""
    country: str = "GB"
    """Two-letter regulatory domain."""


@dataclass(frozen=True, slots=True)
class StudyConfig:
    """Who the summaries are for."""

    participant_id: str = "demo-participant"
    """Pseudonymous id of this home in the study; goes into every summary."""
    recipients: tuple[str, ...] = ()
    """Researcher age public keys (``age1...``); summaries are sealed to all of them."""
    consent_version: str = "1"
    """Version of the consent text the household must accept on the hub's page."""
    consent_on_hub: bool = True
    """Record nothing until the household accepts the consent text on the hub's web page (off
    when consent is taken another way and recorded by the study, e.g. the virtual home)."""


@dataclass(frozen=True, slots=True)
class SensorConfig:
    """A sensor the household has named."""

    name: str
    """The sensor's ESPHome node name, as announced on mDNS."""
    room: str
    """Room the sensor is in."""


@dataclass(frozen=True, slots=True)
class MemberConfig:
    """A registered household member and what they carry."""

    name: str
    """Stable label used in summaries, e.g. ``member-1``."""
    tags: tuple[str, ...] = ()
    """Keyed hashes of the member's fixed-address BLE tags (``homehub member tag`` makes them)."""
    irks: tuple[str, ...] = ()
    """Hex identity resolving keys of the member's phones (resolve rotating addresses)."""
    bedroom: str = "bedroom"
    """Room the member sleeps in (sleep is a quiet stay there)."""


@dataclass(frozen=True, slots=True)
class BleConfig:
    """Tuning of BLE presence sensing."""

    smoothing_s: float = 30.0
    """Time constant of the per-device per-room RSSI smoothing."""
    hysteresis_db: float = 4.0
    """A new room must beat the current one by this much before a device moves."""
    min_rssi: int = -92
    """Weaker advertisements are ignored (neighbours, street)."""
    stale_s: float = 120.0
    """A device not heard for this long is considered gone."""


@dataclass(frozen=True, slots=True)
class AudioConfig:
    """The audio path."""

    enabled: bool = True
    """Classify sound from sensors that stream it."""
    paused_rooms: tuple[str, ...] = ()
    """Rooms where sensing starts paused."""


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    """Where sealed summaries go."""

    s3_endpoint: str = ""
    """S3-compatible endpoint URL; empty disables push."""
    s3_bucket: str = ""
    """Bucket the cohort pushes to."""
    s3_access_key: str = ""
    """Access key id."""
    s3_secret_key: str = ""
    """Secret access key; moved off the boot partition at first boot."""
    lan_pull_token: str = ""
    """Token researchers present to pull from the LAN API; empty disables it."""


@dataclass(frozen=True, slots=True)
class WebConfig:
    """The family's local web page."""

    host: str = "0.0.0.0"  # noqa: S104 - the page is for phones on the home LAN
    """Address to listen on."""
    port: int = 8080
    """Port to listen on."""


@dataclass(frozen=True, slots=True)
class HubConfig:
    """Everything the hub needs to run."""

    data_dir: str = "/var/lib/homehub"
    """Where the SQLite store, keys and outbox live."""
    day_close_grace_min: int = 30
    """Minutes after local midnight before a day is sealed."""
    allow_plaintext_sensors: bool = False
    """Accept sensors without API encryption (weakens security; logs a warning)."""
    discovery_interfaces: tuple[str, ...] = ()
    """Addresses to browse mDNS on; empty means all."""
    system: SystemConfig = field(default_factory=SystemConfig)
    wifi: WifiConfig = field(default_factory=WifiConfig)
    study: StudyConfig = field(default_factory=StudyConfig)
    sensors: tuple[SensorConfig, ...] = ()
    members: tuple[MemberConfig, ...] = ()
    ble: BleConfig = field(default_factory=BleConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    web: WebConfig = field(default_factory=WebConfig)

    def room_of(self, sensor_name: str) -> str | None:
        """Room a named sensor is in, if the household named it."""
        for sensor in self.sensors:
            if sensor.name == sensor_name:
                return sensor.room
        return None


def load_config(path: Path) -> HubConfig:
    """Read and validate a TOML configuration file."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"{path}: cannot read configuration: {err.strerror}") from err
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from err
    return config_from_dict(data, source=str(path))


def config_from_dict(data: dict[str, Any], source: str = "<config>") -> HubConfig:
    """Build a ``HubConfig`` from parsed TOML, naming the key and the expectation on error."""
    return _build(HubConfig, data, f"{source}:")


def _at(where: str, key: str) -> str:
    """``file:`` + ``system`` -> ``file:system``; ``file:system`` + ``x`` -> ``file:system.x``."""
    return f"{where}{key}" if where.endswith(":") else f"{where}.{key}"


def _table(where: str) -> str:
    """How a table is named in a message: ``file`` at the top, else ``file:section``."""
    return where.removesuffix(":")


def _build(cls: type[T], data: Any, where: str) -> T:
    if not isinstance(data, dict):
        raise ConfigError(f"{_table(where)}: expected a table, got {type(data).__name__}")
    assert dataclasses.is_dataclass(cls)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{_table(where)}: unknown key {key!r}{hint}")
    kwargs: dict[str, Any] = {}
    for name, fld in fields.items():
        if name in data:
            kwargs[name] = _convert(hints[name], data[name], _at(where, name))
        elif fld.default is dataclasses.MISSING and fld.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{_table(where)}: missing required key {name!r}")
    return cls(**kwargs)


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _build(typing.cast(type[Any], tp), value, where)
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {type(value).__name__}")
        (item_tp, _ellipsis) = typing.get_args(tp)
        return tuple(_convert(item_tp, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = next(a for a in typing.get_args(tp) if a is not type(None))
        return _convert(inner, value, where)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (str, int, float, bool):
        if type(value) is not tp:
            raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r}")
        return value
    raise ConfigError(f"{where}: unsupported type {tp}")
