"""The hub process over a simulated day with 8 emulated sensors: bytes written, CPU, RSS, wall.

Runs ``homehub demo`` in a subprocess (5 scenario sensors + 3 BLE-only replicas) and prints the
hub process's own figures from its report. Figures, not timed asserts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(600)]


def test_hub_day_with_eight_sensors(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "hub",
            "demo",
            "--hours",
            "24",
            "--extra-sensors",
            "3",
            "--out",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    report = json.loads((tmp_path / "report.json").read_text())
    hub = report["hub"]
    print(
        "\nhub with 8 emulated sensors, per simulated day: "
        f"{hub['bytes_written_per_day'] / 1e6:.3f} MB written to disk, "
        f"peak RSS {hub['peak_rss_mb']} MB, {hub['cpu_s_per_day']} s CPU, "
        f"wall {hub['wall_s_per_day']} s (room accuracy {report['room_accuracy']})"
    )
    assert hub["peak_rss_mb"] > 0
