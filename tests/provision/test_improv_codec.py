"""The Improv codec on bytes alone."""

from __future__ import annotations

import pytest

from hub.provision import improv
from tests.provision.fakes import improv_packet, improv_strings


def test_packet_matches_the_spec_layout() -> None:
    raw = improv.encode_rpc(improv.Command.GET_CURRENT_STATE)
    assert raw[:6] == b"IMPROV"
    assert raw[6:9] == bytes([1, 0x03, 2])  # version, RPC, length
    assert raw[9:11] == bytes([0x02, 0])  # command, payload length
    assert raw[-1] == sum(raw[:-1]) % 256
    assert raw == improv_packet(0x03, b"\x02\x00")


def test_wifi_settings_payload() -> None:
    raw = improv.wifi_settings("home-net", "pässword")
    payload = improv_strings("home-net", "pässword")
    assert raw == improv_packet(0x03, bytes([0x01, len(payload)]) + payload)


@pytest.mark.parametrize(
    ("ssid", "passphrase", "message"),
    [("", "x", "empty"), ("s" * 33, "x", "longer than 32"), ("ok", "p" * 65, "longer than 64")],
)
def test_bad_wifi_settings_are_named(ssid: str, passphrase: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        improv.wifi_settings(ssid, passphrase)


def test_reader_finds_packets_between_log_lines_in_any_split() -> None:
    stream = (
        b"[I][app:100]: Running\r\n"
        + improv_packet(0x01, b"\x02")
        + b"\n[D][wifi:200]: Scanning IMPROV-like text\r\n"
        + improv_packet(0x04, b"\x03\x05\x04abcd")
        + b"\n"
    )
    for step in (1, 2, 3, 7, len(stream)):
        reader = improv.PacketReader()
        packets = []
        for i in range(0, len(stream), step):
            packets += reader.feed(stream[i : i + step])
        assert packets == [
            improv.Packet(0x01, b"\x02"),
            improv.Packet(0x04, b"\x03\x05\x04abcd"),
        ], step
        assert "Running" in reader.log_tail(5)


def test_reader_skips_a_packet_with_a_bad_checksum() -> None:
    bad = bytearray(improv_packet(0x01, b"\x02"))
    bad[-1] ^= 0xFF
    reader = improv.PacketReader()
    good = improv_packet(0x01, b"\x04")
    assert reader.feed(bytes(bad) + good) == [improv.Packet(0x01, b"\x04")]
    assert reader.bad_checksums == 1


def test_reader_log_is_bounded() -> None:
    reader = improv.PacketReader()
    for _ in range(100):
        reader.feed(b"x" * 1000 + b"\n")
    assert len(reader.log) <= improv.MAX_LOG_KEPT


def test_strings_round_trip_and_truncation() -> None:
    assert improv.decode_strings(improv.encode_strings("a", "", "ünï")) == ("a", "", "ünï")
    with pytest.raises(ValueError, match="past the end"):
        improv.decode_strings(b"\x05ab")
