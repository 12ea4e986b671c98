"""ESPHome native API server over Noise: framing, handshake, and the few messages a BLE proxy needs.

Frames are ``0x01, len_hi, len_lo, payload``. The handshake is ESPHome's: client hello (empty),
server hello (``0x01`` + name + NUL + mac + NUL), then ``0x00`` + Noise message each way; a
wrong key gets ``0x01`` + "Handshake MAC failure". After that every frame is one encrypted
``type(2) len(2) protobuf``.
"""

import asyncio
import binascii

import messages as m
import noise
import pb
from log import DEBUG, INFO, WARNING, log

_PROLOGUE = b"NoiseAPIInit"
_MAX_FRAME = 8192
_MAX_CLIENTS = 3
# aioesphomeapi pings every 20 s; a client silent for this long is gone (Wi-Fi dropped without
# a FIN) and its slot is freed, as ESPHome does after missed keepalives.
_IDLE_S = 90


class ProtocolError(Exception):
    """The client sent bytes this server does not accept."""


async def read_frame(reader):
    """One frame's payload; raises ``ProtocolError`` on a bad indicator or size."""
    header = await reader.readexactly(3)
    if header[0] != 0x01:
        raise ProtocolError("Bad indicator byte")
    size = (header[1] << 8) | header[2]
    if size > _MAX_FRAME:
        raise ProtocolError("frame too large")
    return header, (await reader.readexactly(size) if size else b"")


def frame(payload):
    """Wrap ``payload`` in a frame header."""
    n = len(payload)
    return bytes((0x01, n >> 8, n & 0xFF)) + payload


class Connection:
    """One client: handshake, then a loop of decrypted messages."""

    def __init__(self, server, reader, writer):
        self._server = server
        self._reader = reader
        self._writer = writer
        self._send_lock = asyncio.Lock()
        self._tx = None
        self._rx = None
        self.subscribed = False

    async def run(self):
        try:
            if await self._handshake():
                await self._serve()
        except (OSError, EOFError, ProtocolError, pb.DecodeError, asyncio.TimeoutError) as err:
            log(DEBUG, "api: connection ended: %s", err)
        except noise.chachapoly.AuthError:
            log(WARNING, "api: frame failed authentication; closing")
        finally:
            self.subscribed = False
            self._server.forget(self)
            self._writer.close()
            await self._writer.wait_closed()

    async def _write(self, data):
        async with self._send_lock:
            self._writer.write(data)
            await self._writer.drain()

    async def _handshake(self):
        try:
            header, hello = await asyncio.wait_for(read_frame(self._reader), _IDLE_S)
        except ProtocolError as err:
            # As ESPHome: an explicit reject, so a plaintext client reports that encryption is
            # required instead of a bare disconnect.
            await self._write(frame(b"\x01" + str(err).encode()))
            raise
        prologue = _PROLOGUE + header[1:3] + hello
        s = self._server
        await self._write(frame(b"\x01" + s.name.encode() + b"\x00" + s.mac_hex.encode() + b"\x00"))
        _, msg = await asyncio.wait_for(read_frame(self._reader), _IDLE_S)
        if not msg or msg[0] != 0x00:
            # ESPHome's reasons, word for word (clients show them to the user).
            reason = b"Bad handshake error byte" if msg else b"Empty handshake message"
            await self._write(frame(b"\x01" + reason))
            return False
        responder = noise.Responder(s.psk, prologue)
        try:
            responder.read_message(msg[1:])
        except noise.HandshakeError:
            log(WARNING, "api: a client used the wrong key")
            await self._write(frame(b"\x01Handshake MAC failure"))
            return False
        await self._write(frame(b"\x00" + responder.write_message()))
        self._rx, self._tx = responder.split()
        log(INFO, "api: client connected")
        return True

    async def send(self, msg_type, data):
        """Encrypt and send one message."""
        n = len(data)
        plain = bytes((msg_type >> 8, msg_type & 0xFF, n >> 8, n & 0xFF)) + data
        async with self._send_lock:
            self._writer.write(frame(self._tx.encrypt(plain)))
            await self._writer.drain()

    async def _serve(self):
        while True:
            try:
                _, ct = await asyncio.wait_for(read_frame(self._reader), _IDLE_S)
            except asyncio.TimeoutError:
                log(INFO, "api: client silent for %ds; closing", _IDLE_S)
                return
            plain = self._rx.decrypt(ct)
            if len(plain) < 4:
                raise ProtocolError("message too short")
            msg_type = (plain[0] << 8) | plain[1]
            if not await self._dispatch(msg_type, plain[4:]):
                return

    async def _dispatch(self, t, data):  # noqa: PLR0911 - one branch per message
        s = self._server
        if t == m.HELLO_REQUEST:
            await self.send(m.HELLO_RESPONSE, m.hello_response(s.name, s.server_info))
        elif t == m.DEVICE_INFO_REQUEST:
            await self.send(m.DEVICE_INFO_RESPONSE, m.device_info_response(s.info, s.psk == bytes(32)))
        elif t == m.LIST_ENTITIES_REQUEST:
            await self.send(m.LIST_ENTITIES_DONE_RESPONSE, b"")
        elif t == m.PING_REQUEST:
            await self.send(m.PING_RESPONSE, b"")
        elif t == m.DISCONNECT_REQUEST:
            await self.send(m.DISCONNECT_RESPONSE, b"")
            return False
        elif t == m.DISCONNECT_RESPONSE:
            return False
        elif t == m.SUBSCRIBE_BLE_ADVERTISEMENTS_REQUEST:
            flags = pb.decode(data).get(1, 0)
            self.subscribed = bool(flags & m.SUBSCRIPTION_FLAG_RAW)
            if not self.subscribed:
                log(WARNING, "api: only raw advertisement subscriptions are supported")
        elif t == m.UNSUBSCRIBE_BLE_ADVERTISEMENTS_REQUEST:
            self.subscribed = False
        elif t == m.BLUETOOTH_CONNECTIONS_FREE_REQUEST:
            await self.send(m.BLUETOOTH_CONNECTIONS_FREE_RESPONSE, m.connections_free_response())
        elif t == m.NOISE_SET_KEY_REQUEST:
            ok = s.set_key(pb.decode(data).get(1, b""))
            await self.send(m.NOISE_SET_KEY_RESPONSE, m.noise_set_key_response(ok))
        else:
            # Auth, state and service subscriptions need no answer from an entity-less proxy.
            log(DEBUG, "api: ignoring message type %d", t)
        return True


