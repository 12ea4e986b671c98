"""MicroPython's raw REPL over serial: enter it, run code, read stdout and the exception text.

Ctrl-C stops whatever runs; Ctrl-A enters raw mode (banner ``raw REPL; CTRL-B to exit`` then
``>``); code followed by Ctrl-D is answered ``OK``, the output, Ctrl-D, the exception text,
Ctrl-D, ``>``. Ctrl-B returns to the normal REPL, where Ctrl-D soft-resets the board.
"""

from __future__ import annotations

import time
from typing import Final

from hub.errors import ProvisioningError
from hub.provision.serialport import SerialPort

CTRL_A: Final = b"\x01"
CTRL_B: Final = b"\x02"
CTRL_C: Final = b"\x03"
CTRL_D: Final = b"\x04"
RAW_BANNER: Final = b"raw REPL; CTRL-B to exit\r\n>"
SOFT_REBOOT: Final = b"soft reboot"
CHUNK: Final = 256
"""Code is written in pieces this big: a board's UART buffer is small."""
CHUNK_PAUSE_S: Final = 0.01
MAX_OUTPUT: Final = 64 * 1024
"""A device that floods the port is cut off here rather than filling memory."""


class RawRepl:
    """One raw-REPL session; every read has a deadline."""

    def __init__(self, port: SerialPort, timeout: float = 3.0) -> None:
        self._port = port
        self._timeout = timeout
        self._seen = bytearray()

    def enter(self) -> None:
        """Interrupt the running program and switch to raw mode."""
        self._port.write(b"\r" + CTRL_C + CTRL_C)
        time.sleep(0.05)
        self._port.reset_input_buffer()
        self._port.write(b"\r" + CTRL_A)
        self._read_until(RAW_BANNER, "the raw REPL banner")

    def exec(self, code: str, timeout: float | None = None) -> str:
        """Run ``code``; returns its output or raises with the device's exception text."""
        raw = code.encode()
        for i in range(0, len(raw), CHUNK):
            self._port.write(raw[i : i + CHUNK])
            time.sleep(CHUNK_PAUSE_S)
        self._port.write(CTRL_D)
        ok = self._read_exactly(2, "OK")
        if ok != b"OK":
            raise ProvisioningError(f"the raw REPL did not accept the code (answered {ok!r})")
        out = self._read_until(CTRL_D, "the output", timeout)[:-1]
        err = self._read_until(CTRL_D, "the error output", timeout)[:-1]
        self._read_until(b">", "the prompt")
        if err:
            last = err.decode("utf-8", "replace").strip().splitlines()[-1:]
            raise ProvisioningError(f"the device raised: {last[0] if last else err!r}")
        return out.decode("utf-8", "replace")

    def soft_reset(self) -> None:
        """Leave raw mode and soft-reset, so the board starts main.py with its new files."""
        self._port.write(CTRL_B)
        time.sleep(0.05)
        self._port.write(CTRL_D)
        self._read_until(SOFT_REBOOT, "the soft reboot")

    def _read_exactly(self, n: int, what: str) -> bytes:
        deadline = time.monotonic() + self._timeout
        while len(self._seen) < n:
            self._fill(deadline, what)
        out = bytes(self._seen[:n])
        del self._seen[:n]
        return out

    def _read_until(self, marker: bytes, what: str, timeout: float | None = None) -> bytes:
        deadline = time.monotonic() + (self._timeout if timeout is None else timeout)
        while (i := self._seen.find(marker)) < 0:
            if len(self._seen) > MAX_OUTPUT:
                raise ProvisioningError(f"the device sent over {MAX_OUTPUT} bytes without {what}")
            self._fill(deadline, what)
        out = bytes(self._seen[: i + len(marker)])
        del self._seen[: i + len(marker)]
        return out

    def _fill(self, deadline: float, what: str) -> None:
        if time.monotonic() > deadline:
            tail = self._seen[-60:].decode("utf-8", "replace")
            heard = f"; it sent {tail!r}" if tail else "; it sent nothing"
            raise ProvisioningError(f"no MicroPython raw REPL answer ({what}){heard}")
        self._seen += self._port.read(256)
