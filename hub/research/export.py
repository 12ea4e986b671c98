"""Summaries as one table: a row per home per day, nested fields flattened to dotted columns.

``members.member-1.sleep.duration_min`` is a column; a list (visits, away episodes) becomes a
count column and a JSON text column, so nothing is lost and the table stays rectangular.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from hub.errors import ConfigError

Cell = str | int | float | bool | None

LEAD_COLUMNS: Final = ("participant_id", "date", "hub_id", "timezone", "generated_at", "schema")
"""Key columns first; the rest follow in sorted order."""


def flatten(summary: Mapping[str, Any], prefix: str = "") -> dict[str, Cell]:
    """Dotted column -> value for one summary."""
    row: dict[str, Cell] = {}
    for key, value in summary.items():
        column = f"{prefix}{key}"
        if isinstance(value, Mapping):
            row.update(flatten(value, column + "."))
        elif isinstance(value, list):
            row[column + ".count"] = len(value)
            row[column] = json.dumps(value, sort_keys=True, separators=(",", ":"))
        else:
            row[column] = value
    return row


def table(summaries: Iterable[Mapping[str, Any]]) -> tuple[list[str], list[dict[str, Cell]]]:
    """Columns (key columns first) and rows sorted by participant and date."""
    rows = sorted(
        (flatten(s) for s in summaries),
        key=lambda r: (str(r.get("participant_id")), str(r.get("date"))),
    )
    names = {c for row in rows for c in row}
    columns: list[str] = [c for c in LEAD_COLUMNS if c in names]
    columns += sorted(names - set(LEAD_COLUMNS))
    return columns, rows


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, Cell]]) -> None:
    """UTF-8 CSV with a header; absent values are empty cells."""
    try:
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=list(columns), restval="")
            writer.writeheader()
            writer.writerows(rows)
    except OSError as err:
        raise ConfigError(f"{path}: cannot write the CSV: {err.strerror}") from err


def write_parquet(path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, Cell]]) -> None:
    """Parquet (needs the ``research`` extra: pyarrow); integer columns stay integers."""
    try:
        import pyarrow as pa  # noqa: PLC0415 - optional, heavy: only for this output
        import pyarrow.parquet as pq  # noqa: PLC0415
    except ImportError as err:
        msg = "Parquet output needs pyarrow: pip install 'homehub[research]'"
        raise ConfigError(msg) from err
    arrays = {}
    for column in columns:
        values = [row.get(column) for row in rows]
        # a number column that mixes 0 and 0.5 must be float, not a type error
        if any(isinstance(v, float) for v in values):
            values = [float(v) if isinstance(v, int) else v for v in values]
        arrays[column] = pa.array(values)
    try:
        pq.write_table(pa.table(arrays), path)
    except OSError as err:
        raise ConfigError(f"{path}: cannot write the Parquet file: {err}") from err
