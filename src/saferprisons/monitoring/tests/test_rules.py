"""The numpy rule engine: exact behaviour of each rule, London time, and identical triggers to the
plain per-reading reference implementation on recorded and hypothesis-generated streams."""

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saferprisons.monitoring import reference_rules, rules
from saferprisons.monitoring.constants import RULE_ORDER, RuleKind, Zone
from saferprisons.monitoring.rules import to_ms

from . import streams

NIGHT_MS = to_ms(datetime(2026, 11, 28, 2, 0, tzinfo=UTC))  # GMT, night
DAY_MS = to_ms(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))


def engine(profiles: list[rules.DeviceProfile]):
    return rules.EngineState.empty(len(profiles)), rules.table_for_profiles(profiles)


def profile(single=True, **changes) -> rules.DeviceProfile:
    settings_ = rules.default_settings()
    for kind, fields in changes.items():
        settings_[kind] = replace(settings_[kind], **fields)
    return rules.DeviceProfile(single, settings_)


def one(device=0, at=NIGHT_MS, persons=1, activity=0.3, zone=Zone.BED, **vitals):
    values = {"pulse": np.nan, "pulse_quality": np.nan, "breathing": np.nan}
    values |= {"breathing_quality": np.nan, "tampered": False} | vitals
    return rules.ReadingRound(
        device=np.array([device]),
        timestamp_ms=np.array([at]),
        persons=np.array([persons]),
        activity=np.array([activity]),
        zone=np.array([int(zone)]),
        **{name: np.array([value]) for name, value in values.items()},
    )


def fired(triggers: rules.Triggers) -> list[tuple]:
    return triggers.as_tuples(["cell"])


# --- Each rule, exactly ---------------------------------------------------------------------------


def test_second_person_fires_once_when_the_night_threshold_is_reached():
    state, table = engine([profile()])  # default: 30 s at night
    assert fired(rules.apply_round(state, table, one(persons=2, at=NIGHT_MS))) == []
    assert fired(rules.apply_round(state, table, one(persons=2, at=NIGHT_MS + 29_999))) == []
    assert fired(rules.apply_round(state, table, one(persons=2, at=NIGHT_MS + 30_000))) == [
        ("cell", "SECOND_PERSON", NIGHT_MS + 30_000, NIGHT_MS, None, None)
    ]
    # Still two people: the run already raised its alert.
    assert fired(rules.apply_round(state, table, one(persons=2, at=NIGHT_MS + 90_000))) == []


def test_a_rule_re_arms_only_when_its_condition_ends():
    state, table = engine([profile(SECOND_PERSON={"night_threshold_seconds": 0})])
    first = rules.apply_round(state, table, one(persons=2, at=NIGHT_MS))
    again = rules.apply_round(state, table, one(persons=3, at=NIGHT_MS + 1000))
    alone = rules.apply_round(state, table, one(persons=1, at=NIGHT_MS + 2000))
    back = rules.apply_round(state, table, one(persons=2, at=NIGHT_MS + 3000))
    assert [len(first), len(again), len(alone)] == [1, 0, 0]
    assert fired(back) == [("cell", "SECOND_PERSON", NIGHT_MS + 3000, NIGHT_MS + 3000, None, None)]


def test_second_person_only_in_a_single_occupancy_cell():
    state, table = engine([profile(single=False, SECOND_PERSON={"night_threshold_seconds": 0})])
    assert len(rules.apply_round(state, table, one(persons=2))) == 0


def test_day_and_night_thresholds_follow_the_rule_s_day_window():
    state, table = engine([profile()])  # second person: 120 s by day, 30 s by night
    rules.apply_round(state, table, one(persons=2, at=DAY_MS))
    assert len(rules.apply_round(state, table, one(persons=2, at=DAY_MS + 60_000))) == 0
    day = rules.apply_round(state, table, one(persons=2, at=DAY_MS + 120_000))
    assert fired(day) == [("cell", "SECOND_PERSON", DAY_MS + 120_000, DAY_MS, None, None)]


def test_no_activity_uses_the_still_level_inclusively_and_needs_someone_present():
    state, table = engine([profile(NO_ACTIVITY={"night_threshold_seconds": 60})])
    rules.apply_round(state, table, one(activity=0.05, at=NIGHT_MS))  # 0.05 is still
    nobody = rules.apply_round(state, table, one(persons=0, activity=0.0, at=NIGHT_MS + 30_000))
    rules.apply_round(state, table, one(activity=0.0, at=NIGHT_MS + 40_000))
    still = rules.apply_round(state, table, one(activity=0.05, at=NIGHT_MS + 100_000))
    assert len(nobody) == 0  # the run ended when nobody was there
    assert fired(still) == [
        ("cell", "NO_ACTIVITY", NIGHT_MS + 100_000, NIGHT_MS + 40_000, None, None)
    ]


