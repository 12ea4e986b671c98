"""A small mDNS responder announcing this sensor as ``_esphomelib._tcp`` (RFC 6762/6763).

It answers PTR queries for the service type (and the DNS-SD meta query) with PTR, SRV, TXT and
A records, and announces itself at start. No probing or conflict resolution: node names are
unique per home because provisioning makes them so.
"""

import asyncio
import struct

from log import DEBUG, INFO, log

_GROUP = "224.0.0.251"
_PORT = 5353
_SERVICE = "_esphomelib._tcp.local"
_META = "_services._dns-sd._udp.local"
_T_A = 1
_T_PTR = 12
_T_TXT = 16
_T_SRV = 33
_T_ANY = 255
_CLASS_IN = 1
_FLUSH = 0x8000
_TTL_HOST = 120
_TTL_OTHER = 4500


def encode_name(name):
    out = bytearray()
    for label in name.split("."):
        b = label.encode()
        out.append(len(b))
        out += b
    out.append(0)
    return bytes(out)


def read_name(buf, pos):
    """A possibly compressed name at ``pos``; returns (name, position after it)."""
    labels = []
    end = None
    jumps = 0
    while True:
        n = buf[pos]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = pos + 2
            pos = ((n & 0x3F) << 8) | buf[pos + 1]
            jumps += 1
            if jumps > 16:
                raise ValueError("name compression loop")
            continue
        pos += 1
        if n == 0:
            break
        labels.append(bytes(buf[pos : pos + n]).decode())
        pos += n
    return ".".join(labels), (end if end is not None else pos)


def parse_questions(buf):
    """(name, type, unicast-response bit) of each question in a query; [] for responses."""
    _id, flags, qd = struct.unpack_from("!HHH", buf, 0)
    if flags & 0x8000:
        return []
    pos = 12
    out = []
    for _ in range(qd):
        name, pos = read_name(buf, pos)
        qtype, qclass = struct.unpack_from("!HH", buf, pos)
        pos += 4
        out.append((name.lower(), qtype, bool(qclass & 0x8000)))
    return out


def _rr(name, rtype, rclass, ttl, rdata):
    return encode_name(name) + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def _txt(items):
    out = bytearray()
    for k, v in items:
        b = ("%s=%s" % (k, v)).encode()
        out.append(len(b))
        out += b
    return bytes(out)


class Responder:
    """Answers for one instance ``<name>._esphomelib._tcp.local`` at ``ip``:``port``."""

    def __init__(self, net, name, port, txt):
        self._net = net
        self._name = name
        self._port = port
        self._txt = txt
        self._sock = None
        self._task = None
        self.instance = "%s.%s" % (name, _SERVICE)
        self.host = "%s.local" % name

    def response(self, ttl_scale=1):
        """The full answer packet; ``ttl_scale=0`` makes the goodbye."""
        ip = bytes(int(x) for x in self._net.ip.split("."))
        srv = struct.pack("!HHH", 0, 0, self._port) + encode_name(self.host)
        answers = (
            _rr(_SERVICE, _T_PTR, _CLASS_IN, _TTL_OTHER * ttl_scale, encode_name(self.instance)),
            _rr(self.instance, _T_SRV, _CLASS_IN | _FLUSH, _TTL_HOST * ttl_scale, srv),
            _rr(self.instance, _T_TXT, _CLASS_IN | _FLUSH, _TTL_OTHER * ttl_scale, _txt(self._txt)),
            _rr(self.host, _T_A, _CLASS_IN | _FLUSH, _TTL_HOST * ttl_scale, ip),
        )
        return struct.pack("!HHHHHH", 0, 0x8400, 0, len(answers), 0, 0) + b"".join(answers)

    def wants_us(self, questions):
        for name, qtype, _qu in questions:
            if name == _SERVICE and qtype in (_T_PTR, _T_ANY):
                return True
            if name == _META and qtype in (_T_PTR, _T_ANY):
                return True
            if name == self.instance.lower() and qtype in (_T_SRV, _T_TXT, _T_ANY):
                return True
            if name == self.host.lower() and qtype in (_T_A, _T_ANY):
                return True
        return False

    async def start(self):
        self._sock = self._net.mdns_socket(_GROUP, _PORT)
        self._task = asyncio.create_task(self._run())

    def set_txt(self, txt):
        """New TXT records (e.g. after adoption), announced at once."""
        self._txt = txt
        if self._sock is not None:
            self._send(self.response(), (_GROUP, _PORT))

    async def stop(self):
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._sock is not None:
            self._send(self.response(ttl_scale=0), (_GROUP, _PORT))
            self._sock.close()
            self._sock = None

    def _send(self, packet, addr):
        try:
            self._sock.sendto(packet, self._net.sockaddr(addr))
        except OSError as err:
            log(DEBUG, "mdns: send failed: %s", err)

    async def _run(self):
        for delay_ms in (0, 1000, 2000):
            await asyncio.sleep_ms(delay_ms)
            self._send(self.response(), (_GROUP, _PORT))
        log(INFO, "mdns: announced %s", self.instance)
        while True:
            await self._net.wait_readable(self._sock)
            try:
                buf, src = self._sock.recvfrom(1500)
            except OSError:
                continue
            try:
                questions = parse_questions(buf)
            except (ValueError, IndexError, UnicodeError):
                log(DEBUG, "mdns: ignored a malformed packet")
                continue
            if not self.wants_us(questions):
                continue
            self._send(self.response(), (_GROUP, _PORT))
            if any(qu for _n, _t, qu in questions):
                self._send(self.response(), src)
