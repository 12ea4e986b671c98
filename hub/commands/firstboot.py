"""``homehub firstboot``: import and apply the boot partition's homehub.toml (run as root)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

_LOGGER = logging.getLogger(__name__)


def register(sub: Any) -> None:
    """Add the ``firstboot`` and ``check-config`` commands."""
    parser = sub.add_parser("firstboot", help="apply homehub.toml from the boot partition")
    parser.add_argument("--root", type=Path, default=Path("/"), help="system root to apply to")
    parser.add_argument("--boot", type=Path, default=Path("/boot/firmware"), help="boot partition")
    parser.add_argument(
        "--state", type=Path, default=Path("/var/lib/homehub"), help="persistent data partition"
    )
    parser.set_defaults(func=_firstboot)
    check = sub.add_parser("check-config", help="validate a homehub.toml as first boot would")
    check.add_argument("file", type=Path)
    check.set_defaults(func=_check)


def _firstboot(args: argparse.Namespace) -> int:
    from hub.firstboot import Layout, run_firstboot  # noqa: PLC0415

    logging.getLogger("hub").setLevel(logging.INFO)
    result = run_firstboot(Layout(root=args.root, boot_dir=args.boot, state_dir=args.state))
    for line in result["applied"]:
        print(f"homehub-firstboot: {line}")
    # errors were logged; the boot must go on, so the exit code stays 0
    print(f"homehub-firstboot: {'ok' if result['ok'] else 'FAILED, see errors above'}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from hub.config import load_config  # noqa: PLC0415
    from hub.firstboot import validate  # noqa: PLC0415

    validate(load_config(args.file))
    print(f"{args.file}: ok")
    return 0
