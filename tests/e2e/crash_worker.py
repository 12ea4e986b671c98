"""A hub on a very fast clock with no sensors, sealing a day every few seconds until killed.

Run by ``test_crash.py`` as a subprocess: ``python -m tests.e2e.crash_worker DATA_DIR RECIPIENT``.
It resumes from the newest stored minute, as the appliance does after a pulled plug.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from hub.app import Hub
from hub.clock import SimClock
from hub.config import HubConfig, MemberConfig, StudyConfig
from hub.store import Store

START = 1_767_225_600  # 2026-01-01T00:00Z
SPEED = 20_000.0


async def main(data_dir: Path, recipient: str) -> None:
    store = Store(data_dir)
    last = store.last_minute()
    store.close()
    start = START if last is None else last + 60
    config = HubConfig(
        data_dir=str(data_dir),
        day_close_grace_min=1,
        study=StudyConfig(participant_id="crash", recipients=(recipient,), consent_on_hub=False),
        members=(MemberConfig("member-1"),),
    )
    hub = Hub(config, clock=SimClock(start, SPEED), clock_synchronised=lambda: True)
    await hub.start()
    print("started", start, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))
