"""Small firmware pieces on the unix port: the bounded queue, protobuf, mDNS, config errors."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import pytest
from aioesphomeapi.api_pb2 import BluetoothLERawAdvertisementsResponse, HelloResponse
from zeroconf import DNSIncoming, DNSOutgoing, DNSQuestion, const

from tests.firmware.conftest import FIRMWARE, run_mpy

pytestmark = pytest.mark.firmware


def test_queue_drops_oldest_and_counts(micropython: str) -> None:
    out = run_mpy(
        micropython,
        """
from adqueue import AdQueue
q = AdQueue(4)
for i in range(10):
    q.push(i)
print(len(q), q.dropped, q.pop_many(3), q.pop_many(3), len(q))
""",
    )
    assert out.strip() == "4 6 [6, 7, 8] [9] 0"


def test_batch_encoding_parses_with_the_real_protobuf(micropython: str) -> None:
    out = run_mpy(
        micropython,
        """
import messages
from binascii import hexlify
ads = [(0xC01122334455, 1, -71, b"\\x02\\x01\\x06"), (0x001122334455, 0, -30, b""),
       (0, 1, 0, bytes(range(200)))]
print(hexlify(messages.raw_advertisements_response(ads)).decode())
print(hexlify(messages.hello_response("ble-x", "srv")).decode())
""",
    ).split()
    batch = BluetoothLERawAdvertisementsResponse.FromString(bytes.fromhex(out[0]))
    got = [(a.address, a.address_type, a.rssi, a.data) for a in batch.advertisements]
    assert got == [
        (0xC01122334455, 1, -71, b"\x02\x01\x06"),
        (0x001122334455, 0, -30, b""),
        (0, 1, 0, bytes(range(200))),  # longer than any advertisement: two-byte lengths
    ]
    hello = HelloResponse.FromString(bytes.fromhex(out[1]))
    assert (hello.api_version_major, hello.name, hello.server_info) == (1, "ble-x", "srv")


def test_pb_decode_refuses_truncation(micropython: str) -> None:
    out = run_mpy(
        micropython,
        """
import pb
print(pb.decode(b"\\x08\\x96\\x01\\x12\\x02hi"))
for bad in (b"\\x08\\x96", b"\\x12\\x05hi", b"\\x0b"):
    try:
        pb.decode(bad)
        print("accepted")
    except pb.DecodeError:
        print("refused")
""",
    ).split("\n")
    assert out[0] in ("{1: 150, 2: b'hi'}", "{2: b'hi', 1: 150}")
    assert out[1:4] == ["refused"] * 3


def test_mdns_answers_a_real_zeroconf_query(micropython: str) -> None:
    query = DNSOutgoing(const._FLAGS_QR_QUERY)
    query.add_question(DNSQuestion("_esphomelib._tcp.local.", const._TYPE_PTR, const._CLASS_IN))
    packet = query.packets()[0]
    out = run_mpy(
        micropython,
        f"""
import mdns
from binascii import hexlify
class Net:
    ip = "192.168.1.7"
r = mdns.Responder(Net(), "ble-hall", 6053, (("mac", "aabbccddeeff"),))
q = mdns.parse_questions({packet!r})
print(q, r.wants_us(q))
print(hexlify(r.response()).decode())
""",
    ).split("\n")
    assert out[0] == "[('_esphomelib._tcp.local', 12, False)] True"
    answer = DNSIncoming(bytes.fromhex(out[1]))
    records = {(r.type, r.name.lower()) for r in answer.answers()}
    assert records == {
        (const._TYPE_PTR, "_esphomelib._tcp.local."),
        (const._TYPE_SRV, "ble-hall._esphomelib._tcp.local."),
        (const._TYPE_TXT, "ble-hall._esphomelib._tcp.local."),
        (const._TYPE_A, "ble-hall.local."),
    }
    srv = next(r for r in answer.answers() if r.type == const._TYPE_SRV)
    assert srv.port == 6053  # type: ignore[attr-defined]
    a = next(r for r in answer.answers() if r.type == const._TYPE_A)
    assert a.address == bytes([192, 168, 1, 7])  # type: ignore[attr-defined]


def test_mdns_ignores_responses_and_other_services(micropython: str) -> None:
    other = DNSOutgoing(const._FLAGS_QR_QUERY)
    other.add_question(DNSQuestion("_http._tcp.local.", const._TYPE_PTR, const._CLASS_IN))
    response = struct.pack("!HHHHHH", 0, 0x8400, 0, 0, 0, 0)
    out = run_mpy(
        micropython,
        f"""
import mdns
class Net:
    ip = "127.0.0.1"
r = mdns.Responder(Net(), "ble-hall", 6053, ())
print(r.wants_us(mdns.parse_questions({other.packets()[0]!r})), mdns.parse_questions({response!r}))
""",
    )
    assert out.strip() == "False []"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        (json.dumps({"room": "x"}), "missing 'name'"),
        (json.dumps({"name": "a", "psk": "c2hvcnQ="}), "32 bytes"),
    ],
)
def test_config_errors_name_the_problem(
    micropython: str, tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / "sensor.json").write_text(content)
    out = run_mpy(
        micropython,
        f"""
import config
try:
    config.load({str(tmp_path / "sensor.json")!r})
except config.ConfigError as err:
    print(err)
""",
    )
    assert message in out


def test_main_refuses_to_start_without_a_name(micropython: str, tmp_path: Path) -> None:
    (tmp_path / "sensor.json").write_text(json.dumps({"room": "hall"}))
    proc = subprocess.run(
        [micropython, str(FIRMWARE / "main.py"), "sensor.json"],
        cwd=tmp_path,
        env={"MICROPYPATH": f"{FIRMWARE}:.frozen"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 2
    assert "sensor.json: missing 'name'" in proc.stdout
