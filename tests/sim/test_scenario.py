"""Scenario files: the demo home loads, bad files fail naming the key, truth is consistent."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from hub.errors import ConfigError
from hub.sensing.audio.classes import CLASSES
from hub.sim.home import VirtualHome
from hub.sim.scenario import AWAY, load_scenario, parse_scenario

DEFAULT = Path(__file__).parents[2] / "hub" / "sim" / "scenarios" / "default.toml"


@pytest.fixture(scope="module")
def home() -> VirtualHome:
    return VirtualHome(load_scenario())


@pytest.fixture(scope="module")
def truth(home: VirtualHome) -> dict[str, Any]:
    return home.truth()


def _raw() -> dict[str, Any]:
    return tomllib.loads(DEFAULT.read_text())


def test_default_scenario_has_what_the_brief_asks_for() -> None:
    s = load_scenario()
    assert len(s.rooms) >= 4
    assert {r.name for r in s.rooms} >= {"bedroom", "bathroom", "kitchen", "living", "hallway"}
    assert {x.room for x in s.sensors} == {r.name for r in s.rooms}
    assert all(x.name == f"sensor-{x.room}" for x in s.sensors)
    assert len(s.members) == 2
    assert all(m.phone is not None for m in s.members)
    assert 2 <= len(s.visits) <= 3
    assert all(1 <= v.people <= 3 for v in s.visits)
    assert len(s.outages) == 1
    assert {d.kind for d in s.devices} >= {"samsung_tv", "smart_plug", "iphone"}


def test_load_from_path_equals_packaged() -> None:
    assert load_scenario(DEFAULT) == load_scenario()


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda d: d.pop("timezone"), "'timezone'"),
        (lambda d: d.update(timezone="Mars/Olympus"), "'timezone'"),
        (lambda d: d.update(date="4 March"), "'date'"),
        (lambda d: d["rooms"][0].update(rect=[1, 2, 3]), "'rooms[0].rect'"),
        (lambda d: d["rooms"][0].update(rect=[5, 0, 1, 4]), "'rooms[0].rect'"),
        (lambda d: d["sensors"][1].update(room="attic"), "'sensors[1].room'"),
        (lambda d: d["sensors"][1].update(position=[99.0, 99.0]), "'sensors[1].position'"),
        (lambda d: d["members"][0]["routine"][2].update(at="25:00"), "'members[0].routine[2].at'"),
        (lambda d: d["members"][0]["routine"][2].update(activity="juggle"), "activity'"),
        (lambda d: d["members"][1]["tag"].update(address="nope"), "'members[1].tag.address'"),
        (lambda d: d["members"][1]["phone"].update(irk="abcd"), "'members[1].phone.irk'"),
        (lambda d: d["visits"][0].update(people=0), "'visits[0].people'"),
        (lambda d: d["visits"][0].update(room="garden"), "'visits[0].room'"),
        (lambda d: d["outages"][0].update(sensor="sensor-attic"), "'outages[0].sensor'"),
        (lambda d: d["radio"].update(shadowing_db="loud"), "'radio.shadowing_db'"),
        (lambda d: d.update(entrance="porch"), "'entrance'"),
    ],
)
def test_bad_scenario_names_the_key(mutate: Any, key: str) -> None:
    data = _raw()
    mutate(data)
    with pytest.raises(ConfigError, match=re.escape(key)):
        parse_scenario(data, "test.toml")


def test_bad_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [unclosed")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_scenario(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_scenario(tmp_path / "missing.toml")


def test_start_is_local_midnight_of_the_date(home: VirtualHome) -> None:
    local = dt.datetime.fromtimestamp(home.start, home.tz)
    assert (local.date(), local.hour, local.minute) == (home.scenario.date, 0, 0)


def test_truth_is_json_and_covers_the_day(truth: dict[str, Any]) -> None:
    json.dumps(truth)
    minutes = truth["minutes"]
    assert len(minutes) == 1440
    assert [m["t"] for m in minutes] == list(range(truth["start"], truth["end"], 60))
    labels = {label for m in minutes for label in m["sound"].values()}
    assert labels <= set(CLASSES)
    assert {"quiet", "conversation", "tv", "snoring", "kitchen", "door"} <= labels


def test_truth_visits_match_the_scenario(home: VirtualHome, truth: dict[str, Any]) -> None:
    assert [v["head_count"] for v in truth["visits"]] == [v.people for v in home.scenario.visits]
    for visit in truth["visits"]:
        inside = [
            m
            for m in truth["minutes"]
            if visit["arrival_epoch"] <= m["t"] < visit["departure_epoch"]
        ]
        assert len(inside) == (visit["departure_epoch"] - visit["arrival_epoch"]) // 60
        assert all(m["visitors"] == visit["head_count"] for m in inside)
        # Visitors come and go through the entrance.
        assert inside[0]["visitor_rooms"] == {"hallway": visit["head_count"]}
        assert inside[-1]["visitor_rooms"] == {"hallway": visit["head_count"]}
        # They talk.
        talk = sum(m["sound"][visit["room"]] == "conversation" for m in inside)
        assert talk > len(inside) / 2
    outside = [
        m
        for m in truth["minutes"]
        if not any(v["arrival_epoch"] <= m["t"] < v["departure_epoch"] for v in truth["visits"])
    ]
    assert all(m["visitors"] == 0 for m in outside)


def test_truth_sleep_is_the_night_before_the_day(truth: dict[str, Any]) -> None:
    for member, sleep in truth["sleep"].items():
        hours = (sleep["wake_epoch"] - sleep["onset_epoch"]) / 3600
        assert 6 <= hours <= 10, member
        assert sleep["onset_epoch"] < truth["start"] < sleep["wake_epoch"]
        asleep = [m["asleep"][member] for m in truth["minutes"] if m["t"] < sleep["wake_epoch"]]
        # Asleep most of the night, awake for the night bathroom trip.
        assert 0.9 < sum(asleep) / len(asleep) < 1.0


def test_snoring_and_night_trip(home: VirtualHome, truth: dict[str, Any]) -> None:
    night = [m for m in truth["minutes"] if m["t"] < truth["start"] + 6 * 3600]
    snoring_minutes = sum(m["sound"]["bedroom"] == "snoring" for m in night)
    assert snoring_minutes >= 60
    # Each member's own snoring is inside the union heard in the bedroom.
    per_member = [truth["sleep"][m]["snoring_min"] for m in truth["sleep"]]
    assert max(per_member) <= snoring_minutes <= sum(per_member)
    assert all(truth["sleep"][m]["night_bathroom_visits"] == 1 for m in truth["sleep"])
    assert truth["sound_min"]["bedroom"]["snoring"] == sum(
        m["sound"]["bedroom"] == "snoring" for m in truth["minutes"]
    )
    trips = collections.Counter(
        member for m in night for member, room in m["members"].items() if room == "bathroom"
    )
    assert set(trips) == {"member-1", "member-2"}


def test_members_go_out_and_come_back(truth: dict[str, Any]) -> None:
    for member, minutes_away in truth["away_min"].items():
        assert 60 <= minutes_away <= 8 * 60, member
        rooms = [m["members"][member] for m in truth["minutes"]]
        leaving = [i for i in range(1, len(rooms)) if rooms[i] == AWAY != rooms[i - 1]]
        assert leaving
        assert all(rooms[i - 1] == "hallway" for i in leaving)
        assert all(truth["minutes"][i - 1]["sound"]["hallway"] == "door" for i in leaving)


def test_outage_in_truth_and_sensor_up(home: VirtualHome, truth: dict[str, Any]) -> None:
    (outage,) = truth["outages"]
    down = [m for m in truth["minutes"] if m["sensors_down"]]
    assert len(down) == 20
    assert all(m["sensors_down"] == [outage["sensor"]] for m in down)
    assert not home.sensor_up(outage["sensor"], outage["start_epoch"] + 60)
    assert home.sensor_up(outage["sensor"], outage["end_epoch"])
    assert home.advertisements(outage["sensor"], outage["start_epoch"], outage["end_epoch"]) == []
    with pytest.raises(ConfigError, match="sensor-attic"):
        home.sensor_up("sensor-attic", 0)


def test_routines_repeat_with_daily_jitter(home: VirtualHome) -> None:
    day = 1440
    first = home.start // 60
    rooms_today = [home.room_of("member-2", first + i) for i in range(day)]
    rooms_next = [home.room_of("member-2", first + day + i) for i in range(day)]
    same = sum(a == b for a, b in zip(rooms_today, rooms_next, strict=True))
    assert 0.8 * day < same < day


def test_different_seeds_give_different_days() -> None:
    a = VirtualHome(load_scenario(), seed=1).truth()
    b = VirtualHome(load_scenario(), seed=2).truth()
    assert a["sleep"] != b["sleep"]
    assert [m["members"] for m in a["minutes"]] != [m["members"] for m in b["minutes"]]


def test_state_is_order_independent(home: VirtualHome) -> None:
    minutes = range(home.start // 60 + 600, home.start // 60 + 1300, 7)
    fresh = VirtualHome(load_scenario())
    backwards = {m: fresh.state(m) for m in reversed(minutes)}
    assert all(home.state(m) == backwards[m] for m in minutes)


def test_days_across_a_clock_change_stay_whole() -> None:
    # 29 March 2026: Europe/London springs forward at 01:00, the day has 23 hours.
    scenario = dataclasses.replace(load_scenario(), date=dt.date(2026, 3, 29))
    home = VirtualHome(scenario)
    truth = home.truth()
    assert len(truth["minutes"]) == 23 * 60
    wake = dt.datetime.fromisoformat(truth["sleep"]["member-2"]["wake"])
    assert (wake.hour, wake.utcoffset()) == (7, dt.timedelta(hours=1))


PACKAGED = sorted((Path(__file__).parents[2] / "hub" / "sim" / "scenarios").glob("*.toml"))


@pytest.mark.parametrize("path", PACKAGED, ids=[p.stem for p in PACKAGED])
def test_every_packaged_scenario_makes_a_consistent_day(path: Path) -> None:
    home = VirtualHome(load_scenario(path))
    truth = home.truth()
    json.dumps(truth)
    assert all(truth["sleep"][m.name] is not None for m in home.members)
    for visit in truth["visits"]:
        peak = max(
            m["visitors"]
            for m in truth["minutes"]
            if visit["arrival_epoch"] <= m["t"] < visit["departure_epoch"]
        )
        assert peak == visit["head_count"]
    for device in home.devices:
        spec = device.spec
        if spec is None or home.radio.room_at(spec.x, spec.y) is not None:
            continue  # carried, or a fixture inside the home
        for sensor in home.sensors:
            rssi = home.radio.mean_rssi(device.tx, (spec.x, spec.y), (sensor.x, sensor.y))
            assert rssi < -85, (device.id, sensor.name)


def test_member_without_phone_has_no_irk() -> None:
    home = VirtualHome(load_scenario(PACKAGED[[p.stem for p in PACKAGED].index("living_alone")]))
    (member,) = home.members
    assert member.phone_irks == ()
    assert len(member.tag_addresses) == 1
