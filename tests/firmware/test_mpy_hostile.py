"""Clients that are wrong or hostile get refused; the sensor keeps serving good ones."""

from __future__ import annotations

import asyncio
import base64
import os

import pytest
from aioesphomeapi import APIClient
from aioesphomeapi.core import RequiresEncryptionAPIError

from tests.firmware.conftest import RunningSensor

pytestmark = [pytest.mark.firmware, pytest.mark.timeout(60)]


async def raw_exchange(port: int, data: bytes) -> bytes:
    """Send ``data`` and read until the sensor closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(4096), 10)
    finally:
        writer.close()


async def still_serves(sensor: RunningSensor) -> None:
    api = APIClient("127.0.0.1", sensor.port, None, noise_psk=base64.b64encode(sensor.psk).decode())
    await api.connect(login=True)
    assert (await api.device_info()).name == sensor.name
    await api.disconnect()


async def test_plaintext_client_is_told_encryption_is_required(sensor: RunningSensor) -> None:
    api = APIClient("127.0.0.1", sensor.port, None)
    with pytest.raises(RequiresEncryptionAPIError):
        await api.connect(login=True)
    await still_serves(sensor)


@pytest.mark.parametrize(
    "data",
    [
        b"\x01\xff\xff" + os.urandom(64),  # a frame longer than the sensor accepts
        b"\x01\x00\x00\x01\x00\x30" + b"\x05" + os.urandom(47),  # handshake without the 0x00 marker
        b"\x01\x00\x00\x01\x00\x10" + b"\x00" + os.urandom(15),  # a handshake message too short
        os.urandom(200),
    ],
    ids=["huge-frame", "bad-marker", "short-handshake", "noise"],
)
async def test_garbage_is_refused(sensor: RunningSensor, data: bytes) -> None:
    answer = await raw_exchange(sensor.port, data)
    # Whatever it said (a server hello, a reject frame), it closed, and it is still alive.
    assert answer == b"" or answer[0] == 0x01
    await still_serves(sensor)
    assert sensor.proc.poll() is None
