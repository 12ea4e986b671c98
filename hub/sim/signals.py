"""What the virtual home puts on the air: the values passed from the scenario to the emulators."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RawAdvertisement:
    """One BLE advertisement as an ESPHome ``bluetooth_proxy`` reports it in raw mode."""

    address: int
    """48-bit device address as an integer (ESPHome sends it as ``uint64``)."""
    address_type: int
    """0 public, 1 random (static or resolvable private)."""
    rssi: int
    """Received signal strength at this sensor, dBm."""
    data: bytes
    """Advertisement payload: AD structures (length, type, value) as on the air, <= 62 bytes."""
