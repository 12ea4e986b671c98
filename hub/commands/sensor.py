"""``homehub sensor``: provision a sensor over USB, list the adopted ones, forget one."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = Path("/etc/homehub/homehub.toml")


def register(sub: Any) -> None:
    """Add the ``sensor`` command group."""
    parser = sub.add_parser("sensor", help="provision, list and forget sensors")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="homehub.toml")
    parser.add_argument("--data-dir", type=Path, help="hub data directory (overrides the config)")
    group = parser.add_subparsers(dest="sensor_command", required=True, metavar="ACTION")

    prov = group.add_parser("provision", help="give the sensor on a USB port Wi-Fi and a key")
    prov.add_argument("port", help="serial port, e.g. /dev/ttyACM0")
    prov.add_argument("--room", required=True, help="room the sensor goes in")
    prov.add_argument("--name", help="node name for a MicroPython sensor (default ble-<room>-xxxx)")
    prov.add_argument("--ssid", help="Wi-Fi network (default: the config's [wifi] ssid)")
    prov.add_argument(
        "--wifi-psk-env",
        default="HOMEHUB_WIFI_PSK",
        help="environment variable holding the Wi-Fi passphrase (default HOMEHUB_WIFI_PSK)",
    )
    prov.add_argument("--adopt-timeout", type=float, default=60.0, help="seconds to wait on mDNS")
    prov.set_defaults(func=provision)

    lst = group.add_parser("list", help="adopted sensors, their rooms and whether they are keyed")
    lst.set_defaults(func=list_sensors)

    forget = group.add_parser("forget", help="remove a sensor and its key from the hub")
    forget.add_argument("name")
    forget.set_defaults(func=forget_sensor)


def _settings(args: argparse.Namespace) -> Any:
    from hub.config import HubConfig, load_config  # noqa: PLC0415

    if args.data_dir is not None and not args.config.exists():
        return HubConfig(data_dir=str(args.data_dir))
    config = load_config(args.config)
    if args.data_dir is not None:
        import dataclasses  # noqa: PLC0415

        config = dataclasses.replace(config, data_dir=str(args.data_dir))
    return config


def _registry(config: Any) -> Any:
    from hub.provision.registry import SqliteSensorRegistry  # noqa: PLC0415

    return SqliteSensorRegistry(Path(config.data_dir))


def provision(args: argparse.Namespace) -> int:
    """Provision the sensor on ``args.port``."""
    from hub.provision.adopt import Wifi  # noqa: PLC0415
    from hub.provision.adopt import provision as run  # noqa: PLC0415

    config = _settings(args)
    ssid = args.ssid or config.wifi.ssid
    passphrase = os.environ.get(args.wifi_psk_env, config.wifi.psk)
    wifi = Wifi(ssid, passphrase) if ssid else None
    registry = _registry(config)
    try:
        done = run(
            args.port,
            args.room,
            registry,
            name=args.name,
            wifi=wifi,
            interfaces=config.discovery_interfaces,
            adopt_timeout=args.adopt_timeout,
        )
    finally:
        registry.close()
    state = "keyed" if done.keyed else "waiting for the hub to set its key"
    print(f"{done.name}: {done.kind.value} sensor in {done.room} ({done.firmware}); {state}")
    return 0


def list_sensors(args: argparse.Namespace) -> int:
    """Print adopted sensors (never their keys)."""
    registry = _registry(_settings(args))
    try:
        records = registry.list_sensors()
    finally:
        registry.close()
    if not records:
        print("no sensors adopted yet")
        return 0
    print(f"{'NAME':<28} {'ROOM':<16} {'KEY':<8} ADOPTED")
    for r in records:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.adopted_at))
        print(f"{r.name:<28} {r.room:<16} {'yes' if r.psk else 'pending':<8} {when}")
    return 0


def forget_sensor(args: argparse.Namespace) -> int:
    """Remove one sensor and its key."""
    from hub.errors import ProvisioningError  # noqa: PLC0415

    registry = _registry(_settings(args))
    try:
        known = registry.forget(args.name)
    finally:
        registry.close()
    if not known:
        raise ProvisioningError(f"no sensor named {args.name!r} (see homehub sensor list)")
    print(f"{args.name}: forgotten; its key is deleted (re-provision it to use it again)")
    return 0
