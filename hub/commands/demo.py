"""``homehub demo``: a simulated day in a virtual home, scored against its ground truth."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    """Add the ``demo`` command."""
    parser = sub.add_parser(
        "demo",
        help="run a virtual home with emulated sensors and a real hub",
        description=(
            "Runs a virtual home (emulated ESPHome sensors over real sockets and mDNS on "
            "127.0.0.1) and a real hub on a compressed clock, seals the day, decrypts it with "
            "the demo's researcher identity and prints it beside the ground truth."
        ),
    )
    parser.add_argument("--scenario", type=Path, help="scenario TOML (default: the built-in home)")
    parser.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    parser.add_argument(
        "--hours", type=float, default=28.0, help="simulated hours, from 20:00 the evening before"
    )
    parser.add_argument("--speed", type=float, default=800.0, help="home seconds per real second")
    parser.add_argument("--out", type=Path, default=Path("demo-out"), help="output directory")
    parser.add_argument(
        "--audio-dir", type=Path, help="real audio clips (default: ../shared/data/audio)"
    )
    parser.add_argument(
        "--extra-sensors", type=int, default=0, help="BLE-only sensors to add (load tests)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo."""
    from hub.sim.demo import DemoOptions, main  # noqa: PLC0415 - heavy imports

    return main(
        DemoOptions(
            out=args.out,
            scenario=args.scenario,
            seed=args.seed,
            hours=args.hours,
            speed=args.speed,
            audio_dir=args.audio_dir,
            extra_sensors=args.extra_sensors,
        )
    )
