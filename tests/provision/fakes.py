"""Fake devices on a pseudo-terminal, implementing the device side of Improv serial and the
MicroPython raw REPL byte for byte, independently of the hub's codecs."""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import select
import threading
import time
import traceback
import tty
import types
from pathlib import Path


class PtyDevice:
    """A device thread on the master side of a pty; the hub opens ``self.path``."""

    tick_s = 0.05

    def __init__(self) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self.received = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)

    def __enter__(self) -> PtyDevice:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        os.close(self.master)
        os.close(self._slave)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self.master, view)
            view = view[n:]

    def _run(self) -> None:
        last_tick = 0.0
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.01)
            if ready:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b""
                if data:
                    self.received += data
                    self.on_bytes(data)
            if time.monotonic() - last_tick > self.tick_s:
                last_tick = time.monotonic()
                self.tick()

    def on_bytes(self, data: bytes) -> None:
        """Handle bytes from the hub."""

    def tick(self) -> None:
        """Periodic work (log lines, garbage)."""


# --- Improv serial (as ESPHome's improv_serial component speaks it) ---------------------------


def improv_packet(ptype: int, data: bytes) -> bytes:
    body = b"IMPROV" + bytes([1, ptype, len(data)]) + data
    return body + bytes([sum(body) % 256])


def improv_strings(*values: str) -> bytes:
    return b"".join(bytes([len(v.encode())]) + v.encode() for v in values)


class FakeEsphome(PtyDevice):
    """An ESPHome sensor: log lines all the time, Improv packets written between them."""

    def __init__(
        self,
        name: str = "homehub-room-a1b2c3",
        ssid: str = "home-net",
        passphrase: str = "correct horse",
        provisioned: bool = False,
        send_urls: bool = True,
    ) -> None:
        super().__init__()
        self.name = name
        self._ssid = ssid
        self._passphrase = passphrase
        self.state = 0x04 if provisioned else 0x02
        self._send_urls = send_urls
        self.wifi_attempts: list[tuple[str, str]] = []
        self._inbuf = bytearray()
        self._outbox: list[tuple[float, bytes]] = []
        self._n = 0

    def tick(self) -> None:
        self._n += 1
        line = f"[12:00:{self._n % 60:02d}][D][esp32_ble_tracker:{self._n}]: Found 3 devices\r\n"
        # Write the log line in two pieces, as a busy UART does, then any due Improv packets.
        raw = line.encode()
        self.write(raw[:10])
        self.write(raw[10:])
        now = time.monotonic()
        due = [p for t, p in self._outbox if t <= now]
        self._outbox = [(t, p) for t, p in self._outbox if t > now]
        for packet in due:
            self.write(packet + b"\n")

    def _send(self, ptype: int, data: bytes, delay: float = 0.0) -> None:
        self._outbox.append((time.monotonic() + delay, improv_packet(ptype, data)))

    def on_bytes(self, data: bytes) -> None:
        self._inbuf += data
        while True:
            start = self._inbuf.find(b"IMPROV")
            if start < 0 or len(self._inbuf) < start + 9:
                return
            size = self._inbuf[start + 8]
            end = start + 9 + size + 1
            if len(self._inbuf) < end:
                return
            packet = bytes(self._inbuf[start:end])
            del self._inbuf[:end]
            if sum(packet[:-1]) % 256 != packet[-1]:
                self._send(0x02, b"\x01")  # invalid RPC packet
                continue
            if packet[7] == 0x03:
                self._rpc(packet[9:-1])

    def _rpc(self, data: bytes) -> None:
        command, size = data[0], data[1]
        payload = data[2 : 2 + size]
        if command == 0x02:
            self._send(0x01, bytes([self.state]))
            if self.state == 0x04:
                # As ESPHome: a provisioned device follows its state with its URLs.
                url = improv_strings("http://192.168.1.23")
                self._send(0x04, bytes([0x02, len(url)]) + url)
        elif command == 0x03:
            info = improv_strings("ESPHome", "2026.6.5", "ESP32-S3", self.name)
            self._send(0x04, bytes([0x03, len(info)]) + info)
        elif command == 0x01:
            n = payload[0]
            ssid = payload[1 : 1 + n].decode()
            m = payload[1 + n]
            passphrase = payload[2 + n : 2 + n + m].decode()
            self.wifi_attempts.append((ssid, passphrase))
            self.state = 0x03
            self._send(0x01, b"\x03")
            if (ssid, passphrase) == (self._ssid, self._passphrase):
                self.state = 0x04
                url = improv_strings("http://192.168.1.23")
                self._send(0x01, b"\x04", delay=0.2)
                if self._send_urls:
                    self._send(0x04, bytes([0x01, len(url)]) + url, delay=0.2)
            else:
                self.state = 0x02
                self._send(0x02, b"\x03", delay=0.2)  # unable to connect
        else:
            self._send(0x02, b"\x02")  # unknown RPC