def test_left_area_is_off_by_day_by_default():
    state, table = engine([profile()])
    rules.apply_round(state, table, one(persons=0, at=DAY_MS))
    assert len(rules.apply_round(state, table, one(persons=0, at=DAY_MS + 3_600_000))) == 0


def test_pulse_warning_carries_the_measurement_and_its_quality():
    state, table = engine([profile()])  # 40-130 bpm, quality at least 0.6, at once
    poor = rules.apply_round(state, table, one(pulse=150.0, pulse_quality=0.59))
    good = rules.apply_round(state, table, one(at=NIGHT_MS + 1000, pulse=150.0, pulse_quality=0.6))
    assert len(poor) == 0
    assert fired(good) == [
        ("cell", "PULSE_OUT_OF_RANGE", NIGHT_MS + 1000, NIGHT_MS + 1000, 150.0, 0.6)
    ]


def test_a_reading_without_a_usable_measurement_leaves_a_vital_run_as_it_was():
    state, table = engine([profile(BREATHING_OUT_OF_RANGE={"night_threshold_seconds": 5})])
    rules.apply_round(state, table, one(breathing=6.0, breathing_quality=0.9))
    rules.apply_round(state, table, one(at=NIGHT_MS + 2000))  # no measurement
    later = rules.apply_round(state, table, one(at=NIGHT_MS + 5000))
    assert fired(later) == [("cell", "BREATHING_OUT_OF_RANGE", NIGHT_MS + 5000, NIGHT_MS, 6.0, 0.9)]


def test_tamper_and_bathroom():
    state, table = engine([profile(BATHROOM_OCCUPANCY={"night_threshold_seconds": 60})])
    rules.apply_round(state, table, one(zone=Zone.BATHROOM, tampered=True))
    both = rules.apply_round(
        state, table, one(zone=Zone.BATHROOM, tampered=True, at=NIGHT_MS + 60_000)
    )
    assert sorted(fired(both)) == [
        ("cell", "BATHROOM_OCCUPANCY", NIGHT_MS + 60_000, NIGHT_MS, None, None),
        ("cell", "TAMPERED", NIGHT_MS + 60_000, NIGHT_MS, None, None),
    ]


def test_silence_fires_once_per_silence_and_only_for_eligible_devices():
    state, table = engine([profile(), profile()])
    rules.apply_round(state, table, one(device=0))
    rules.apply_round(state, table, one(device=1))
    eligible = np.array([True, False])
    early = rules.check_silence(state, table, NIGHT_MS + 59_999, eligible)
    due = rules.check_silence(state, table, NIGHT_MS + 60_000, eligible)
    later = rules.check_silence(state, table, NIGHT_MS + 90_000, eligible)
    assert (len(early), len(later)) == (0, 0)
    assert due.as_tuples(["a", "b"]) == [
        ("a", "DEVICE_SILENT", NIGHT_MS + 60_000, NIGHT_MS, None, None)
    ]
    rules.apply_round(state, table, one(device=0, at=NIGHT_MS + 100_000))
    again = rules.check_silence(state, table, NIGHT_MS + 160_000, eligible)
    assert again.as_tuples(["a", "b"]) == [
        ("a", "DEVICE_SILENT", NIGHT_MS + 160_000, NIGHT_MS + 100_000, None, None)
    ]


def test_a_disabled_rule_never_fires():
    state, table = engine([profile(TAMPERED={"enabled": False})])
    rules.apply_round(state, table, one(tampered=True))
    assert len(rules.apply_round(state, table, one(tampered=True, at=NIGHT_MS + 86_400_000))) == 0


# --- London time ----------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=7_258_118_400_000))  # 1970 to 2200
@settings(max_examples=300)
def test_london_second_of_day_matches_zoneinfo(timestamp_ms):
    computed = rules.london_second_of_day(np.array([timestamp_ms]))[0]
    assert computed == reference_rules.london_second_of_day(timestamp_ms)


def test_london_second_of_day_across_both_clock_changes_of_2026():
    spring = to_ms(datetime(2026, 3, 29, 1, 0, tzinfo=UTC))
    autumn = to_ms(datetime(2026, 10, 25, 1, 0, tzinfo=UTC))
    moments = np.array([spring - 1000, spring, autumn - 1000, autumn])
    # 00:59:59 GMT then 02:00 BST; 01:59:59 BST then 01:00 GMT.
    assert rules.london_second_of_day(moments).tolist() == [3599, 7200, 7199, 3600]


# --- Recorded streams -----------------------------------------------------------------------------


