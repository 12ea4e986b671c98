"""Push sealed summaries to an S3-compatible bucket (AWS Signature V4 over aiohttp), and read
them back for researchers.

Objects are ``<prefix><participant>/<participant>_<date>.summary.age`` and its ``.sig``. The
``.age`` goes up first, the ``.sig`` last, and only then is the pair marked delivered; a reader
takes a pair only when both objects exist. Everything pushed is already sealed, so the bucket
never holds anything readable without a researcher identity (privacy invariant 3).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import quote
from xml.etree import ElementTree as ET

import aiohttp
from yarl import URL

from hub.config import DeliveryConfig
from hub.delivery.outbox import Outbox
from hub.errors import ConfigError, DeliveryAuthError, DeliveryError
from hub.summary.seal import SUFFIX

_LOGGER = logging.getLogger(__name__)

REQUEST_TIMEOUT_S: Final = 60.0
"""One object is a few KB; a minute allows for a slow uplink without hanging forever."""
_S3_NS: Final = "{http://s3.amazonaws.com/doc/2006-03-01/}"
_UNSIGNED: Final = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True, slots=True)
class S3Target:
    """Where and as whom to write; ``secret_key`` is never logged or shown."""

    endpoint: str
    """Base URL, e.g. ``https://s3.example.org`` (path-style addressing is used)."""
    bucket: str
    access_key: str
    secret_key: str = field(repr=False)
    region: str = "us-east-1"
    """SigV4 signing region; S3-compatible stores accept the default."""
    prefix: str = ""
    """Key prefix inside the bucket, e.g. ``cohort-a/``."""

    @classmethod
    def from_config(cls, config: DeliveryConfig) -> S3Target | None:
        """The configured bucket, or None when push is off (no endpoint)."""
        if not config.s3_endpoint:
            return None
        return cls(config.s3_endpoint, config.s3_bucket, config.s3_access_key, config.s3_secret_key)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"https?://[^/\s]+/?", self.endpoint):
            raise ConfigError(f"delivery.s3_endpoint {self.endpoint!r}: expected http(s)://host")
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", self.bucket):
            raise ConfigError(f"delivery.s3_bucket {self.bucket!r}: not an S3 bucket name")
        if not self.access_key or not self.secret_key:
            raise ConfigError("delivery.s3_access_key and s3_secret_key must both be set")


class S3Client:
    """The few S3 calls delivery needs, signed with SigV4; the session is the caller's."""

    def __init__(self, target: S3Target, session: aiohttp.ClientSession) -> None:
        self.target = target
        self._session = session

    async def create_bucket(self) -> None:
        """Create the bucket (a cohort's set-up step; the hub itself never needs it)."""
        await self._request("PUT", "")

    async def put(self, key: str, data: bytes) -> None:
        """Store one object."""
        await self._request("PUT", key, body=data)

    async def get(self, key: str) -> bytes:
        """Read one object."""
        return await self._request("GET", key)

    async def list(self, prefix: str) -> list[str]:
        """Every key under ``prefix`` (all pages)."""
        keys: list[str] = []
        token: str | None = None
        while True:
            query = {"list-type": "2", "prefix": prefix}
            if token:
                query["continuation-token"] = token
            body = await self._request("GET", "", query=query)
            root = ET.fromstring(body)  # noqa: S314 - our own server's reply, no DTDs in it
            keys += [el.text or "" for el in root.iter(f"{_S3_NS}Key")]
            token = root.findtext(f"{_S3_NS}NextContinuationToken")
            if root.findtext(f"{_S3_NS}IsTruncated") != "true" or not token:
                return keys

    async def _request(
        self, method: str, key: str, *, body: bytes = b"", query: dict[str, str] | None = None
    ) -> bytes:
        path = "/" + quote(self.target.bucket) + ("/" + quote(key, safe="/~") if key else "")
        query_string = "&".join(
            f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
            for k, v in sorted((query or {}).items())
        )
        url = URL(self.target.endpoint.rstrip("/") + path, encoded=True)
        if query_string:
            url = URL(f"{url}?{query_string}", encoded=True)
        headers = sign(self.target, method, url, path=path, query=query_string, body=body)
        try:
            async with self._session.request(
                method,
                url,
                data=body if method == "PUT" else None,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            ) as response:
                data = await response.read()
        except (aiohttp.ClientError, TimeoutError) as err:
            msg = f"s3 {method} {key or self.target.bucket}: {type(err).__name__}: {err}"
            raise DeliveryError(msg) from err
        if response.status >= 300:
            code = _error_code(data)
            msg = f"s3 {method} {key or self.target.bucket}: HTTP {response.status} {code}"
            if response.status in {401, 403}:
                raise DeliveryAuthError(msg)
            raise DeliveryError(msg)
        return data


def sign(
    target: S3Target,
    method: str,
    url: URL,
    *,
    path: str,
    query: str,
    body: bytes,
    now: dt.datetime | None = None,
) -> dict[str, str]:
    """SigV4 headers for one request (host, date, payload hash, Authorization)."""
    now = now or dt.datetime.now(dt.UTC)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload = hashlib.sha256(body).hexdigest() if body else _UNSIGNED
    host = url.raw_authority
    headers = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
    signed = ";".join(sorted(headers))
    canonical = "\n".join(
        [method, path, query, *(f"{k}:{headers[k]}" for k in sorted(headers)), "", signed, payload]
    )
    scope = f"{day}/{target.region}/s3/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + target.secret_key).encode()
    for part in (day, target.region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={target.access_key}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
    del headers["host"]  # aiohttp sends the same Host itself
    return headers


def object_key(target: S3Target, file_name: str) -> str:
    """``<prefix><participant>/<file>`` for an outbox file name."""
    participant = file_name.rsplit("_", 1)[0]
    return f"{target.prefix}{participant}/{file_name}"


class S3Pusher:
    """Pushes every pending outbox pair, ``.sig`` last, then marks it delivered."""

    def __init__(self, outbox: Outbox, client: S3Client) -> None:
        self.outbox = outbox
        self.client = client

    async def push_pending(self) -> int:
        """Push what is pending; the number of pairs delivered. Raises on the first failure,
        leaving that pair and later ones in the outbox for the next attempt."""
        pending = await asyncio.to_thread(self.outbox.pending)
        for age in pending:
            sig = age.with_name(age.name + ".sig")
            ciphertext, signature = await asyncio.to_thread(_read_pair, age, sig)
            await self.client.put(object_key(self.client.target, age.name), ciphertext)
            await self.client.put(object_key(self.client.target, sig.name), signature)
            await asyncio.to_thread(self.outbox.mark_delivered, age)
            _LOGGER.info("delivered %s to the bucket", age.name)
        return len(pending)


async def pull_keys(client: S3Client, prefix: str) -> list[str]:
    """Keys of the ``.age`` objects under ``prefix`` whose ``.sig`` is there too."""
    keys = set(await client.list(prefix))
    return sorted(k for k in keys if k.endswith(SUFFIX) and k + ".sig" in keys)


def _read_pair(age: Path, sig: Path) -> tuple[bytes, bytes]:
    return age.read_bytes(), sig.read_bytes()


def _error_code(body: bytes) -> str:
    try:
        return ET.fromstring(body).findtext("Code") or ""  # noqa: S314 - error document
    except ET.ParseError:
        return ""
