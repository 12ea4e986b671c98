"""The ``homehub`` command: parses arguments and hands off to one module per command group.

Each command module in ``hub/commands`` exposes ``register(subparsers)``; heavy imports happen
inside the command functions so ``homehub --help`` stays fast on a Pi.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from hub import __version__
from hub.errors import HubError

COMMAND_MODULES = ("run", "demo", "research", "audio", "sensor", "doctor", "firstboot")
"""Modules under ``hub.commands``; a missing one is skipped so partial installs still start."""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(prog="homehub", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"homehub {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"hub.commands.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"hub.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        code: int = args.func(args)
    except HubError as err:
        print(f"homehub: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code