@pytest.mark.parametrize("batch_until_tick", [False, True], ids=["per-second", "multi-round"])
@pytest.mark.parametrize("name", streams.recorded_stream_names())
def test_recorded_streams_give_identical_alerts(name, batch_until_tick):
    stream = streams.load(name)
    expected = streams.canonical(streams.run_reference(stream))
    actual = streams.canonical(streams.run_numpy(stream, batch_until_tick=batch_until_tick))
    assert actual == expected
    assert len(expected) >= 30


def test_the_night_stream_makes_every_rule_fire():
    fired_rules = Counter(t[1] for t in streams.run_reference(streams.load("night_wing.json")))
    assert set(fired_rules) == {kind.value for kind in RULE_ORDER}


# --- Generated streams ----------------------------------------------------------------------------

THRESHOLDS = st.one_of(st.none(), st.integers(min_value=0, max_value=12))
# Starting points next to the 2026 clock changes and a plain night.
STARTS = [
    to_ms(datetime(2026, 3, 29, 0, 59, 50, tzinfo=UTC)),
    to_ms(datetime(2026, 10, 25, 0, 59, 50, tzinfo=UTC)),
    to_ms(datetime(2026, 11, 28, 7, 59, 50, tzinfo=UTC)),
]


@st.composite
def rule_settings(draw, kind: str) -> dict:
    starts = draw(st.sampled_from([0, 3600, 7200, 8 * 3600]))
    fields = {
        "enabled": draw(st.booleans()) or draw(st.booleans()),
        "day_threshold_seconds": draw(THRESHOLDS),
        "night_threshold_seconds": draw(THRESHOLDS),
        "day_starts_second": starts,
        "day_ends_second": starts + draw(st.sampled_from([1, 3600, 12 * 3600])),
    }
    if kind == RuleKind.NO_ACTIVITY:
        fields["limit_high"] = draw(st.sampled_from([None, 0.0, 0.05, 0.5]))
    if kind in (RuleKind.PULSE_OUT_OF_RANGE, RuleKind.BREATHING_OUT_OF_RANGE):
        fields["limit_low"] = draw(st.sampled_from([None, 10.0, 40.0]))
        fields["limit_high"] = draw(st.sampled_from([None, 30.0, 130.0]))
        fields["min_quality"] = draw(st.sampled_from([None, 0.0, 0.6]))
    return fields


@st.composite
def generated_streams(draw) -> dict:
    devices = [f"d{n}" for n in range(draw(st.integers(min_value=1, max_value=3)))]
    profiles = {
        device: {
            "single_occupancy": draw(st.booleans()),
            "rules": {kind.value: draw(rule_settings(kind)) for kind in RULE_ORDER},
        }
        for device in devices
    }
    at = draw(st.sampled_from(STARTS))
    last: dict[str, int] = {}
    events = []
    for _ in range(draw(st.integers(min_value=1, max_value=120))):
        at += draw(st.sampled_from([0, 0, 250, 1000, 1000, 4000, 9000]))
        step = draw(st.sampled_from(["reading"] * 6 + ["tick", "batch_end"]))
        if step == "tick":
            eligible = [d for d in devices if draw(st.booleans())]
            events.append(["tick", at, eligible])
            continue
        if step == "batch_end":
            events.append(["batch_end"])
            continue
        device = draw(st.sampled_from(devices))
        if last.get(device, -1) >= at:
            continue  # ingest never passes on a reading that is not newer
        last[device] = at
        measured = draw(st.booleans())
        events.append(
            [
                "reading",
                device,
                at,
                draw(st.integers(min_value=0, max_value=3)),
                draw(st.sampled_from([0.0, 0.05, 0.2, 0.5, 1.0])),
                draw(st.integers(min_value=0, max_value=4)),
                draw(st.sampled_from([9.0, 40.0, 70.0, 130.0, 131.0])) if measured else None,
                draw(st.sampled_from([0.0, 0.59, 0.6, 1.0])) if measured else None,
                draw(st.sampled_from([7.0, 10.0, 30.0, 31.0])) if measured else None,
                draw(st.sampled_from([0.0, 0.6, 0.9])) if measured else None,
                draw(st.booleans()),
            ]
        )
    return {"description": "generated", "profiles": profiles, "events": events}


@given(generated_streams(), st.booleans())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_generated_streams_give_identical_alerts(stream, batch_until_tick):
    expected = streams.canonical(streams.run_reference(stream))
    actual = streams.canonical(streams.run_numpy(stream, batch_until_tick=batch_until_tick))
    assert actual == expected


def test_triggers_of_an_empty_round():
    state, table = engine([profile()])
    empty = one().take(np.array([], dtype=np.int64))
    assert len(rules.apply_round(state, table, empty)) == 0
    assert rules.Triggers.concat([]).as_tuples([]) == []
