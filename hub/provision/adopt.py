"""``homehub sensor provision``: find out what is on the port, give it Wi-Fi and a key, record it.

ESPHome sensors get Wi-Fi over Improv; their key is set over the network with
``noise_encryption_set_key`` once they appear on mDNS (connecting with the all-zero key that
an unkeyed ESPHome sensor accepts). MicroPython sensors get a configuration file with Wi-Fi,
name, room and a fresh key over the raw REPL. Either way the key is recorded before the
sensor is told it, so a failure in between never leaves a sensor with a key the hub lost.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from hub.errors import ProvisioningError
from hub.provision.improv import ImprovClient, State
from hub.provision.registry import SensorKeyStore, check_name, check_room
from hub.provision.repl import CTRL_C, RawRepl
from hub.provision.serialport import SerialPort, open_port
from hub.store import SensorRecord

_LOGGER = logging.getLogger(__name__)

PROBE_TIMEOUT_S: Final = 2.0
"""How long ESPHome gets to answer Improv when we find out what is on the port."""
REPL_PROBE_S: Final = 0.5
"""MicroPython prints its prompt within milliseconds of Ctrl-C."""
WIFI_TIMEOUT_S: Final = 40.0
"""ESPHome tries a network for up to ~30 s before reporting it cannot connect."""
ADOPT_TIMEOUT_S: Final = 60.0
"""How long to wait for a freshly connected ESPHome sensor to appear on mDNS."""
SERVICE: Final = "_esphomelib._tcp.local."
CONFIG_FILE: Final = "sensor.json"
ZERO_PSK: Final = bytes(32)

_WRITE_CONFIG: Final = """\
import os
f = open({tmp!r}, 'w')
f.write({text!r})
f.close()
try:
    os.remove({path!r})
except OSError:
    pass
os.rename({tmp!r}, {path!r})
print(open({path!r}).read())
"""


class SensorKind(Enum):
    """Which firmware answered on the port."""

    ESPHOME = "esphome"
    MICROPYTHON = "micropython"


@dataclass(frozen=True, slots=True)
class Wifi:
    """The home's Wi-Fi, for the sensor."""

    ssid: str
    passphrase: str


@dataclass(frozen=True, slots=True)
class Provisioned:
    """What ``provision`` did."""

    name: str
    room: str
    kind: SensorKind
    firmware: str
    keyed: bool
    """True when the key is recorded and the sensor has it; False: the hub adopts it later."""


def detect(port: SerialPort, timeout: float = PROBE_TIMEOUT_S) -> SensorKind:
    """MicroPython answers Ctrl-C with a prompt at once; ESPHome ignores it and answers Improv."""
    port.write(b"\r" + CTRL_C + CTRL_C)
    heard = bytearray()
    deadline = time.monotonic() + REPL_PROBE_S
    while time.monotonic() < deadline and len(heard) < 4096:
        heard += port.read(256)
        if b">>> " in heard or b"raw REPL" in heard:
            return SensorKind.MICROPYTHON
    try:
        ImprovClient(port, timeout).current_state()
    except ProvisioningError as err:
        raise ProvisioningError(
            f"neither ESPHome nor MicroPython answered: no REPL prompt after Ctrl-C "
            f"within {REPL_PROBE_S}s, and {err}"
        ) from err
    return SensorKind.ESPHOME


def default_name(room: str) -> str:
    """``ble-<room>-<4 hex>``: unique per kit, readable in ``homehub sensor list``."""
    slug = re.sub(r"[^a-z0-9]+", "-", room.lower()).strip("-")[:40] or "room"
    return f"ble-{slug}-{secrets.token_hex(2)}"


def provision_micropython(
    port: SerialPort,
    *,
    name: str,
    room: str,
    wifi: Wifi | None,
    psk: bytes,
    port_number: int = 6053,
) -> str:
    """Write the sensor's configuration over the raw REPL, soft-reset it; returns its platform."""
    repl = RawRepl(port)
    repl.enter()
    platform = repl.exec("import sys\nprint(sys.implementation.name, sys.platform)").strip()
    if not platform.startswith("micropython"):
        raise ProvisioningError(f"the board answered as {platform!r}, not MicroPython")
    config = {
        "name": name,
        "room": room,
        "psk": base64.b64encode(psk).decode(),
        "port": port_number,
    }
    if wifi is not None:
        config |= {"wifi_ssid": wifi.ssid, "wifi_psk": wifi.passphrase}
    text = json.dumps(config)
    code = _WRITE_CONFIG.format(tmp=CONFIG_FILE + ".tmp", path=CONFIG_FILE, text=text)
    echoed = repl.exec(code).strip()
    if echoed != text:
        raise ProvisioningError(f"{CONFIG_FILE} read back different from what was written")
    repl.soft_reset()
    return platform


def provision_esphome(port: SerialPort, wifi: Wifi | None) -> tuple[str, str]:
    """Give an ESPHome sensor Wi-Fi over Improv; returns its (node name, firmware text)."""
    client = ImprovClient(port)
    state = client.current_state()
    info = client.device_info()
    if wifi is not None:
        client.send_wifi(wifi.ssid, wifi.passphrase, WIFI_TIMEOUT_S)
    elif state is not State.PROVISIONED:
        raise ProvisioningError(f"{info.name} has no Wi-Fi yet: give --ssid and --wifi-psk")
    return info.name, f"{info.firmware} {info.version} on {info.chip}"


