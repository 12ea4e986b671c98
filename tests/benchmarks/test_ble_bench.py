"""Advertisements per second through BLE sensing on one core (prints figures, asserts no timing)."""

from __future__ import annotations

import os
import random
import time

import pytest

from hub.config import BleConfig, MemberConfig
from hub.sensing.ble import BleSensing, tag_hash
from hub.sim.signals import RawAdvertisement
from tests.unit.factories import APPLE_PHONE_AD, IBEACON_TAG_AD

pytestmark = pytest.mark.benchmark

ROOMS = ("bedroom", "living", "kitchen", "bathroom", "hall", "study", "nursery", "landing")


def _batches(
    n_devices: int, n_batches: int, batch: int
) -> list[tuple[str, list[RawAdvertisement]]]:
    rng = random.Random(1)
    devices = [
        RawAdvertisement(
            address=0x5A0000000000 + i if i % 3 else 0xC00000000000 + i,
            address_type=1,
            rssi=0,
            data=APPLE_PHONE_AD if i % 3 else IBEACON_TAG_AD,
        )
        for i in range(n_devices)
    ]
    out = []
    for _ in range(n_batches):
        adverts = [
            RawAdvertisement(d.address, d.address_type, rng.randint(-95, -45), d.data)
            for d in rng.choices(devices, k=batch)
        ]
        out.append((rng.choice(ROOMS), adverts))
    return out


def test_advertisements_per_second() -> None:
    key = os.urandom(32)
    members = [MemberConfig("member-1", tags=(tag_hash(key, 0xC00000000003),))]
    ble = BleSensing(BleConfig(), members, key, os.urandom(32))
    batches = _batches(n_devices=200, n_batches=20_000, batch=16)
    total = sum(len(b) for _, b in batches)
    t = 0.0
    start = time.perf_counter()
    for room, adverts in batches:
        ble.ingest(room, adverts, t)
        t += 0.01
        if int(t * 100) % 6000 == 0:
            ble.minute(t)
    elapsed = time.perf_counter() - start
    rate = total / elapsed
    print(
        f"\nBLE sensing: {total} advertisements in {elapsed:.2f} s "
        f"= {rate:,.0f} adverts/s on one core"
    )
    assert ble.advertisements == total
