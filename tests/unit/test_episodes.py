"""Episodes from minute records: sleep, visits, time away, transitions; and the summary built."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hub.fusion.episodes import (
    ACTIVE_SOUNDS,
    NIGHT_DISTURBANCES,
    away_spans,
    runs,
    sleep_episode,
    transitions,
    visits,
)
from hub.fusion.minute import UNKNOWN, MinuteBuilder, MinuteRecord, decode_minutes, encode_minutes
from hub.sensing.audio.classes import CLASSES
from hub.sensing.ble import BleMinute
from hub.summary.build import DayWindow, build_summary
from tests.unit.factories import make_minute

T0 = 1_700_000_000 // 60 * 60


def night(
    onset_min: int, wake_min: int, total: int = 900, *, bathroom_at: int | None = None
) -> list[MinuteRecord]:
    out = []
    for i in range(total):
        t = T0 + 60 * i
        if onset_min <= i < wake_min:
            room = (
                "bathroom"
                if bathroom_at is not None and bathroom_at <= i < bathroom_at + 5
                else "bedroom"
            )
            sound = {"bedroom": {"snoring": 2} if i % 7 == 0 else {"quiet": 2}}
        elif i < onset_min and i >= onset_min - 30:
            room, sound = "bedroom", {"bedroom": {"tv": 2}}
        else:
            room, sound = "living", {"living": {"speech": 2}}
        out.append(make_minute(t, members={"member-1": room}, sound=sound))
    return out


def test_runs_bridge_gaps_and_drop_short_ones() -> None:
    flags = [True, True, False, True, False, False, False, True]
    assert runs(flags) == [(0, 2), (3, 4), (7, 8)]
    assert runs(flags, bridge=1) == [(0, 4), (7, 8)]
    assert runs(flags, bridge=1, min_len=3) == [(0, 4)]


def test_sleep_onset_and_wake_follow_the_quiet_stay_in_bed() -> None:
    episode = sleep_episode(night(200, 680), "member-1", "bedroom")
    assert episode is not None
    assert episode.onset == T0 + 200 * 60
    assert episode.wake == T0 + 680 * 60
    assert episode.snoring_min == len([i for i in range(200, 680) if i % 7 == 0])


def test_a_night_bathroom_trip_does_not_split_sleep_and_is_counted() -> None:
    episode = sleep_episode(night(200, 680, bathroom_at=400), "member-1", "bedroom")
    assert episode is not None
    assert (episode.onset, episode.wake) == (T0 + 200 * 60, T0 + 680 * 60)
    assert episode.night_bathroom_visits == 1
    assert episode.disturbances >= 1


def test_no_sleep_when_never_in_bed_long_enough() -> None:
    assert sleep_episode(night(200, 300), "member-1", "bedroom") is None


def test_visits_with_head_count_and_short_sightings_ignored() -> None:
    minutes = [make_minute(T0 + 60 * i) for i in range(300)]
    for i in range(60, 180):
        minutes[i] = make_minute(
            T0 + 60 * i, visitors=2 if i != 100 else 3, sound={"living": {"conversation": 1}}
        )
    for i in range(250, 255):  # a delivery: five minutes
        minutes[i] = make_minute(T0 + 60 * i, visitors=1)
    (visit,) = visits(minutes)
    assert visit.arrival == T0 + 60 * 60
    assert visit.departure == T0 + 180 * 60
    assert visit.head_count == 2  # a one-minute blip to 3 is ignored
    assert visit.conversation_min == 120


def test_away_spans_ignore_unknown_minutes() -> None:
    minutes = [make_minute(T0 + 60 * i) for i in range(100)]
    for i in range(20, 60):
        minutes[i] = make_minute(T0 + 60 * i, members={"member-1": None})
    for i in range(70, 90):
        minutes[i] = make_minute(T0 + 60 * i, members={"member-1": UNKNOWN})
    assert [(s.start, s.end) for s in away_spans(minutes, "member-1")] == [(T0 + 1200, T0 + 3600)]


def test_transitions_count_room_changes_only() -> None:
    rooms = ["living", "living", None, "kitchen", UNKNOWN, "kitchen", "bedroom"]
    minutes = [make_minute(T0 + 60 * i, members={"member-1": r}) for i, r in enumerate(rooms)]
    assert transitions(minutes, "member-1") == 2


def test_minute_records_round_trip() -> None:
    records = [
        make_minute(T0, sound={"living": {"tv": 3}}, paused=("bedroom",)),
        make_minute(T0 + 60),
    ]
    assert decode_minutes(encode_minutes(records)) == records


def test_paused_room_records_no_sound_and_unknown_presence() -> None:
    builder = MinuteBuilder(T0)
    builder.mark_up("bedroom")
    builder.mark_paused("bedroom")
    builder.add_sound("bedroom", "speech")
    record = builder.close(BleMinute({"member-1": "bedroom"}, 1, {"bedroom": 1}))
    assert record.sound == {}
    assert record.members == {"member-1": UNKNOWN}
    assert record.visitors == 0


def test_summary_has_every_section_and_counts_the_day() -> None:
    tz = ZoneInfo("Europe/London")
    window = DayWindow.for_date(dt.date(2026, 3, 10), tz)
    minutes = [
        make_minute(t, sound={"living": {"tv": 1}})
        for t in range(window.night_start, window.end, 60)
    ]
    summary = build_summary(
        window=window,
        minutes=minutes,
        participant_id="p-1",
        hub_id="hub",
        members=["member-1"],
        bedrooms={"member-1": "bedroom"},
        rooms=["bedroom", "living"],
        generated_at=window.end,
    )
    assert summary["date"] == "2026-03-10"
    assert summary["coverage"]["minutes_total"] == 1440
    assert summary["members"]["member-1"]["minutes_home"] == 1440
    assert summary["members"]["member-1"]["sleep"]["onset"] is None
    assert summary["activity"]["tv_min"] == 1440
    assert summary["sound"]["living"]["tv"] == 1440


def test_day_window_spans_a_dst_change() -> None:
    tz = ZoneInfo("Europe/London")
    window = DayWindow.for_date(dt.date(2026, 3, 29), tz)  # clocks go forward
    assert (window.end - window.start) // 60 == 23 * 60


def test_tv_in_bed_before_lights_out_is_not_sleep() -> None:
    minutes = night(200, 680)
    for i in range(150, 200):  # TV in bed for 50 minutes, with a quiet blip in the middle
        sound = {"bedroom": {"quiet": 2}} if i == 170 else {"bedroom": {"tv": 2}}
        minutes[i] = make_minute(T0 + 60 * i, members={"member-1": "bedroom"}, sound=sound)
    episode = sleep_episode(minutes, "member-1", "bedroom")
    assert episode is not None
    assert episode.onset == T0 + 200 * 60


def test_stray_sightings_bridged_together_are_not_a_visit() -> None:
    minutes = [make_minute(T0 + 60 * i) for i in range(60)]
    for i in (10, 16, 17, 21):  # four blips within bridging distance: an 11-minute span
        minutes[i] = make_minute(T0 + 60 * i, visitors=1)
    assert visits(minutes) == []


def test_minutes_with_nothing_heard_in_a_bedroom_with_a_microphone_are_not_sleep() -> None:
    minutes = night(200, 680)
    for i in range(150, 200):  # in bed, TV on, but the audio did not arrive
        minutes[i] = make_minute(T0 + 60 * i, members={"member-1": "bedroom"}, sound={})
    minutes[175] = make_minute(
        T0 + 175 * 60, members={"member-1": "bedroom"}, sound={"bedroom": {"tv": 2}}
    )
    episode = sleep_episode(minutes, "member-1", "bedroom")
    assert episode is not None
    assert episode.onset == T0 + 200 * 60


def test_a_bedroom_without_a_microphone_uses_presence_alone() -> None:
    minutes = [
        make_minute(T0 + 60 * i, members={"member-1": "bedroom" if 100 <= i < 500 else "living"})
        for i in range(700)
    ]
    episode = sleep_episode(minutes, "member-1", "bedroom")
    assert episode is not None
    assert (episode.onset, episode.wake) == (T0 + 100 * 60, T0 + 500 * 60)


def test_episode_sound_sets_name_only_classes_the_model_has() -> None:
    assert ACTIVE_SOUNDS | NIGHT_DISTURBANCES <= set(CLASSES)
