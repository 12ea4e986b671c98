"""Frame codecs and transports of the emulator, on bytes alone."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from noise.connection import NoiseConnection

from hub.sim.emulator.frames import (
    BadIndicatorError,
    FrameError,
    FrameTooLargeError,
    NoiseFrameDecoder,
    PlaintextDecoder,
    encode_noise_frame,
    encode_plaintext,
    encode_varint,
    pack_message,
    unpack_message,
)
from hub.sim.emulator.noise import PROTOCOL_NAME
from hub.sim.emulator.transport import (
    BAD_INDICATOR_REPLY,
    NoiseTransport,
    PlaintextTransport,
    ProvisioningTransport,
    Rejected,
)


def test_plaintext_frame_layout_matches_esphome() -> None:
    # 0x00, varint(len=3), varint(type=300 -> 0xac 0x02), payload
    assert encode_plaintext(300, b"abc") == b"\x00\x03\xac\x02abc"
    assert encode_varint(0) == b"\x00" and encode_varint(127) == b"\x7f"
    assert encode_varint(128) == b"\x80\x01"


def test_noise_frame_and_message_layout() -> None:
    assert encode_noise_frame(b"xy") == b"\x01\x00\x02xy"
    assert pack_message(93, b"\x01\x02") == b"\x00\x5d\x00\x02\x01\x02"
    assert unpack_message(b"\x00\x5d\x00\x02\x01\x02") == (93, b"\x01\x02")
    with pytest.raises(FrameError):
        unpack_message(b"\x00\x5d\x00\x05\x01")


@given(
    messages=st.lists(st.tuples(st.integers(0, 2000), st.binary(max_size=300)), max_size=8),
    cuts=st.lists(st.integers(0, 5000), max_size=6),
)
def test_plaintext_decoder_reassembles_any_split(
    messages: list[tuple[int, bytes]], cuts: list[int]
) -> None:
    stream = b"".join(encode_plaintext(t, p) for t, p in messages)
    decoder = PlaintextDecoder()
    out: list[tuple[int, bytes]] = []
    last = 0
    for cut in sorted({min(c, len(stream)) for c in cuts} | {len(stream)}):
        out += decoder.feed(stream[last:cut])
        last = cut
    assert out == messages


@given(bodies=st.lists(st.binary(max_size=128), max_size=6), split=st.integers(0, 900))
def test_noise_decoder_reassembles_any_split(bodies: list[bytes], split: int) -> None:
    stream = b"".join(encode_noise_frame(b) for b in bodies)
    decoder = NoiseFrameDecoder()
    split = min(split, len(stream))
    assert decoder.feed(stream[:split]) + decoder.feed(stream[split:]) == bodies


@settings(max_examples=300)
@given(garbage=st.binary(max_size=200))
def test_garbage_never_raises_anything_but_frame_error(garbage: bytes) -> None:
    for decoder in (PlaintextDecoder(), NoiseFrameDecoder()):
        try:
            decoder.feed(garbage)
        except FrameError:
            pass
    transports = (
        PlaintextTransport(),
        NoiseTransport(os.urandom(32), "sensor-x", "240ac4000001"),
        ProvisioningTransport("sensor-x", "240ac4000001"),
    )
    for transport in transports:
        try:
            transport.receive(garbage)
            transport.receive(garbage)
        except FrameError:
            pass


def test_indicator_and_size_errors_are_named() -> None:
    with pytest.raises(BadIndicatorError):
        PlaintextDecoder().feed(b"\x01\x00\x00")
    with pytest.raises(BadIndicatorError):
        NoiseFrameDecoder().feed(b"\x00\x00\x00")
    with pytest.raises(FrameTooLargeError):
        NoiseFrameDecoder().feed(b"\x01\x00\x81")  # 129 > 128 during the handshake
    with pytest.raises(FrameError, match="varint"):
        PlaintextDecoder().feed(b"\x00\xff\xff\xff\xff\xff\x01")


def test_plaintext_client_to_noise_device_gets_esphome_reject() -> None:
    transport = NoiseTransport(os.urandom(32), "sensor-x", "240ac4000001")
    with pytest.raises(Rejected) as err:
        transport.receive(encode_plaintext(1, b""))
    assert err.value.reply == b"\x01\x00\x13\x01Bad indicator byte"


def test_noise_client_to_plaintext_transport_gets_esphome_reject() -> None:
    with pytest.raises(Rejected) as err:
        PlaintextTransport().receive(b"\x01\x00\x00")
    assert err.value.reply == BAD_INDICATOR_REPLY


def _initiator(psk: bytes) -> NoiseConnection:
    proto = NoiseConnection.from_name(PROTOCOL_NAME)
    proto.set_as_initiator()
    proto.set_psks(psk)
    proto.set_prologue(b"NoiseAPIInit\x00\x00")
    proto.start_handshake()
    return proto


def test_noise_handshake_and_data_on_bytes() -> None:
    psk = os.urandom(32)
    transport = NoiseTransport(psk, "sensor-x", "240ac4000001")
    client = _initiator(psk)
    hello_and_handshake = b"\x01\x00\x00" + encode_noise_frame(b"\x00" + client.write_message())
    reply, messages = transport.receive(hello_and_handshake)
    assert messages == [] and transport.ready
    frames = NoiseFrameDecoder().feed(reply)
    assert frames[0] == b"\x01sensor-x\x00240ac4000001\x00"
    assert frames[1][0] == 0
    client.read_message(frames[1][1:])
    ping = encode_noise_frame(client.encrypt(pack_message(7, b"")))
    assert transport.receive(ping) == (b"", [(7, b"")])
    (body,) = NoiseFrameDecoder(0xFFFF).feed(transport.encode(8, b"ok"))
    assert unpack_message(client.decrypt(body)) == (8, b"ok")


def test_wrong_key_gets_server_hello_then_mac_failure() -> None:
    transport = NoiseTransport(os.urandom(32), "sensor-x", "240ac4000001")
    client = _initiator(os.urandom(32))
    with pytest.raises(Rejected) as err:
        transport.receive(b"\x01\x00\x00" + encode_noise_frame(b"\x00" + client.write_message()))
    frames = NoiseFrameDecoder().feed(err.value.reply)
    assert frames == [b"\x01sensor-x\x00240ac4000001\x00", b"\x01Handshake MAC failure"]


def test_tampered_data_frame_is_rejected() -> None:
    psk = os.urandom(32)
    transport = NoiseTransport(psk, "sensor-x", "240ac4000001")
    client = _initiator(psk)
    reply, _ = transport.receive(
        b"\x01\x00\x00" + encode_noise_frame(b"\x00" + client.write_message())
    )
    client.read_message(NoiseFrameDecoder().feed(reply)[1][1:])
    cipher = bytearray(client.encrypt(pack_message(7, b"")))
    cipher[0] ^= 1
    with pytest.raises(Rejected, match="authentication"):
        transport.receive(encode_noise_frame(bytes(cipher)))


def test_provisioning_transport_picks_protocol_by_first_byte() -> None:
    plain = ProvisioningTransport("sensor-x", "240ac4000001")
    assert plain.receive(encode_plaintext(7, b"")) == (b"", [(7, b"")])
    assert not plain.encrypted
    noisy = ProvisioningTransport("sensor-x", "240ac4000001")
    client = _initiator(bytes(32))
    reply, _ = noisy.receive(b"\x01\x00\x00" + encode_noise_frame(b"\x00" + client.write_message()))
    assert noisy.encrypted and noisy.ready and reply
