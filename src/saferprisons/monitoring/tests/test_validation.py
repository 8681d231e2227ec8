"""Decoding messages and checking readings a column at a time; the published JSON Schema."""

import json

import jsonschema_rs
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saferprisons.monitoring.constants import DeadLetterReason, Zone
from saferprisons.monitoring.schemas import (
    PUBLISHED_SCHEMA,
    READING_FIELDS,
    reading_json_schema,
    render_reading_schema,
)
from saferprisons.monitoring.validation import REASONS, check_readings, decode_message

GOOD = {
    "device_id": "ZNA-A1-001-V",
    "timestamp_ms": 1_795_831_200_000,
    "persons_present": 1,
    "activity_level": 0.25,
    "zone": "bathroom",
    "pulse_bpm": 61.5,
    "pulse_quality": 0.8,
    "tampered": False,
    "battery_percent": 88,
}


def problem(item) -> tuple[str, str] | None:
    """(reason, detail) of a single reading, or None when it is usable."""
    columns = check_readings([item])
    if not columns.device_problem[0] and not columns.problem[0]:
        return None
    reason, detail = columns.describe_problem(0)
    return reason.value, detail


# --- Messages -------------------------------------------------------------------------------------


def test_a_batch_and_a_single_reading():
    assert decode_message(
        orjson.dumps({"schema_version": 1, "readings": [GOOD]}), max_readings=5
    ).items == [GOOD]
    assert decode_message(orjson.dumps(GOOD), max_readings=5).items == [GOOD]
    assert decode_message(b'{"schema_version": 1, "readings": []}', max_readings=5).items == []


@pytest.mark.parametrize(
    ("raw", "reason", "detail"),
    [
        (b"{not json", DeadLetterReason.MALFORMED_JSON, None),
        (b"", DeadLetterReason.MALFORMED_JSON, None),
        (b"\xff\xfe", DeadLetterReason.MALFORMED_JSON, None),
        (b"[1, 2]", DeadLetterReason.BAD_ENVELOPE, "A message must be a JSON object"),
        (
            b'{"readings": []}',
            DeadLetterReason.BAD_ENVELOPE,
            "schema_version must be 1 (got missing)",
        ),
        (
            b'{"schema_version": 2, "readings": []}',
            DeadLetterReason.BAD_ENVELOPE,
            "schema_version must be 1 (got 2)",
        ),
        (
            b'{"schema_version": true, "readings": []}',
            DeadLetterReason.BAD_ENVELOPE,
            "schema_version must be 1 (got True)",
        ),
        (
            b'{"schema_version": 1, "readings": {}}',
            DeadLetterReason.BAD_ENVELOPE,
            "readings must be a JSON array",
        ),
        (
            b'{"schema_version": 1, "readings": [{}, {}, {}]}',
            DeadLetterReason.BAD_ENVELOPE,
            "A message may carry at most 2 readings (3 sent)",
        ),
        (
            b'{"device_id": "x", "schema_version": "1"}',
            DeadLetterReason.BAD_ENVELOPE,
            "schema_version must be 1 (got '1')",
        ),
    ],
)
def test_messages_that_cannot_be_read(raw, reason, detail):
    message = decode_message(raw, max_readings=2)
    assert (message.items, message.problem) == ([], reason)
    if detail is not None:
        assert message.detail == detail


# --- Readings -------------------------------------------------------------------------------------


def test_a_good_reading_becomes_columns():
    columns = check_readings([GOOD, {**GOOD, "zone": None, "tampered": True}])
    assert columns.device_id == ["ZNA-A1-001-V", "ZNA-A1-001-V"]
    assert columns.timestamp_ms.tolist() == [1_795_831_200_000] * 2
    assert columns.zone.tolist() == [Zone.BATHROOM, Zone.NONE]
    assert columns.pulse.tolist() == [61.5, 61.5]
    assert columns.tampered.tolist() == [False, True]
    assert columns.battery.tolist() == [88.0, 88.0]
    assert columns.problem.tolist() == [0, 0] and columns.device_problem.tolist() == [0, 0]


