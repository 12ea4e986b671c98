"""The raw REPL client against a fake MicroPython board on a pseudo-terminal."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hub.errors import ProvisioningError
from hub.provision.repl import RawRepl
from tests.provision.fakes import FakeMicroPython, GarbageDevice, SilentDevice

pytestmark = pytest.mark.timeout(30)


def test_exec_returns_output(port_of, tmp_path: Path) -> None:
    with FakeMicroPython(tmp_path) as dev:
        repl = RawRepl(port_of(dev))
        repl.enter()
        assert repl.exec("print(6 * 7)\nprint('x' * 600)").split() == ["42", "x" * 600]
    assert dev.raw


def test_exec_writes_files_on_the_device(port_of, tmp_path: Path) -> None:
    with FakeMicroPython(tmp_path) as dev:
        repl = RawRepl(port_of(dev))
        repl.enter()
        repl.exec("f = open('a.txt', 'w')\nf.write('hello')\nf.close()")
        repl.soft_reset()
    assert (tmp_path / "a.txt").read_text() == "hello"
    assert dev.soft_reboots == 1


def test_device_exception_is_reported(port_of, tmp_path: Path) -> None:
    with FakeMicroPython(tmp_path) as dev:
        repl = RawRepl(port_of(dev))
        repl.enter()
        with pytest.raises(ProvisioningError, match="ZeroDivisionError"):
            repl.exec("1 / 0")
        assert repl.exec("print('still alive')").strip() == "still alive"


@pytest.mark.parametrize("device", [GarbageDevice, SilentDevice])
def test_no_raw_repl_times_out(port_of, device: type) -> None:
    with device() as dev:
        repl = RawRepl(port_of(dev), timeout=0.5)
        start = time.monotonic()
        with pytest.raises(ProvisioningError, match="no MicroPython raw REPL answer"):
            repl.enter()
        assert time.monotonic() - start < 2
