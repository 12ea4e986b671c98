"""Hardware behind small objects: the network and the BLE radio, for an ESP32 or the unix port.

``board()`` picks the real ones on an ESP32 and the fakes on the unix port, so the rest of the
firmware is the same code in both places.
"""

import asyncio
import struct
import sys

from micropython import const

from log import INFO, WARNING, log

# Socket option numbers differ between Linux and lwIP, and MicroPython exports only a few. On
# the unix port the interface must be chosen (loopback in tests); an ESP32 has one interface,
# and its setsockopt takes only integers besides IP_ADD_MEMBERSHIP, so those are left alone.
_LINUX = {"IPPROTO_IP": 0, "IP_MULTICAST_IF": 32, "IP_MULTICAST_LOOP": 34, "SO_REUSEPORT": 15}
_LWIP = {"IPPROTO_IP": 0, "IP_MULTICAST_IF": None, "IP_MULTICAST_LOOP": None, "SO_REUSEPORT": None}
_SCAN_INTERVAL_US = const(320_000)
_SCAN_WINDOW_US = const(300_000)


def _inet(ip):
    return bytes(int(x) for x in ip.split("."))


async def _wait_readable_gen(sock):
    from asyncio import core

    yield core._io_queue.queue_read(sock)  # noqa: SLF001 - the only way to await a UDP socket


class Net:
    """The one interface this sensor serves on: its address and a multicast socket."""

    def __init__(self, ip, opts):
        self.ip = ip
        self._opts = opts

    def sockaddr(self, addr):
        import socket

        if not isinstance(addr, tuple):
            return addr
        return socket.getaddrinfo(addr[0], addr[1])[0][-1]

    def mdns_socket(self, group, port):
        import socket

        o = self._opts
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if o["SO_REUSEPORT"] is not None:
            s.setsockopt(socket.SOL_SOCKET, o["SO_REUSEPORT"], 1)
        s.bind(self.sockaddr(("0.0.0.0", port)))
        s.setsockopt(o["IPPROTO_IP"], socket.IP_ADD_MEMBERSHIP, _inet(group) + _inet(self.ip))
        if o["IP_MULTICAST_IF"] is not None:
            s.setsockopt(o["IPPROTO_IP"], o["IP_MULTICAST_IF"], _inet(self.ip))
        if o["IP_MULTICAST_LOOP"] is not None:
            s.setsockopt(o["IPPROTO_IP"], o["IP_MULTICAST_LOOP"], 1)
        s.setblocking(False)
        return s

    async def wait_readable(self, sock):
        await _wait_readable_gen(sock)


class FakeRadio:
    """A deterministic radio for the unix port: ``devices`` beacons, one advertisement each per
    ``period_ms``, RSSI wobbling; the hub sees the same bytes a real scan would give."""

    def __init__(self, devices=8, period_ms=100):
        self._devices = devices
        self._period_ms = period_ms
        self._task = None

    def _advert(self, i, tick):
        addr = bytes((0xC0 | i, 0x11, 0x22, 0x33, 0x44, i))
        # Flags, then an iBeacon-like manufacturer record (Apple company id) with a counter.
        data = bytes((2, 0x01, 0x06, 7, 0xFF, 0x4C, 0x00, 0x02, 0x15, i, tick & 0xFF))
        rssi = -45 - (i * 2) % 50 - (tick % 4)
        return addr, 1, rssi, data

    async def _run(self, on_adv):
        tick = 0
        while True:
            for i in range(self._devices):
                on_adv(*self._advert(i, tick))
            tick += 1
            await asyncio.sleep_ms(self._period_ms)

    def start(self, on_adv):
        self._task = asyncio.create_task(self._run(on_adv))

    def stop(self):
        if self._task is not None:
            self._task.cancel()
            self._task = None


class BleRadio:
    """Passive scan with aioble; reports every advertisement it is given."""

    def __init__(self):
        self._task = None

    async def _run(self, on_adv):
        import aioble

        async with aioble.scan(
            0, interval_us=_SCAN_INTERVAL_US, window_us=_SCAN_WINDOW_US, active=False
        ) as scanner:
            async for result in scanner:
                dev = result.device
                on_adv(dev.addr, dev.addr_type, result.rssi, bytes(result.adv_data or b""))

    def start(self, on_adv):
        self._task = asyncio.create_task(self._run(on_adv))

    def stop(self):
        if self._task is not None:
            self._task.cancel()
            self._task = None


class Board:
    """What ``main`` needs from the hardware."""

    def __init__(self, net, radio, mac, model):
        self.net = net
        self.radio = radio
        self.mac = mac
        self.model = model


def _mac_text(raw):
    return ":".join("%02X" % b for b in raw)


_WIFI_CHECK_MS = const(5_000)
_WIFI_BACKOFF_MIN_MS = const(2_000)
_WIFI_BACKOFF_MAX_MS = const(120_000)


class Wifi:
    """Joins the home network and rejoins with capped exponential backoff when it drops."""

    def __init__(self, ssid, passphrase):
        import network

        self._wlan = network.WLAN(network.STA_IF)
        self._ssid = ssid
        self._passphrase = passphrase
        self._task = None

    @property
    def mac(self):
        return _mac_text(self._wlan.config("mac"))

    @property
    def ip(self):
        return self._wlan.ifconfig()[0]

    async def join(self, timeout_ms=20_000):
        self._wlan.active(True)
        if not self._wlan.isconnected():
            self._wlan.connect(self._ssid, self._passphrase)
        waited = 0
        while not self._wlan.isconnected() and waited < timeout_ms:
            await asyncio.sleep_ms(100)
            waited += 100
        return self._wlan.isconnected()

    async def _keep(self):
        backoff = _WIFI_BACKOFF_MIN_MS
        while True:
            await asyncio.sleep_ms(_WIFI_CHECK_MS)
            if self._wlan.isconnected():
                backoff = _WIFI_BACKOFF_MIN_MS
                continue
            log(WARNING, "wifi: connection lost; rejoining")
            self._wlan.disconnect()
            if not await self.join():
                await asyncio.sleep_ms(backoff)
                backoff = min(backoff * 2, _WIFI_BACKOFF_MAX_MS)

    def start_keeping(self):
        self._task = asyncio.create_task(self._keep())


async def _esp32_board(cfg):
    if not cfg.wifi_ssid:
        raise OSError("no Wi-Fi in sensor.json: provision the sensor first")
    wifi = Wifi(cfg.wifi_ssid, cfg.wifi_psk)
    if not await wifi.join():
        log(WARNING, "wifi: not connected; check the ssid and passphrase")
        raise OSError("wifi not connected")
    wifi.start_keeping()
    log(INFO, "wifi: connected as %s", wifi.ip)
    return Board(Net(wifi.ip, _LWIP), BleRadio(), wifi.mac, sys.platform)


async def board(cfg):
    """The real hardware on a board, the fakes on the unix port."""
    if sys.platform == "linux":
        import os

        ip = os.getenv("HOMEHUB_SENSOR_IP") or "127.0.0.1"
        devices = int(os.getenv("HOMEHUB_FAKE_DEVICES") or "8")
        mac = _mac_text(struct.pack(">I", sum(cfg.name.encode()) & 0xFFFFFFFF)[:4] + b"\xbe\xef")
        return Board(Net(ip, _LINUX), FakeRadio(devices), mac, "unix")
    return await _esp32_board(cfg)
