"""``homehub doctor``: check a kit and say what to fix; ``--serve`` shows it on the web page."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = Path("/etc/homehub/homehub.toml")


def register(sub: Any) -> None:
    """Add the ``doctor`` command."""
    parser = sub.add_parser("doctor", help="check clock, sensors, disk, keys and delivery")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="hub configuration")
    parser.add_argument(
        "--firstboot-result",
        type=Path,
        default=None,
        help="first-boot record (default: /var/lib/homehub/firstboot.json)",
    )
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.add_argument(
        "--serve",
        metavar="PORT",
        type=int,
        default=None,
        help="serve the checks on the status page instead (used while the hub cannot start)",
    )
    parser.set_defaults(func=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    from hub.doctor import FIRSTBOOT_RESULT, Level, format_report, run_checks  # noqa: PLC0415

    result = args.firstboot_result or FIRSTBOOT_RESULT
    if args.serve is not None:
        return _serve(args.config, result, args.serve)
    checks = run_checks(args.config, firstboot_result=result)
    if args.json:
        print(json.dumps([c.as_dict() for c in checks], indent=2))
    else:
        print(format_report(checks))
    return 1 if any(c.level is Level.FAIL for c in checks) else 0


def _serve(config: Path, result: Path, port: int) -> int:
    from aiohttp import web  # noqa: PLC0415

    from hub.doctor import DoctorStatus  # noqa: PLC0415
    from hub.web import create_app  # noqa: PLC0415

    web.run_app(create_app(DoctorStatus(config, result)), port=port, print=None)
    return 0
