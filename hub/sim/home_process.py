"""The virtual home's side of the demo, run as its own process: scenario engine + emulators.

``python -m hub.sim.home_process --start T --end T --speed X`` starts one emulated ESPHome
sensor per scenario sensor on 127.0.0.1 (announced on mDNS, unadopted so the hub adopts them),
prints ``ready``, reads the clock's anchor (the wall time at which home time is ``--start``) from
standard input, and feeds each sensor what it hears on the shared compressed clock until
``--end`` or SIGTERM. Running apart from the hub keeps the scenario's work off the hub's
event loop and uses the second core, as real sensors would be separate machines.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Final

from zeroconf.asyncio import AsyncZeroconf

from hub.clock import SimClock
from hub.sim.emulator import EmulatedSensor
from hub.sim.home import VirtualHome
from hub.sim.scenario import load_scenario

DRIVE_INTERVAL_S: Final = 0.05
"""Real seconds between pushes of advertisements and audio to the emulators."""
AUDIO_SECONDS_PER_MINUTE: Final = 2
"""Seconds of real PCM each microphone streams per simulated minute (the demo's duty cycle)."""


def replica_name(sensor: str, i: int) -> str:
    """Name of the i-th extra BLE-only sensor placed beside ``sensor`` (load tests)."""
    return f"{sensor}-b{i}"


async def drive(
    home: VirtualHome,
    emulators: dict[str, tuple[EmulatedSensor, str]],
    clock: SimClock,
    end: float,
    stop: asyncio.Event,
) -> None:
    """Feed each emulator what its scenario sensor hears, on home time, until ``end``."""
    mics = {s.name: s.room for s in home.sensors if s.has_microphone}
    last = clock.now()
    next_audio = {name: last // 60 * 60 + 60 for name, (_, src) in emulators.items() if src == name}
    while (now := clock.now()) < end and not stop.is_set():
        for name, (emulator, source) in emulators.items():
            if not home.sensor_up(source, now):
                await emulator.stop()
                continue
            await emulator.start()
            emulator.queue_advertisements(home.advertisements(source, last, now))
            if source in mics and name in next_audio and now >= next_audio[name]:
                minute = now // 60 * 60
                pcm = home.audio(mics[source], minute, minute + AUDIO_SECONDS_PER_MINUTE)
                emulator.feed_audio(pcm.astype("<i2").tobytes())
                next_audio[name] = minute + 60
        last = now
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), DRIVE_INTERVAL_S)


async def serve(args: argparse.Namespace) -> None:
    """Start the emulators, say ready, drive them, stop them."""
    home = VirtualHome(load_scenario(args.scenario), seed=args.seed, audio_dir=args.audio_dir)
    pace = SimClock(args.start, args.speed)  # emulators only read its speed (uptime, states)
    zc = AsyncZeroconf(interfaces=["127.0.0.1"])
    emulators: dict[str, tuple[EmulatedSensor, str]] = {}
    for s in home.sensors:
        emulators[s.name] = (
            EmulatedSensor(s.name, mac=s.mac, psk=None, zeroconf=zc, clock=pace),
            s.name,
        )
    for i in range(args.extra_sensors):
        source = home.sensors[i % len(home.sensors)]
        name = replica_name(source.name, i)
        mac = f"24:0a:c4:ff:{i // 256:02x}:{i % 256:02x}"
        emulator = EmulatedSensor(
            name, mac=mac, psk=None, zeroconf=zc, clock=pace, voice_assistant=False
        )
        emulators[name] = (emulator, source.name)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    try:
        for emulator, _ in emulators.values():
            await emulator.start()
        print("ready", flush=True)
        line = await loop.run_in_executor(None, sys.stdin.readline)
        clock = SimClock(args.start, args.speed, anchor=float(line))
        await drive(home, emulators, clock, args.end, stop)
    finally:
        for emulator, _ in emulators.values():
            await emulator.stop()
        await zc.async_close()


def main() -> None:
    """Parse the arguments the demo passes and serve."""
    parser = argparse.ArgumentParser(prog="python -m hub.sim.home_process")
    parser.add_argument("--start", type=float, required=True)
    parser.add_argument("--end", type=float, required=True)
    parser.add_argument("--speed", type=float, required=True)
    parser.add_argument("--scenario", type=Path)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--audio-dir", type=Path)
    parser.add_argument("--extra-sensors", type=int, default=0)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
