"""Hostile and broken devices: garbage on the wire and in advertisements never crash the hub."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
from collections.abc import Awaitable, Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from hub.app import Hub
from hub.config import BleConfig
from hub.discovery import SERVICE_TYPE
from hub.links import LinkState
from hub.sensing.ble import BleSensing
from hub.sim.signals import RawAdvertisement
from tests.e2e.conftest import wait_for

_RUN = os.urandom(3).hex()

HubFactory = Callable[..., Awaitable[Hub]]


async def _garbage_server(payload: bytes) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(payload)
        await writer.drain()
        await asyncio.sleep(0.2)
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def _announce(
    zc: AsyncZeroconf, name: str, port: int, txt: dict[str, str]
) -> AsyncServiceInfo:
    info = AsyncServiceInfo(
        SERVICE_TYPE,
        f"{name}.{SERVICE_TYPE}",
        addresses=[socket.inet_aton("127.0.0.1")],
        port=port,
        properties=txt,
        server=f"{name}.local.",
    )
    await zc.async_register_service(info)
    return info


async def test_a_device_sending_garbage_is_an_error_not_a_crash(
    make_hub: HubFactory, device_zc: AsyncZeroconf
) -> None:
    names = [f"evil-{i}-{_RUN}" for i in (1, 2, 3)]
    hub = await make_hub(dict(zip(names, ("living", "kitchen", "hall"), strict=True)))
    assert hub.store is not None
    payloads = {
        names[0]: b"\x01\x00\x05garbage-noise-frame",  # a Noise indicator with a lying length
        names[1]: b"\x00\xff\xff\xff\xff\x0f" + os.urandom(64),  # plaintext varint overflow
        names[2]: os.urandom(256),
    }
    servers = []
    for name, payload in payloads.items():
        hub.store.save_sensor(name, "x", os.urandom(32))
        server = await _garbage_server(payload)
        servers.append(server)
        await _announce(
            device_zc, name, server.sockets[0].getsockname()[1], {"api_encryption": "Noise"}
        )
    for name in payloads:
        await wait_for(lambda n=name: n in hub.links, timeout=5)
        await wait_for(lambda n=name: hub.links[n].last_error is not None, timeout=5)
        assert name in (hub.links[name].last_error or "")
        assert hub.links[name].state is not LinkState.CONNECTED
    assert hub.state.value == "running"
    for server in servers:
        server.close()


async def test_txt_records_from_a_device_are_cleaned(
    make_hub: HubFactory, device_zc: AsyncZeroconf
) -> None:
    seen = []
    hub = await make_hub({})
    original = hub._on_announce
    hub._discovery._on_announce = lambda ann: (seen.append(ann), original(ann))  # type: ignore[union-attr]
    await _announce(
        device_zc, f"weird-{_RUN}", 6053, {"friendly_name": "a\x1b[31mred\x00" + "x" * 200}
    )
    await wait_for(lambda: bool(seen), timeout=5)
    value = seen[0].txt["friendly_name"]
    assert "\x1b" not in value and "\x00" not in value and len(value) <= 64


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.builds(
            RawAdvertisement,
            address=st.integers(min_value=-(2**63), max_value=2**64),
            address_type=st.integers(min_value=0, max_value=255),
            rssi=st.integers(min_value=-(2**31), max_value=2**31),
            data=st.binary(max_size=80),
        ),
        max_size=20,
    )
)
def test_fuzzed_advertisements_never_raise(adverts: list[RawAdvertisement]) -> None:
    ble = BleSensing(BleConfig(), [], os.urandom(32), os.urandom(32))
    ble.ingest("living", adverts, 0.0)
    minute = ble.minute(10.0)
    assert minute.visitors >= 0
    assert ble.advertisements == len(adverts)


async def test_a_device_answering_fuzzed_frames_never_crashes_the_hub(
    make_hub: HubFactory, device_zc: AsyncZeroconf
) -> None:
    """One announced device answers each reconnection with another random frame stream."""
    rng = random.Random(2026)
    payloads = [bytes([rng.choice((0, 1))]) + rng.randbytes(rng.randint(0, 300)) for _ in range(40)]
    served: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served.append(len(served))
        writer.write(payloads[len(served) % len(payloads)])
        with contextlib.suppress(ConnectionError):
            await writer.drain()
            await asyncio.wait_for(reader.read(4096), 0.2)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    name = f"fuzz-{_RUN}"
    hub = await make_hub({name: "living"})
    assert hub.store is not None
    hub.store.save_sensor(name, "living", os.urandom(32))
    await _announce(device_zc, name, server.sockets[0].getsockname()[1], {"api_encryption": "x"})
    await wait_for(lambda: len(served) >= 15, timeout=20)
    assert hub.state.value == "running"
    assert hub.ble is not None and hub.ble.advertisements == 0
    assert hub.links[name].state is not LinkState.CONNECTED
    server.close()