class ApiServer:
    """Accepts API clients and fans advertisement batches out to the subscribed ones."""

    def __init__(self, cfg, info, server_info="homehub-ble-sensor", on_new_key=None):
        self._cfg = cfg
        self._on_new_key = on_new_key
        self.info = info
        self.name = cfg.name
        self.mac_hex = info["mac"].replace(":", "").lower()
        self.server_info = server_info
        self._clients = []
        self._server = None

    @property
    def psk(self):
        return self._cfg.psk

    def set_key(self, key_b64):
        """Adoption, as ESPHome: the request carries the key base64-encoded; an empty key clears
        it (back to adoptable). The key applies from the next connection."""
        if not key_b64:
            self._cfg.set_psk(None)
            log(INFO, "api: encryption key cleared; adoptable again")
        else:
            try:
                key = binascii.a2b_base64(key_b64)
            except ValueError:
                key = b""
            if len(key) != 32 or key == bytes(32):
                log(WARNING, "api: refused a new key that is not 32 bytes of base64")
                return False
            self._cfg.set_psk(key)
            log(INFO, "api: new encryption key stored")
        if self._on_new_key is not None:
            self._on_new_key()
        return True

    async def start(self, host, port):
        self._server = await asyncio.start_server(self._accept, host, port)

    async def stop(self):
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _accept(self, reader, writer):
        if len(self._clients) >= _MAX_CLIENTS:
            writer.close()
            await writer.wait_closed()
            return
        conn = Connection(self, reader, writer)
        self._clients.append(conn)
        await conn.run()

    def forget(self, conn):
        if conn in self._clients:
            self._clients.remove(conn)

    def has_subscribers(self):
        return any(c.subscribed for c in self._clients)

    async def publish(self, ads):
        """Send one ``BluetoothLERawAdvertisementsResponse`` to every subscribed client."""
        data = m.raw_advertisements_response(ads)
        for conn in list(self._clients):
            if conn.subscribed:
                try:
                    await conn.send(m.BLE_RAW_ADVERTISEMENTS_RESPONSE, data)
                except OSError as err:
                    log(DEBUG, "api: send failed: %s", err)
