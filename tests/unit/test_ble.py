"""BLE sensing: identities, pseudonyms, smoothing, hysteresis, rotation, visitors."""

from __future__ import annotations

import os

from bluetooth_data_tools import get_cipher_for_irk

from hub.config import BleConfig, MemberConfig
from hub.sensing.ble import BleSensing, tag_hash
from tests.unit.factories import IBEACON_TAG_AD, PLUG_AD, make_advertisement

MEMBER_KEY = b"k" * 32
TAG = 0xC01122334455


def make_rpa(irk: bytes, prand: int) -> int:
    """A resolvable private address for an IRK (Bluetooth Core Vol 3 Part C 10.8.2.2)."""
    prand = (prand & 0x3FFFFF) | 0x400000
    enc = get_cipher_for_irk(irk).encryptor()
    digest = (enc.update(bytes(13) + prand.to_bytes(3, "big")) + enc.finalize())[13:]
    return (prand << 24) | int.from_bytes(digest, "big")


def sensing(**config: object) -> BleSensing:
    members = [MemberConfig("member-1", tags=(tag_hash(MEMBER_KEY, TAG),))]
    return BleSensing(BleConfig(**config), members, MEMBER_KEY, os.urandom(32))  # type: ignore[arg-type]


def test_registered_tag_is_placed_in_the_strongest_room() -> None:
    ble = sensing()
    for t in range(0, 60, 10):
        ble.ingest(
            "bedroom",
            [make_advertisement(address=TAG, address_type=0, rssi=-55, data=IBEACON_TAG_AD)],
            t,
        )
        ble.ingest(
            "kitchen",
            [make_advertisement(address=TAG, address_type=0, rssi=-80, data=IBEACON_TAG_AD)],
            t,
        )
    assert ble.minute(60).members == {"member-1": "bedroom"}


def test_member_not_heard_is_away() -> None:
    ble = sensing(stale_s=60)
    ble.ingest("bedroom", [make_advertisement(address=TAG, address_type=0, data=IBEACON_TAG_AD)], 0)
    assert ble.minute(30).members["member-1"] == "bedroom"
    assert ble.minute(200).members["member-1"] is None


def test_hysteresis_keeps_the_room_against_small_differences() -> None:
    ble = sensing(hysteresis_db=6, smoothing_s=1)
    tag = {"address": TAG, "address_type": 0, "data": IBEACON_TAG_AD}
    ble.ingest("bedroom", [make_advertisement(rssi=-60, **tag)], 0)
    ble.ingest("hall", [make_advertisement(rssi=-70, **tag)], 0)
    assert ble.minute(1).members["member-1"] == "bedroom"
    ble.ingest("hall", [make_advertisement(rssi=-57, **tag)], 10)
    ble.ingest("bedroom", [make_advertisement(rssi=-60, **tag)], 10)
    assert ble.minute(11).members["member-1"] == "bedroom"  # 3 dB better is not enough
    ble.ingest("hall", [make_advertisement(rssi=-50, **tag)], 20)
    ble.ingest("bedroom", [make_advertisement(rssi=-60, **tag)], 20)
    assert ble.minute(21).members["member-1"] == "hall"


def test_phone_resolved_by_irk_counts_as_member_not_visitor() -> None:
    irk = os.urandom(16)
    members = [MemberConfig("member-2", irks=(irk.hex(),))]
    ble = BleSensing(BleConfig(), members, MEMBER_KEY, os.urandom(32))
    for prand, t in ((0x123456, 0), (0x2ABCDE, 30)):
        ble.ingest("kitchen", [make_advertisement(address=make_rpa(irk, prand))], t)
    minute = ble.minute(40)
    assert minute.members == {"member-2": "kitchen"}
    assert minute.visitors == 0


def test_rotating_visitor_phone_is_counted_once() -> None:
    ble = sensing()
    first, second = 0x5A0000000001, 0x5B0000000002
    for t in range(0, 600, 10):
        ble.ingest("living", [make_advertisement(address=first, rssi=-65)], t)
    ble.minute(540)
    assert ble.minute(600).visitors == 1
    for t in range(610, 700, 10):  # the phone rotated its address
        ble.ingest("living", [make_advertisement(address=second, rssi=-65)], t)
    assert ble.minute(620).visitors == 1
    assert ble.minute(700).visitors == 1


def test_two_visitors_at_once_are_two() -> None:
    ble = sensing()
    for t in range(0, 120, 10):
        ble.ingest("living", [make_advertisement(address=0x5A0000000001, rssi=-65)], t)
        ble.ingest("living", [make_advertisement(address=0x5A0000000002, rssi=-66)], t)
    ble.minute(60)
    assert ble.minute(120).visitors == 2


def test_neighbours_and_fixtures_are_not_visitors() -> None:
    ble = sensing()
    for t in range(0, 120, 10):
        ble.ingest("living", [make_advertisement(address=0x5A0000000003, rssi=-88)], t)  # next door
        ble.ingest(
            "living",
            [make_advertisement(address=0xD00000000004, address_type=1, rssi=-50, data=PLUG_AD)],
            t,
        )
    ble.minute(60)
    assert ble.minute(120).visitors == 0


def test_malformed_payloads_are_counted_and_ignored() -> None:
    ble = sensing()
    bad = [
        make_advertisement(address=0x5A0000000009, data=b"\x05\xff\x4c"),
        make_advertisement(address=1 << 50),
    ]
    ble.ingest("living", bad, 0)
    assert ble.malformed == 2
    assert ble.minute(10).visitors == 0


def test_day_key_rotation_changes_pseudonyms_and_forgets_addresses() -> None:
    ble = sensing()
    ble.ingest("living", [make_advertisement()], 0)
    before = {tr.label for tr in ble._identity.values()}
    ble.rotate_day_key(os.urandom(32))
    assert not ble._identity
    ble.ingest("living", [make_advertisement()], 10)
    after = {tr.label for tr in ble._identity.values()}
    assert before and after and before.isdisjoint(after)


def test_pseudonym_does_not_contain_the_address() -> None:
    ble = sensing()
    adv = make_advertisement(address=0x5AABCDEF0123)
    ble.ingest("living", [adv], 0)
    (track,) = ble._identity.values()
    assert "abcdef0123" not in track.label.lower()
    assert len(track.label) == 16


def test_second_phone_appearing_while_the_first_is_quiet_briefly_is_still_two() -> None:
    ble = sensing()
    for t in range(0, 120, 10):
        ble.ingest("living", [make_advertisement(address=0x5A0000000001, rssi=-65)], t)
        ble.ingest("living", [make_advertisement(address=0x5A0000000002, rssi=-66)], t + 5)
    ble.minute(65)
    assert ble.minute(125).visitors == 2


def test_a_phone_inside_for_a_single_minute_is_not_a_visitor() -> None:
    ble = sensing()
    ble.ingest("living", [make_advertisement(address=0x5A0000000007, rssi=-70)], 50)
    assert ble.minute(60).visitors == 0
    assert ble.minute(120).visitors == 0  # gone again: a neighbour's phone peaking for a moment
