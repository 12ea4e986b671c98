"""The bill of materials adds up: line totals, per-device totals and the 4-room kit totals."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

BOM = Path(__file__).resolve().parents[2] / "hardware" / "bom.md"
KIT_BUDGET = 200.0


def sections() -> dict[str, list[list[str]]]:
    """Table rows (cells) under each ``##`` heading."""
    out: dict[str, list[list[str]]] = {}
    current = ""
    for line in BOM.read_text().splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            out[current] = []
        elif line.startswith("|") and not line.startswith("|---") and current:
            out[current].append([c.strip().strip("*") for c in line.strip("|").split("|")])
    return out


def money(cell: str) -> float:
    return float(re.sub(r"[^\d.]", "", cell))


@pytest.mark.parametrize("section", ["Hub kit", "Room sensor", "BLE-only sensor"])
def test_device_totals(section: str) -> None:
    rows = sections()[next(k for k in sections() if k.startswith(section))][1:]
    items = [r for r in rows if not r[0].endswith("total")]
    [total] = [r for r in rows if r[0].endswith("total")]
    for r in items:
        assert money(r[4]) == pytest.approx(float(r[2]) * money(r[3]), abs=0.005), r
    assert money(total[4]) == pytest.approx(sum(money(r[4]) for r in items), abs=0.005)


def device_total(section: str) -> float:
    rows = sections()[next(k for k in sections() if k.startswith(section))]
    return money(next(r for r in rows if r[0].endswith("total"))[4])


def test_four_room_kit_adds_up_and_fits_the_budget() -> None:
    rows = sections()["Kit for a typical 4-room home"][1:]
    table = {r[0]: r for r in rows}
    hub, room, ble = device_total("Hub kit"), device_total("Room sensor"), device_total("BLE-only")
    assert money(table["room sensor"][2]) == pytest.approx(2 * room)
    assert money(table["BLE-only sensor"][2]) == pytest.approx(2 * ble)
    kit = money(table["kit total"][2])
    assert kit == pytest.approx(hub + 2 * room + 2 * ble)
    assert money(table["kit total with tags"][2]) == pytest.approx(kit + 16.0)
    assert kit + 16.0 < KIT_BUDGET
    text = BOM.read_text()
    all_rooms = hub + 4 * room
    assert f"**{all_rooms:.2f}**" in text
    assert all_rooms + 16.0 < KIT_BUDGET
