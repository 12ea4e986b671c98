"""What devices in the virtual home put on the air: addresses and advertisement payloads.

Payloads are real AD structures (length, type, value) as the devices send them: an iBeacon or a
Tile tag, an iPhone's Apple "Nearby Info", an Android phone's Google Fast Pair service, a
Samsung TV's manufacturer data, a BTHome smart plug. Phones use resolvable private addresses
built per the Core specification (Vol 3, Part C, 10.8.2 and Vol 3, Part H, 2.2.2): a 24-bit
``prand`` whose top two bits are 01, and ``hash = ah(IRK, prand)``, the low 24 bits of
AES-128(IRK, 13 zero octets || prand).
"""

from __future__ import annotations

import struct
from typing import Final

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

AD_FLAGS: Final = 0x01
AD_UUID16_COMPLETE: Final = 0x03
AD_SERVICE_DATA16: Final = 0x16
AD_TX_POWER: Final = 0x0A
AD_MANUFACTURER: Final = 0xFF

FLAGS_LE_GENERAL_NO_BREDR: Final = 0x06
FLAGS_LE_GENERAL_DUAL: Final = 0x1A
"""Phones set "simultaneous LE and BR/EDR" bits as well (0x1A is what iPhones send)."""

APPLE: Final = 0x004C
SAMSUNG: Final = 0x0075
UUID_FAST_PAIR: Final = 0xFE2C
UUID_TILE: Final = 0xFEED
UUID_BTHOME: Final = 0xFCD2

APPLE_NEARBY_INFO: Final = 0x10
APPLE_IBEACON: Final = 0x02

_PRAND_TOP: Final = 0b01 << 22
_PRAND_RANDOM_MASK: Final = (1 << 22) - 1


def ad(ad_type: int, value: bytes) -> bytes:
    """One AD structure."""
    if len(value) > 254:
        raise ValueError("AD value too long")
    return bytes((len(value) + 1, ad_type)) + value


def flags(value: int) -> bytes:
    """The Flags AD structure."""
    return ad(AD_FLAGS, bytes((value,)))


def manufacturer(company: int, payload: bytes) -> bytes:
    """Manufacturer Specific Data with a little-endian company identifier."""
    return ad(AD_MANUFACTURER, struct.pack("<H", company) + payload)


def service_data16(uuid: int, payload: bytes) -> bytes:
    """Service Data for a 16-bit UUID."""
    return ad(AD_SERVICE_DATA16, struct.pack("<H", uuid) + payload)


def tx_power(dbm: int) -> bytes:
    """TX Power Level."""
    return ad(AD_TX_POWER, struct.pack("<b", dbm))


def ibeacon(uuid: bytes, major: int, minor: int, measured_power: int) -> bytes:
    """An iBeacon tag: Apple manufacturer data 02 15, UUID, major, minor, RSSI at 1 m."""
    if len(uuid) != 16:
        raise ValueError("iBeacon UUID must be 16 bytes")
    body = bytes((APPLE_IBEACON, 0x15)) + uuid + struct.pack(">HHb", major, minor, measured_power)
    return flags(FLAGS_LE_GENERAL_NO_BREDR) + manufacturer(APPLE, body)


def tile(tile_id: bytes) -> bytes:
    """A Tile-like tag: the 0xFEED service and its service data carrying the tag id."""
    return (
        flags(FLAGS_LE_GENERAL_NO_BREDR)
        + ad(AD_UUID16_COMPLETE, struct.pack("<H", UUID_TILE))
        + service_data16(UUID_TILE, tile_id)
    )


def iphone(nearby: bytes, power: int = 12) -> bytes:
    """An iPhone in a pocket: Apple Nearby Info (status flags and state bytes) and TX power."""
    if len(nearby) != 5:
        raise ValueError("Nearby Info body is 5 bytes here")
    body = bytes((APPLE_NEARBY_INFO, len(nearby))) + nearby
    return flags(FLAGS_LE_GENERAL_DUAL) + manufacturer(APPLE, body) + tx_power(power)


def android(model_id: bytes, power: int = 7) -> bytes:
    """An Android phone: no name, the Google Fast Pair service with a 3-byte model id."""
    if len(model_id) != 3:
        raise ValueError("Fast Pair model id is 3 bytes")
    return (
        flags(FLAGS_LE_GENERAL_DUAL)
        + ad(AD_UUID16_COMPLETE, struct.pack("<H", UUID_FAST_PAIR))
        + service_data16(UUID_FAST_PAIR, model_id)
        + tx_power(power)
    )


def samsung_tv(state: bytes) -> bytes:
    """A Samsung smart TV announcing itself (Samsung manufacturer data)."""
    return flags(FLAGS_LE_GENERAL_DUAL) + manufacturer(SAMSUNG, b"\x42\x04\x01\x80\x60" + state)


def smart_plug(power_w: float, volts: float) -> bytes:
    """A BTHome v2 smart plug: unencrypted service data with power (0x0B) and voltage (0x4A)."""
    centiwatts = max(0, min(round(power_w * 100), 0xFFFFFF))
    body = bytes((0x40, 0x0B)) + centiwatts.to_bytes(3, "little")
    body += bytes((0x4A,)) + max(0, min(round(volts * 10), 0xFFFF)).to_bytes(2, "little")
    return flags(FLAGS_LE_GENERAL_NO_BREDR) + service_data16(UUID_BTHOME, body)


def prand_from(random24: int) -> int:
    """A valid 24-bit prand: top bits 01, random part neither all zeros nor all ones."""
    random_part = random24 & _PRAND_RANDOM_MASK
    if random_part in {0, _PRAND_RANDOM_MASK}:
        random_part ^= 0x15A5A5
    return _PRAND_TOP | random_part


def ah(irk: bytes, prand: int) -> int:
    """The random address hash function: low 24 bits of AES-128(IRK, padding || prand)."""
    if len(irk) != 16:
        raise ValueError("an IRK is 16 bytes")
    encryptor = Cipher(algorithms.AES(irk), modes.ECB()).encryptor()  # noqa: S305 - the spec's e()
    block = encryptor.update(bytes(13) + prand.to_bytes(3, "big")) + encryptor.finalize()
    return int.from_bytes(block[13:], "big")


def resolvable_private_address(irk: bytes, random24: int) -> int:
    """A 48-bit RPA: prand in the most significant half, ah(IRK, prand) in the least."""
    prand = prand_from(random24)
    return (prand << 24) | ah(irk, prand)


def static_random_address(random48: int) -> int:
    """A static random address: top two bits 11, rest not all zeros or all ones."""
    value = (random48 & ((1 << 46) - 1)) | (0b11 << 46)
    if value in {0b11 << 46, (1 << 48) - 1}:
        value ^= 0x5A5A5A
    return value