async def find_sensor(
    name: str, interfaces: tuple[str, ...] = (), wait_s: float = ADOPT_TIMEOUT_S
) -> tuple[str, int] | None:
    """Resolve ``name`` on mDNS: its address and API port, or None if it did not appear."""
    from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf  # noqa: PLC0415

    azc = AsyncZeroconf(interfaces=list(interfaces) if interfaces else None)  # type: ignore[arg-type]
    try:
        info = AsyncServiceInfo(SERVICE, f"{name}.{SERVICE}")
        if not await info.async_request(azc.zeroconf, int(wait_s * 1000)):
            return None
        addresses = info.parsed_addresses()
        if not addresses or info.port is None:
            return None
        return addresses[0], info.port
    finally:
        await azc.async_close()


class KeyNotSet(ProvisioningError):  # noqa: N818 - reads as a state at call sites
    """The sensor did not take the new key, so it still has its old one (or none)."""


async def set_key_over_api(name: str, host: str, port: int, psk: bytes) -> None:
    """Adopt an unkeyed sensor: connect with the zero key, set ``psk``, check it took.

    Raises ``KeyNotSet`` when the sensor certainly kept its old key, ``ProvisioningError`` when
    it may have the new one (the answer was lost), so the caller keeps the new key recorded.
    """
    from aioesphomeapi.core import APIConnectionError, InvalidEncryptionKeyAPIError  # noqa: PLC0415

    api = _client(name, host, port, ZERO_PSK)
    try:
        try:
            await api.connect(login=True)
        except InvalidEncryptionKeyAPIError as err:
            raise KeyNotSet(
                f"{name} already has a key this hub does not know: erase its flash and reflash"
            ) from err
        except APIConnectionError as err:
            raise KeyNotSet(f"{name}: cannot connect at {host}:{port}: {err}") from err
        try:
            # ESPHome base64-decodes the key it is sent (api_connection.cpp).
            accepted = await api.noise_encryption_set_key(base64.b64encode(psk))
        except APIConnectionError as err:
            raise ProvisioningError(f"{name}: lost the answer to the new key: {err}") from err
        if not accepted:
            raise KeyNotSet(f"{name} refused the new key")
    finally:
        await api.disconnect(force=True)
    if not await key_works(name, host, port, psk):
        raise ProvisioningError(f"{name} accepted a new key but does not answer to it")


async def key_works(name: str, host: str, port: int, psk: bytes) -> bool:
    """Whether the sensor completes a Noise handshake and answers with ``psk``."""
    from aioesphomeapi.core import APIConnectionError  # noqa: PLC0415

    api = _client(name, host, port, psk)
    try:
        await api.connect(login=True)
        await api.device_info()
    except APIConnectionError:
        return False
    finally:
        await api.disconnect(force=True)
    return True


def _client(name: str, host: str, port: int, psk: bytes) -> Any:
    from aioesphomeapi.client import APIClient  # noqa: PLC0415

    noise_psk = base64.b64encode(psk).decode()
    return APIClient(host, port, None, noise_psk=noise_psk, expected_name=name)


def provision(
    port_path: str,
    room: str,
    registry: SensorKeyStore,
    *,
    name: str | None = None,
    wifi: Wifi | None = None,
    interfaces: tuple[str, ...] = (),
    adopt_timeout: float = ADOPT_TIMEOUT_S,
    opener: Callable[[str], SerialPort] = open_port,
) -> Provisioned:
    """The whole procedure for the sensor on ``port_path``."""
    room = check_room(room)
    port = opener(port_path)
    try:
        kind = detect(port)
        if kind is SensorKind.MICROPYTHON:
            node = check_name(name or default_name(room))
            previous = _record(registry, node)
            psk = os.urandom(32)
            registry.save_sensor(node, room, psk)
            try:
                platform = provision_micropython(port, name=node, room=room, wifi=wifi, psk=psk)
            except ProvisioningError:
                _restore(registry, node, previous)
                raise
            return Provisioned(node, room, kind, platform, keyed=True)
        node, firmware = provision_esphome(port, wifi)
    finally:
        port.close()
    check_name(node)
    return asyncio.run(
        _adopt_esphome(
            Provisioned(node, room, SensorKind.ESPHOME, firmware, keyed=False),
            registry,
            interfaces,
            adopt_timeout,
        )
    )


async def _adopt_esphome(
    sensor: Provisioned, registry: SensorKeyStore, interfaces: tuple[str, ...], wait_s: float
) -> Provisioned:
    node, room = sensor.name, sensor.room
    found = await find_sensor(node, interfaces, wait_s)
    if found is None:
        # The running hub adopts it when it appears (links set a key on unkeyed sensors).
        await asyncio.to_thread(registry.save_sensor, node, room, None)
        _LOGGER.warning("%s: not on mDNS yet; the hub will set its key when it appears", node)
        return sensor
    host, port = found
    previous = await asyncio.to_thread(_record, registry, node)
    if previous is not None and previous.psk and await key_works(node, host, port, previous.psk):
        # Re-provisioned (new Wi-Fi or room): the sensor keeps the key the hub already has.
        await asyncio.to_thread(registry.save_sensor, node, room, previous.psk)
        return dataclasses.replace(sensor, keyed=True)
    psk = os.urandom(32)
    await asyncio.to_thread(registry.save_sensor, node, room, psk)
    try:
        await set_key_over_api(node, host, port, psk)
    except KeyNotSet:
        await asyncio.to_thread(_restore, registry, node, previous)
        raise
    return dataclasses.replace(sensor, keyed=True)


def _record(registry: SensorKeyStore, name: str) -> SensorRecord | None:
    return next((r for r in registry.list_sensors() if r.name == name), None)


def _restore(registry: SensorKeyStore, name: str, previous: SensorRecord | None) -> None:
    """Undo a key record the sensor never received."""
    if previous is None:
        registry.forget(name)
    else:
        registry.save_sensor(previous.name, previous.room, previous.psk)