# --- MicroPython raw REPL ------------------------------------------------------------------------

BANNER = b"MicroPython v1.24.1 on 2024-11-29; Generic ESP32 module with ESP32\r\n"


class FakeMicroPython(PtyDevice):
    """A MicroPython board: friendly and raw REPL, code run against a private directory."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.raw = False
        self.soft_reboots = 0
        self._code = bytearray()

    def on_bytes(self, data: bytes) -> None:
        for b in data:
            self._byte(b)

    def _byte(self, b: int) -> None:  # noqa: PLR0912
        if not self.raw:
            if b == 0x01:
                self.raw = True
                self._code.clear()
                self.write(b"raw REPL; CTRL-B to exit\r\n>")
            elif b == 0x03:
                self.write(b"\r\n>>> ")
            elif b == 0x04:
                self.soft_reboots += 1
                self.write(b"MPY: soft reboot\r\n" + BANNER + b">>> ")
            return
        if b == 0x01:
            self._code.clear()
            self.write(b"raw REPL; CTRL-B to exit\r\n>")
        elif b == 0x02:
            self.raw = False
            self.write(b"\r\n" + BANNER + b'Type "help()" for more information.\r\n>>> ')
        elif b == 0x03:
            self._code.clear()
        elif b == 0x04:
            code, self._code = bytes(self._code), bytearray()
            if not code:
                self.soft_reboots += 1
                self.write(b"soft reboot\r\nraw REPL; CTRL-B to exit\r\n>")
                return
            self.write(b"OK")
            out, err = self._exec(code.decode())
            self.write(out.encode().replace(b"\n", b"\r\n") + b"\x04")
            self.write(err.encode() + b"\x04>")
        else:
            self._code.append(b)

    def _exec(self, code: str) -> tuple[str, str]:
        root = self.root

        def dev_open(name: str, mode: str = "r") -> io.IOBase:
            return open(root / name, mode)  # noqa: SIM115

        def dev_remove(name: str) -> None:
            os.remove(root / name)

        def dev_rename(a: str, b: str) -> None:
            os.rename(root / a, root / b)

        fake_os = types.SimpleNamespace(remove=dev_remove, rename=dev_rename)
        fake_sys = types.SimpleNamespace(
            implementation=types.SimpleNamespace(name="micropython"), platform="esp32"
        )
        modules = {"os": fake_os, "sys": fake_sys}

        def dev_import(name: str, *args: object, **kwargs: object) -> object:
            return modules[name] if name in modules else builtins.__import__(name, *args, **kwargs)

        out = io.StringIO()
        env = {"__builtins__": {**vars(builtins), "open": dev_open, "__import__": dev_import}}
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(code, "<stdin>", "exec"), env)
        except Exception as err:
            tb = traceback.format_exception_only(err)[-1]
            return out.getvalue(), f"Traceback (most recent call last):\r\n{tb}"
        return out.getvalue(), ""


class GarbageDevice(PtyDevice):
    """Sends noise forever (wrong baud rate, a different device)."""

    tick_s = 0.01

    def tick(self) -> None:
        self.write(os.urandom(64).replace(b"IMPROV", b"xxxxxx").replace(b">>>", b"xxx"))


class SilentDevice(PtyDevice):
    """Reads everything and answers nothing (a board stuck in its bootloader)."""