def without(name):
    return {k: v for k, v in GOOD.items() if k != name}


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (without("device_id"), ("MISSING_FIELD", "device_id: is required")),
        ({**GOOD, "device_id": 42}, ("WRONG_TYPE", "device_id: must be a string")),
        ({**GOOD, "device_id": ""}, ("OUT_OF_RANGE", "device_id: must be 1 to 64 characters")),
        (
            {**GOOD, "device_id": "x" * 65},
            ("OUT_OF_RANGE", "device_id: must be 1 to 64 characters"),
        ),
        (without("timestamp_ms"), ("MISSING_FIELD", "timestamp_ms: is required")),
        (
            {**GOOD, "timestamp_ms": "2026-11-28T02:00:00Z"},
            ("WRONG_TYPE", "timestamp_ms: must be an integer"),
        ),
        ({**GOOD, "timestamp_ms": 1.5}, ("WRONG_TYPE", "timestamp_ms: must be an integer")),
        (
            {**GOOD, "timestamp_ms": -1},
            ("OUT_OF_RANGE", "timestamp_ms: must be from 0 to 253402300799999"),
        ),
        (
            {**GOOD, "timestamp_ms": 10**30},
            ("OUT_OF_RANGE", "timestamp_ms: must be from 0 to 253402300799999"),
        ),
        ({**GOOD, "persons_present": True}, ("WRONG_TYPE", "persons_present: must be an integer")),
        ({**GOOD, "persons_present": None}, ("WRONG_TYPE", "persons_present: must be an integer")),
        (
            {**GOOD, "persons_present": 21},
            ("OUT_OF_RANGE", "persons_present: must be from 0 to 20"),
        ),
        (without("activity_level"), ("MISSING_FIELD", "activity_level: is required")),
        ({**GOOD, "activity_level": 1.01}, ("OUT_OF_RANGE", "activity_level: must be from 0 to 1")),
        ({**GOOD, "activity_level": [0.2]}, ("WRONG_TYPE", "activity_level: must be a number")),
        (
            {**GOOD, "zone": "kitchen"},
            ("OUT_OF_RANGE", "zone: must be bed, bathroom, door, elsewhere or null"),
        ),
        ({**GOOD, "zone": 2}, ("WRONG_TYPE", "zone: must be one of the zone names or null")),
        (
            without("pulse_quality"),
            ("MISSING_FIELD", "pulse_quality: is required (and comes with pulse_bpm)"),
        ),
        (
            {**without("pulse_bpm")},
            ("MISSING_FIELD", "pulse_bpm: is required (and comes with pulse_quality)"),
        ),
        ({**GOOD, "pulse_bpm": None}, ("WRONG_TYPE", "pulse_bpm: must be a number")),
        (
            {**GOOD, "breathing_rate": 12},
            ("MISSING_FIELD", "breathing_quality: is required (and comes with breathing_rate)"),
        ),
        ({**GOOD, "tampered": "no"}, ("WRONG_TYPE", "tampered: must be a boolean")),
        (
            {**GOOD, "battery_percent": 101},
            ("OUT_OF_RANGE", "battery_percent: must be from 0 to 100"),
        ),
        ("a string", ("NOT_AN_OBJECT", "A reading must be a JSON object")),
        (None, ("NOT_AN_OBJECT", "A reading must be a JSON object")),
    ],
)
def test_each_problem_is_named(item, expected):
    assert problem(item) == expected


def test_the_first_problem_in_field_order_is_reported():
    assert problem({**GOOD, "persons_present": -1, "battery_percent": "full"}) == (
        "OUT_OF_RANGE",
        "persons_present: must be from 0 to 20",
    )


def test_integral_floats_are_integers_as_in_json_schema():
    assert problem({**GOOD, "timestamp_ms": 1_795_831_200_000.0, "persons_present": 2.0}) is None


def test_unknown_fields_are_ignored():
    assert problem({**GOOD, "firmware": "2.1", "nested": {"a": [1]}}) is None


def test_good_and_bad_readings_side_by_side():
    columns = check_readings([GOOD, {**GOOD, "activity_level": "high"}, 7, GOOD])
    first = [int(d) or int(p) for d, p in zip(columns.device_problem, columns.problem, strict=True)]
    codes = [REASONS[c - 1].value if c else None for c in first]
    assert codes == [None, "WRONG_TYPE", "NOT_AN_OBJECT", None]
    assert columns.activity.tolist()[0] == 0.25


# --- The published schema agrees with the checks --------------------------------------------------


def test_the_published_schema_file_is_current():
    # Regenerate with: PUBLISHED_SCHEMA.write_text(render_reading_schema())
    assert PUBLISHED_SCHEMA.read_text(encoding="utf-8") == render_reading_schema()
    json.loads(render_reading_schema())
    assert [spec.name for spec in READING_FIELDS][:4] == reading_json_schema()["$defs"]["reading"][
        "required"
    ]


VALIDATOR = jsonschema_rs.validator_for(reading_json_schema())

ANY_JSON = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)
FIELD_VALUES = {
    # Ids that break only the pattern are left to the registry (UNKNOWN_DEVICE), so not drawn.
    "device_id": st.one_of(st.sampled_from(["ZNA-A1-001-V", "d", "", "x" * 65]), st.integers()),
    "timestamp_ms": st.one_of(
        st.integers(min_value=-5, max_value=2**62), st.sampled_from([1.0, 1.5, 2e20])
    ),
    "persons_present": st.one_of(
        st.integers(min_value=-2, max_value=25), st.sampled_from([1.0, 2.5, True])
    ),
    "activity_level": st.one_of(st.floats(min_value=-0.5, max_value=1.5), st.integers(-1, 2)),
    "zone": st.sampled_from(["bed", "bathroom", "door", "elsewhere", None, "roof", 3, False]),
    "pulse_bpm": st.one_of(st.floats(min_value=-10, max_value=310), st.none()),
    "pulse_quality": st.one_of(st.floats(min_value=-0.2, max_value=1.2), st.just("good")),
    "breathing_rate": st.floats(min_value=-1, max_value=130),
    "breathing_quality": st.floats(min_value=0, max_value=1),
    "tampered": st.one_of(st.booleans(), st.sampled_from([0, 1, None])),
    "battery_percent": st.one_of(st.floats(min_value=-1, max_value=101), st.integers(0, 100)),
}


@st.composite
def readings(draw) -> dict:
    item = {}
    for name, values in FIELD_VALUES.items():
        if draw(st.integers(min_value=0, max_value=9)) < 8:  # present four times in five
            item[name] = draw(st.one_of(values, ANY_JSON) if draw(st.booleans()) else values)
    return item


@given(readings())
@settings(max_examples=400, deadline=None)
def test_a_reading_is_usable_exactly_when_the_published_schema_accepts_it(item):
    # Through real JSON, so the value types are what a gateway's message decodes to.
    decoded = orjson.loads(json.dumps(item))
    assert (problem(decoded) is None) == VALIDATOR.is_valid(decoded), problem(decoded)
