"""The push service: keeps the outbox empty by pushing to the cohort's bucket, retrying with
capped backoff while the network or the bucket is away."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from enum import Enum

import aiohttp

from hub.clock import Clock
from hub.delivery.outbox import Outbox
from hub.delivery.s3 import S3Client, S3Pusher, S3Target
from hub.errors import DeliveryAuthError, DeliveryError
from hub.reconnect import Backoff

_LOGGER = logging.getLogger(__name__)


class PushState(Enum):
    """Lifecycle."""

    STOPPED = "stopped"
    RUNNING = "running"


class PushService:
    """Pushes pending summaries at start, after each ``notify()``, and after failures."""

    def __init__(
        self, outbox: Outbox, target: S3Target, *, clock: Clock, backoff: Backoff | None = None
    ) -> None:
        self.outbox = outbox
        self.target = target
        self.state = PushState.STOPPED
        self.delivered = 0
        self.last_error: str | None = None
        self.idle = asyncio.Event()
        """Set while nothing is pending and no push is under way (tests and status wait on it)."""
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Start pushing (what is pending now goes first)."""
        async with self._lock:
            if self.state is PushState.RUNNING:
                return
            self._session = aiohttp.ClientSession()
            self._wake.set()
            self._task = asyncio.create_task(self._run(), name="s3-push")
            self.state = PushState.RUNNING

    async def stop(self) -> None:
        """Stop; an upload under way is abandoned and its pair stays pending."""
        async with self._lock:
            if self.state is PushState.STOPPED:
                return
            assert self._task is not None and self._session is not None
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            await self._session.close()
            self._task = self._session = None
            self.state = PushState.STOPPED

    def notify(self) -> None:
        """A sealed summary was put in the outbox."""
        self.idle.clear()
        self._wake.set()

    async def _run(self) -> None:
        assert self._session is not None
        pusher = S3Pusher(self.outbox, S3Client(self.target, self._session))
        while True:
            await self._wake.wait()
            self._wake.clear()
            self.idle.clear()
            try:
                self.delivered += await pusher.push_pending()
            except DeliveryError as err:
                delay = self._backoff.next_delay(auth_failed=isinstance(err, DeliveryAuthError))
                log = _LOGGER.warning if self.last_error is None else _LOGGER.debug
                log("push failed (retry in %.0f s): %s", delay, err)
                self.last_error = str(err)
                await self._clock.sleep(delay)
                self._wake.set()
                continue
            self._backoff.reset()
            self.last_error = None
            if not self._wake.is_set():
                self.idle.set()
