"""The summary schema: the builder's output passes, every kind of damage is named by path,
and ``schema.json`` says the same as the TypedDicts."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin, get_type_hints, is_typeddict

import pytest

from hub.errors import SchemaError
from hub.sensing.audio.classes import CLASSES
from hub.summary import schema
from hub.summary.build import summary_bytes

from .factories import make_summary

SCHEMA_JSON = Path(schema.__file__).with_name("schema.json")


def _damaged(path: str, value: Any) -> dict[str, Any]:
    """A valid summary with the field at dotted ``path`` set to ``value`` (``...`` deletes it)."""
    summary = copy.deepcopy(make_summary())
    *parents, last = path.split(".")
    node: Any = summary
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return summary


def test_the_builders_summary_is_valid_and_round_trips() -> None:
    summary = make_summary()
    assert schema.validate(summary) is summary
    assert schema.parse(summary_bytes(summary)) == summary


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("members.member-1.sleep.onset", "last night", "expected ISO time with UTC offset or null"),
        ("members.member-1.sleep.onset", "2026-11-22T01:00", "expected ISO time with UTC offset"),
        ("members.member-1.sleep.wake", None, "onset and wake must both be set or null"),
        ("members.member-1.sleep.restlessness", 1.5, "expected number from 0 to 1"),
        ("members.member-1.sleep.restlessness", float("nan"), "restlessness: expected number"),
        ("members.member-1.minutes_home", True, "minutes_home: expected whole number >= 0"),
        ("members.member-1.minutes_home", -1, "minutes_home: expected whole number >= 0"),
        ("members.member-1.minutes_home", 1.0, "minutes_home: expected whole number >= 0"),
        ("members.member-1.rooms.kitchen", "840", "rooms.kitchen: expected whole number"),
        ("members.member-1.away_episodes.0.end", ..., "away_episodes[0].end: missing field"),
        ("members.member-1.away_episodes.0.end", "2026-11-22T09:00+01:00", "ends before"),
        ("members.member-1.sleep.naps", 2, "members.member-1.sleep.naps: unknown field"),
        ("schema", "homehub.summary/2", "schema: expected 'homehub.summary/1'"),
        ("participant_id", "p/1", "participant_id: expected participant id"),
        ("hub_id", "XYZ", "hub_id: expected 16 lowercase hex digits"),
        ("date", "22.11.2026", "date: expected date YYYY-MM-DD"),
        ("date", "2026-02-30", "date: expected date YYYY-MM-DD"),
        ("timezone", "Mars/Olympus", "timezone: expected IANA time zone name"),
        ("generated_at", "2026-11-22T23:10:00+01:00", "generated_at: expected ISO time in UTC"),
        ("coverage.minutes_total", 1000, "coverage.minutes_total: expected 1380, 1440 or 1500"),
        ("coverage.minutes_observed", 2000, "coverage.minutes_observed: more than"),
        ("coverage.sensors.bedroom", {}, "coverage.sensors.bedroom.uptime_min: missing field"),
        ("visits", {}, "visits: expected list"),
        ("visits.0.head_count", None, "visits[0].head_count: expected whole number"),
        ("activity.tv_min", ..., "activity.tv_min: missing field"),
        ("sound.living.cough", 3, "sound.living.cough: unknown sound class"),
        ("sound.living.tv", ..., "sound.living.tv: missing field"),
        ("members", [], "members: expected object"),
    ],
)
def test_damage_is_named_by_path(path: str, value: Any, message: str) -> None:
    with pytest.raises(SchemaError, match=message.replace("[", r"\[").replace("]", r"\]")):
        schema.validate(_damaged(path, value))


def test_bad_bytes_are_named() -> None:
    good = summary_bytes(make_summary())
    with pytest.raises(SchemaError, match="not UTF-8"):
        schema.parse(b"\xff" + good)
    with pytest.raises(SchemaError, match="not JSON"):
        schema.parse(good[:-1])
    with pytest.raises(SchemaError, match="duplicate key 'date'"):
        schema.parse(good[:-1] + b',"date":"2026-11-23"}')
    with pytest.raises(SchemaError, match="summary: expected object"):
        schema.parse(b"[]")


def _json_type(tp: Any) -> set[str]:
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        return _json_type(args[0])
    if type(None) in args:
        return {*_json_type(next(a for a in args if a is not type(None))), "null"}
    mapping = {int: "integer", float: "number", str: "string", list: "array", dict: "object"}
    return {mapping[origin or tp]} if (origin or tp) in mapping else {"object"}


def _compare(node: dict[str, Any], tp: Any, where: str) -> None:
    assert node.get("description"), f"{where}: no description"
    if is_typeddict(tp):
        hints = get_type_hints(tp, include_extras=True)
        assert node["type"] == "object", where
        assert node["additionalProperties"] is False, where
        assert set(node["properties"]) == set(hints), where
        assert set(node["required"]) == set(hints), where
        for key, field in hints.items():
            _compare(node["properties"][key], field, f"{where}.{key}")
    elif get_origin(tp) is dict:
        assert node["type"] == "object", where
        _compare(node["additionalProperties"], get_args(tp)[1], f"{where}.*")
    elif get_origin(tp) is list:
        assert node["type"] == "array", where
        _compare(node["items"], get_args(tp)[0], f"{where}[]")
    elif "const" not in node:
        declared = node["type"] if isinstance(node["type"], list) else [node["type"]]
        assert set(declared) == _json_type(tp), where


def test_schema_json_matches_the_typeddicts() -> None:
    document = json.loads(SCHEMA_JSON.read_text(encoding="utf-8"))
    _compare(document, schema.Summary, "summary")
    sound = document["properties"]["sound"]["additionalProperties"]
    assert sound["required"] == list(CLASSES)
    assert sound["propertyNames"]["enum"] == list(CLASSES)
    assert document["properties"]["schema"]["const"] == schema.SCHEMA_ID


def _paths(node: dict[str, Any], path: str) -> list[str]:
    out = [path] if path else []
    if "properties" in node:
        for key, child in node["properties"].items():
            out += _paths(child, f"{path}.{key}" if path else key)
    elif isinstance(node.get("additionalProperties"), dict):
        out += _paths(node["additionalProperties"], path + ".<")
    elif "items" in node:
        out += _paths(node["items"], path + "[]")
    return out


def test_the_human_doc_lists_every_field() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "summary-schema.md").read_text(encoding="utf-8")
    listed = {line.split("`")[1] for line in doc.splitlines() if line.startswith("| `")}
    listed = {re.sub(r"\.<[^>]+>", ".<", p) for p in listed}
    for path in _paths(json.loads(SCHEMA_JSON.read_text(encoding="utf-8")), ""):
        assert path in listed, f"docs/summary-schema.md lacks {path}"
