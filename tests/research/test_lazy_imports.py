"""``homehub --help`` and the research parser load no crypto or table libraries (Pi start-up)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pyrage", "pyarrow", "cryptography", "aiohttp", "hub.research.collect", "hub.delivery")


def test_building_the_parser_imports_nothing_heavy() -> None:
    code = (
        "import sys, hub.cli; hub.cli.build_parser(); "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    # the check can fail: running a research command does load them
    code = (
        "import sys, hub.research.collect; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pyrage" in out.stdout
