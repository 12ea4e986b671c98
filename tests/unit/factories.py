"""Factories for test data with sensible defaults (override what a test is about)."""

from __future__ import annotations

from typing import Any

from hub.fusion.minute import MinuteRecord
from hub.sim.signals import RawAdvertisement

APPLE_PHONE_AD = bytes.fromhex("02011a") + bytes.fromhex("0aff4c0010050b1c6d2a9e")
"""Flags + Apple 'Nearby Info' manufacturer data, as an iPhone advertises."""
IBEACON_TAG_AD = bytes.fromhex("020106") + bytes([26, 0xFF, 0x4C, 0x00, 0x02, 0x15]) + bytes(21)
"""Flags + iBeacon frame, as a key-finder tag advertises."""
PLUG_AD = bytes.fromhex("020106") + bytes.fromhex("0716d2fc40000102")
"""Flags + BTHome service data, as a smart plug advertises."""


def make_advertisement(**overrides: Any) -> RawAdvertisement:
    """An advertisement from an iPhone at -60 dBm."""
    fields: dict[str, Any] = {
        "address": 0x5A1122334455,
        "address_type": 1,
        "rssi": -60,
        "data": APPLE_PHONE_AD,
    }
    fields.update(overrides)
    return RawAdvertisement(**fields)


def make_minute(t: int, **overrides: Any) -> MinuteRecord:
    """A minute with one member in the living room, nobody visiting, every sensor up."""
    fields: dict[str, Any] = {
        "t": t,
        "members": {"member-1": "living"},
        "visitors": 0,
        "sound": {},
        "sensors_up": ("bedroom", "living"),
        "paused": (),
    }
    fields.update(overrides)
    return MinuteRecord(**fields)
