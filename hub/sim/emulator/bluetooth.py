"""The bluetooth_proxy side of the emulator: a bounded advertisement queue, ESPHome's batches."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any, Final

from aioesphomeapi import api_pb2 as _api_pb2

from hub.sim.signals import RawAdvertisement

api_pb2: Any = _api_pb2  # classes are generated at import time: mypy cannot see them

BATCH_SIZE: Final = 16
"""``BLUETOOTH_PROXY_ADVERTISEMENT_BATCH_SIZE`` in ESPHome's bluetooth_proxy/__init__.py."""
FLUSH_INTERVAL_S: Final = 0.1
"""``BluetoothProxy::loop`` flushes accumulated advertisements every 100 ms."""
QUEUE_LIMIT: Final = 4096
"""Advertisements held while the link is slow; older ones are dropped past this (~80 s at 50/s)."""
FEATURE_FLAGS: Final = 1 | 32 | 64
"""PASSIVE_SCAN | RAW_ADVERTISEMENTS | FEATURE_STATE_AND_MODE, as a passive ESPHome proxy."""
SCANNER_STATE_RUNNING: Final = 2
SCANNER_MODE_PASSIVE: Final = 0


class AdvertisementQueue:
    """Advertisements waiting to be sent; drops the oldest when full and counts them."""

    __slots__ = ("_queue", "dropped")

    def __init__(self, limit: int = QUEUE_LIMIT) -> None:
        if limit < BATCH_SIZE:
            raise ValueError(f"advertisement queue limit must be >= {BATCH_SIZE}, got {limit}")
        self._queue: deque[RawAdvertisement] = deque(maxlen=limit)
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._queue)

    def extend(self, adverts: Iterable[RawAdvertisement]) -> None:
        """Queue advertisements, dropping the oldest past the limit."""
        queue = self._queue
        limit = queue.maxlen or 0
        for advert in adverts:
            if len(queue) == limit:
                self.dropped += 1
            queue.append(advert)

    def clear(self) -> None:
        """Forget everything queued (nobody subscribed: ESPHome does not keep them)."""
        self._queue.clear()

    def take_batch(self, full_only: bool) -> Any | None:
        """One ``BluetoothLERawAdvertisementsResponse`` of up to 16, or None (none or not full)."""
        queue = self._queue
        if not queue or (full_only and len(queue) < BATCH_SIZE):
            return None
        msg = api_pb2.BluetoothLERawAdvertisementsResponse()
        add = msg.advertisements.add
        for _ in range(min(BATCH_SIZE, len(queue))):
            advert = queue.popleft()
            add(
                address=advert.address,
                rssi=advert.rssi,
                address_type=advert.address_type,
                data=advert.data,
            )
        return msg


def scanner_state() -> Any:
    """What ``BluetoothProxy::subscribe_api_connection`` sends first: a running passive scanner."""
    return api_pb2.BluetoothScannerStateResponse(
        state=SCANNER_STATE_RUNNING,
        mode=SCANNER_MODE_PASSIVE,
        configured_mode=SCANNER_MODE_PASSIVE,
    )
