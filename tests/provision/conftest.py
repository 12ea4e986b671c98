"""Serial ports for the provisioning tests: pyserial on the slave side of each fake's pty."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.provision.serialport import SerialPort, open_port
from tests.provision.fakes import PtyDevice


@pytest.fixture
def port_of() -> Iterator[object]:
    opened: list[SerialPort] = []

    def _open(device: PtyDevice) -> SerialPort:
        port = open_port(device.path)
        opened.append(port)
        return port

    yield _open
    for port in opened:
        port.close()
