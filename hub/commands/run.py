"""``homehub run``: the appliance's service."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = Path("/etc/homehub/homehub.toml")

_LOGGER = logging.getLogger(__name__)


def register(sub: Any) -> None:
    """Add the ``run`` command."""
    parser = sub.add_parser("run", help="run the hub service (reads a configuration file)")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="homehub.toml")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the configuration and run until SIGTERM or SIGINT."""
    from hub.config import load_config  # noqa: PLC0415

    config = load_config(args.config)
    asyncio.run(_serve(config))
    return 0


async def _serve(config: Any) -> None:
    from hub.app import Hub  # noqa: PLC0415
    from hub.clock import SystemClock  # noqa: PLC0415
    from hub.sensing.audio import load_default_classifier  # noqa: PLC0415

    hub = Hub(config, clock=SystemClock(), classifier_factory=load_default_classifier)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await hub.start()
    web = await _start_web(hub, config)
    _LOGGER.warning("homehub running; data in %s", config.data_dir)
    try:
        await stop.wait()
    finally:
        if web is not None:
            await web.cleanup()
        await hub.stop()


async def _start_web(hub: Any, config: Any) -> Any:
    """The local status page, when the web module is installed."""
    try:
        from aiohttp import web  # noqa: PLC0415

        from hub.web import create_app  # noqa: PLC0415
    except ImportError:
        return None
    from hub.doctor import WithFirstBoot  # noqa: PLC0415

    runner = web.AppRunner(create_app(WithFirstBoot(_HubStatus(hub))))
    await runner.setup()
    site = web.TCPSite(runner, config.web.host, config.web.port)
    with contextlib.suppress(OSError):
        await site.start()
        return runner
    _LOGGER.warning("web page: cannot listen on %s:%s", config.web.host, config.web.port)
    return runner


class _HubStatus:
    def __init__(self, hub: Any) -> None:
        self._hub = hub

    def snapshot(self) -> dict[str, object]:
        status: dict[str, object] = self._hub.status()
        return status
