"""The serial port a sensor is plugged into, behind a narrow Protocol for the sessions."""

from __future__ import annotations

from typing import Final, Protocol

from hub.errors import ProvisioningError

BAUD_RATE: Final = 115200
"""ESPHome's logger and MicroPython's REPL both default to this."""
READ_TIMEOUT_S: Final = 0.05
"""One read waits at most this long, so sessions can check their deadlines often."""


class SerialPort(Protocol):
    """What the protocol sessions need from a port (pyserial's ``Serial`` fits)."""

    def read(self, size: int = 1) -> bytes:
        """Up to ``size`` bytes; fewer (or none) after a short timeout."""
        ...

    def write(self, data: bytes, /) -> int | None:
        """Write all of ``data``."""
        ...

    def reset_input_buffer(self) -> None:
        """Drop whatever has been received and not read."""
        ...

    def close(self) -> None:
        """Release the port."""
        ...


def open_port(path: str, baud: int = BAUD_RATE) -> SerialPort:
    """Open ``path`` without toggling DTR/RTS, which would reset or hold an ESP32 in reset."""
    import serial  # noqa: PLC0415 - only the provisioning commands need pyserial

    port = serial.Serial()
    port.port = path
    port.baudrate = baud
    port.timeout = READ_TIMEOUT_S
    port.write_timeout = 2.0
    port.dtr = False
    port.rts = False
    try:
        port.open()
    except serial.SerialException as err:
        raise ProvisioningError(f"cannot open serial port {path}: {err}") from err
    return port  # type: ignore[no-any-return]
