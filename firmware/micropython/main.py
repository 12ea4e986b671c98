"""The BLE-only room sensor: scans, batches advertisements, serves them over the ESPHome API.

On the unix port: ``micropython main.py [path/to/sensor.json]``.
"""

import asyncio
import sys

import api
import config
import hw
import mdns
from adqueue import AdQueue
from log import INFO, WARNING, log

VERSION = "0.1.0"
# ESPHome's bluetooth_proxy sends at most 16 advertisements per raw batch.
BATCH_MAX = 16
SERVICE_TXT_VERSION = "2026.6.0"


class Sensor:
    """Wires radio -> bounded queue -> batches -> API clients, plus the mDNS announcement."""

    def __init__(self, cfg, board):
        self.cfg = cfg
        self.board = board
        self.queue = AdQueue(cfg.queue)
        self.batches = 0
        info = {
            "name": cfg.name,
            "mac": board.mac,
            "version": SERVICE_TXT_VERSION,
            "model": board.model,
            "room": cfg.room,
            "friendly_name": cfg.name,
            "project_name": "homehub.ble-sensor",
            "project_version": VERSION,
        }
        self.api = api.ApiServer(cfg, info, on_new_key=self._announce_keyed)
        self.mdns = mdns.Responder(board.net, cfg.name, cfg.port, self._txt())
        self._flusher = None

    def _txt(self):
        # As ESPHome: "api_encryption" once keyed, "api_encryption_supported" while adoptable.
        key = "api_encryption" if self.cfg.psk != config.ZERO_PSK else "api_encryption_supported"
        return (
            ("friendly_name", self.cfg.name),
            ("version", SERVICE_TXT_VERSION),
            ("mac", self.board.mac.replace(":", "").lower()),
            ("platform", "ESP32"),
            ("network", "wifi"),
            (key, "Noise_NNpsk0_25519_ChaChaPoly_SHA256"),
            ("project_name", "homehub.ble-sensor"),
            ("project_version", VERSION),
        )

    def _announce_keyed(self):
        self.mdns.set_txt(self._txt())

    def on_adv(self, addr, addr_type, rssi, data):
        """Radio callback: keep only what the batch needs; never blocks."""
        if not self.api.has_subscribers():
            return
        self.queue.push((int.from_bytes(addr, "big"), addr_type, rssi, data))

    async def _flush(self):
        while True:
            await asyncio.sleep_ms(self.cfg.batch_ms)
            while len(self.queue):
                await self.api.publish(self.queue.pop_many(BATCH_MAX))
                self.batches += 1

    async def start(self):
        await self.api.start("0.0.0.0", self.cfg.port)
        try:
            await self.mdns.start()
        except OSError as err:
            # Still serve the API: the hub can be pointed at the address by hand.
            log(WARNING, "mdns: cannot announce (%s); the hub will not discover this sensor", err)
        self.board.radio.start(self.on_adv)
        self._flusher = asyncio.create_task(self._flush())
        log(INFO, "sensor %s: serving on port %d", self.cfg.name, self.cfg.port)

    async def stop(self):
        self.board.radio.stop()
        if self._flusher is not None:
            self._flusher.cancel()
        await self.mdns.stop()
        await self.api.stop()


async def run(path):
    cfg = config.load(path)
    board = await hw.board(cfg)
    sensor = Sensor(cfg, board)
    await sensor.start()
    await asyncio.Event().wait()  # runs until reset; the tasks do the work


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else config.DEFAULT_PATH
    try:
        asyncio.run(run(path))
    except config.ConfigError as err:
        log(WARNING, "config: %s", err)
        _stop(2)
    except OSError as err:
        log(WARNING, "sensor stopped: %s", err)
        _stop(1)


def _stop(code):
    # On a board, SystemExit from main.py soft-resets into main.py again; returning leaves the
    # REPL free for `homehub sensor provision`. The unix port reports the code to its caller.
    if sys.platform == "linux":
        sys.exit(code)


main()
