"""ESPHome native API message ids and the encoders for the messages this sensor sends.

Ids and field numbers are those of ESPHome's ``api.proto``.
"""

from micropython import const

import pb

HELLO_REQUEST = const(1)
HELLO_RESPONSE = const(2)
AUTHENTICATION_REQUEST = const(3)
DISCONNECT_REQUEST = const(5)
DISCONNECT_RESPONSE = const(6)
PING_REQUEST = const(7)
PING_RESPONSE = const(8)
DEVICE_INFO_REQUEST = const(9)
DEVICE_INFO_RESPONSE = const(10)
LIST_ENTITIES_REQUEST = const(11)
LIST_ENTITIES_DONE_RESPONSE = const(19)
SUBSCRIBE_STATES_REQUEST = const(20)
SUBSCRIBE_BLE_ADVERTISEMENTS_REQUEST = const(66)
BLUETOOTH_CONNECTIONS_FREE_REQUEST = const(80)
BLUETOOTH_CONNECTIONS_FREE_RESPONSE = const(81)
UNSUBSCRIBE_BLE_ADVERTISEMENTS_REQUEST = const(87)
BLE_RAW_ADVERTISEMENTS_RESPONSE = const(93)
NOISE_SET_KEY_REQUEST = const(124)
NOISE_SET_KEY_RESPONSE = const(125)

API_VERSION_MAJOR = const(1)
API_VERSION_MINOR = const(12)
# BluetoothProxyFeature: PASSIVE_SCAN (1) | RAW_ADVERTISEMENTS (32); no active connections.
PROXY_FEATURES = const(33)
SUBSCRIPTION_FLAG_RAW = const(1)


def hello_response(name, server_info):
    return (
        pb.field_varint(1, API_VERSION_MAJOR)
        + pb.field_varint(2, API_VERSION_MINOR)
        + pb.field_bytes(3, server_info)
        + pb.field_bytes(4, name)
    )


def device_info_response(info, provisionable):
    """``info`` is a dict with name, mac, version, model, room, friendly_name, project keys."""
    return b"".join(
        (
            pb.field_bytes(2, info["name"]),
            pb.field_bytes(3, info["mac"]),
            pb.field_bytes(4, info["version"]),
            pb.field_bytes(5, info.get("compilation_time", "")),
            pb.field_bytes(6, info["model"]),
            pb.field_bytes(8, info.get("project_name", "")),
            pb.field_bytes(9, info.get("project_version", "")),
            pb.field_bytes(12, info.get("manufacturer", "Espressif")),
            pb.field_bytes(13, info.get("friendly_name", "")),
            pb.field_varint(15, PROXY_FEATURES),
            pb.field_bytes(16, info.get("room", "")),
            pb.field_bytes(18, info["mac"]),
            pb.field_varint(19, 1),
            pb.field_varint(26, 1 if provisionable else 0),
        )
    )


def _put_varint(buf, n):
    while n > 0x7F:
        buf.append((n & 0x7F) | 0x80)
        n >>= 7
    buf.append(n)


def put_raw_advertisement(buf, address, address_type, rssi, data):
    """Append one ``BluetoothLERawAdvertisement`` as field 1 of the batch to ``buf``.

    Written byte by byte, not through ``pb``: this runs for every advertisement, and the
    generic helpers cost about four times as much in the interpreter.
    """
    body = bytearray()
    if address:
        body.append(0x08)  # field 1, varint
        _put_varint(body, address)
    z = pb.zigzag(rssi)
    if z:
        body.append(0x10)  # field 2, varint (sint32)
        _put_varint(body, z)
    if address_type:
        body.append(0x18)  # field 3, varint
        _put_varint(body, address_type)
    if data:
        body.append(0x22)  # field 4, bytes
        _put_varint(body, len(data))
        body.extend(data)
    buf.append(0x0A)  # field 1 of the batch, a sub-message
    _put_varint(buf, len(body))
    buf.extend(body)


def raw_advertisements_response(ads):
    """A ``BluetoothLERawAdvertisementsResponse`` batch from (address, type, rssi, data) tuples."""
    buf = bytearray()
    for ad in ads:
        put_raw_advertisement(buf, *ad)
    return bytes(buf)


def connections_free_response():
    return b""


def noise_set_key_response(success):
    return pb.field_varint(1, 1 if success else 0)
