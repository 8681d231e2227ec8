"""Decode a gateway's message and check every reading in it, a column at a time (pure, no DB).

A message is turned into one numpy array per field. The common case (every value of a column has
an allowed type) is one C-level pass per column; only a column holding a bad value falls back to
looking at its values one by one. Each reading gets the first problem found, in field order, as a
``DeadLetterReason``; nothing a device sends raises.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import orjson

from .constants import SCHEMA_VERSION, ZONE_BY_WIRE_NAME, DeadLetterReason
from .rules import ReadingRound
from .schemas import BOOLEAN, INTEGER, NUMBER, READING_FIELDS, STRING, ZONE, FieldSpec

# Problem codes in the arrays: 0 is "no problem", then the reasons in declaration order.
REASONS = list(DeadLetterReason)
CODE = {reason: number for number, reason in enumerate(REASONS, start=1)}
NAN = math.nan


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING = _Missing()


# --- The message ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """The readings of a decoded message, or why there are none."""

    items: list
    problem: DeadLetterReason | None = None
    detail: str = ""


def decode_message(raw: bytes | str, *, max_readings: int) -> Message:
    """One reading or a batch ``{"schema_version": 1, "readings": [...]}``."""
    try:
        body = orjson.loads(raw)
    except (orjson.JSONDecodeError, TypeError) as error:
        return Message([], DeadLetterReason.MALFORMED_JSON, str(error)[:200])
    if not isinstance(body, dict):
        return Message([], DeadLetterReason.BAD_ENVELOPE, "A message must be a JSON object")
    if "readings" not in body:
        version = body.get("schema_version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION or type(version) is bool:
            return _unsupported(version)
        return Message([body])
    version = body.get("schema_version", MISSING)
    if version != SCHEMA_VERSION or type(version) is bool:
        return _unsupported(version)
    readings = body["readings"]
    if not isinstance(readings, list):
        return Message([], DeadLetterReason.BAD_ENVELOPE, "readings must be a JSON array")
    if len(readings) > max_readings:
        return Message(
            [],
            DeadLetterReason.BAD_ENVELOPE,
            f"A message may carry at most {max_readings} readings ({len(readings)} sent)",
        )
    return Message(readings)


def _unsupported(version) -> Message:
    shown = "missing" if version is MISSING else repr(version)[:20]
    return Message(
        [],
        DeadLetterReason.BAD_ENVELOPE,
        f"schema_version must be {SCHEMA_VERSION} (got {shown})",
    )


# --- The readings, as columns ---------------------------------------------------------------------


@dataclass
class Columns:
    """Every reading of a message as arrays. A reading with ``problem != 0`` is not usable;
    ``problem_field`` then names the field (an index into READING_FIELDS, or -1)."""

    count: int
    device_id: list  # str for usable device ids, "" otherwise
    timestamp_ms: np.ndarray  # int64
    persons: np.ndarray  # int64
    activity: np.ndarray  # float64
    zone: np.ndarray  # int64
    pulse: np.ndarray  # float64, NaN when absent
    pulse_quality: np.ndarray
    breathing: np.ndarray
    breathing_quality: np.ndarray
    tampered: np.ndarray  # bool
    battery: np.ndarray  # float64, NaN when absent
    device_problem: np.ndarray  # int8: the reading or its device_id is unusable
    problem: np.ndarray  # int8: the first problem with any other field
    problem_field: np.ndarray  # int8

    def round(self, rows: np.ndarray, device_rows: np.ndarray) -> ReadingRound:
        """The readings at ``rows`` for the engine, with state row numbers ``device_rows``."""
        return ReadingRound(
            device=device_rows,
            timestamp_ms=self.timestamp_ms[rows],
            persons=self.persons[rows],
            activity=self.activity[rows],
            zone=self.zone[rows],
            pulse=self.pulse[rows],
            pulse_quality=self.pulse_quality[rows],
            breathing=self.breathing[rows],
            breathing_quality=self.breathing_quality[rows],
            tampered=self.tampered[rows],
        )

    def describe_problem(self, row: int) -> tuple[DeadLetterReason, str]:
        code = int(self.device_problem[row]) or int(self.problem[row])
        reason = REASONS[code - 1]
        field_index = int(self.problem_field[row]) if not self.device_problem[row] else 0
        if reason == DeadLetterReason.NOT_AN_OBJECT:
            return reason, "A reading must be a JSON object"
        field = READING_FIELDS[field_index]
        return reason, f"{field.name}: {_explain(reason, field)}"


def _explain(reason: DeadLetterReason, spec: FieldSpec) -> str:
    if reason == DeadLetterReason.MISSING_FIELD:
        if spec.comes_with:
            return f"is required (and comes with {spec.comes_with})"
        return "is required"
    if reason == DeadLetterReason.WRONG_TYPE:
        if spec.kind == ZONE:
            return "must be one of the zone names or null"
        return f"must be {'an' if spec.kind == INTEGER else 'a'} {spec.kind}"
    if spec.kind == ZONE:
        return "must be bed, bathroom, door, elsewhere or null"
    if spec.kind == STRING:
        return "must be 1 to 64 characters"
    return f"must be from {_plain(spec.minimum)} to {_plain(spec.maximum)}"


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


class _Problems:
    """The first problem of each reading, in the order they are noted."""

    def __init__(self, count: int):
        self.code = np.zeros(count, dtype=np.int8)
        self.field = np.full(count, -1, dtype=np.int8)

    def note(self, mask: np.ndarray, reason: DeadLetterReason, field_index: int) -> None:
        fresh = mask & (self.code == 0)
        self.code[fresh] = CODE[reason]
        self.field[fresh] = field_index


def check_readings(items: list) -> Columns:
    """Every reading of a message as columns, with the first problem of each."""
    count = len(items)
    device_problem = np.zeros(count, dtype=np.int8)
    if set(map(type, items)) - {dict}:
        not_objects = np.fromiter((type(item) is not dict for item in items), bool, count)
        device_problem[not_objects] = CODE[DeadLetterReason.NOT_AN_OBJECT]
        items = [item if type(item) is dict else {} for item in items]
    device_ids = _device_ids(items, device_problem)
    problems = _Problems(count)
    values = {}
    for field_index, spec in enumerate(READING_FIELDS[1:], start=1):
        values[spec.name] = _column(items, spec, field_index, problems)
    _check_pairs(values, problems)
    return Columns(
        count=count,
        device_id=device_ids,
        timestamp_ms=_as_int64(values["timestamp_ms"]),
        persons=_as_int64(values["persons_present"]),
        activity=values["activity_level"],
        zone=values["zone"],
        pulse=values["pulse_bpm"],
        pulse_quality=values["pulse_quality"],
        breathing=values["breathing_rate"],
        breathing_quality=values["breathing_quality"],
        tampered=values["tampered"],
        battery=values["battery_percent"],
        device_problem=device_problem,
        problem=problems.code,
        problem_field=problems.field,
    )


def _as_int64(values: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(values), 0, values).astype(np.int64)


def _device_ids(items: list, device_problem: np.ndarray) -> list:
    ids = [item.get("device_id", MISSING) for item in items]
    if set(map(type, ids)) == {str} and 1 <= min(map(len, ids)) and max(map(len, ids)) <= 64:
        return ids
    cleaned = []
    for row, value in enumerate(ids):
        if device_problem[row]:
            cleaned.append("")
        elif value is MISSING:
            device_problem[row] = CODE[DeadLetterReason.MISSING_FIELD]
            cleaned.append("")
        elif type(value) is not str:
            device_problem[row] = CODE[DeadLetterReason.WRONG_TYPE]
            cleaned.append("")
        elif not 1 <= len(value) <= 64:
            device_problem[row] = CODE[DeadLetterReason.OUT_OF_RANGE]
            cleaned.append("")
        else:
            cleaned.append(value)
    return cleaned


def _column(items: list, spec: FieldSpec, field_index: int, problems: _Problems) -> np.ndarray:
    if spec.kind in (INTEGER, NUMBER):
        return _numbers(items, spec, field_index, problems)
    if spec.kind == ZONE:
        return _zones(items, spec, field_index, problems)
    if spec.kind == BOOLEAN:
        return _booleans(items, spec, field_index, problems)
    raise ValueError(f"No column reader for {spec.kind}")


def _numbers(items: list, spec: FieldSpec, field_index: int, problems: _Problems) -> np.ndarray:
    # A missing value reads as NaN: JSON has no NaN, so NaN can only mean "absent".
    name = spec.name
    raw = [item.get(name, NAN) for item in items]
    values = _floats_fast(raw)
    if values is None:
        values, wrong_type = _floats_slow(raw)
        problems.note(wrong_type, DeadLetterReason.WRONG_TYPE, field_index)
    absent = np.isnan(values)
    if spec.required:
        problems.note(absent, DeadLetterReason.MISSING_FIELD, field_index)
    present = ~absent
    if spec.kind == INTEGER:
        problems.note(
            present & (np.floor(values) != values), DeadLetterReason.WRONG_TYPE, field_index
        )
    outside = present & ((values < spec.minimum) | (values > spec.maximum))
    problems.note(outside, DeadLetterReason.OUT_OF_RANGE, field_index)
    return np.where(present & ~outside, values, NAN)


def _floats_fast(raw: list) -> np.ndarray | None:
    if set(map(type, raw)) - {int, float}:
        return None
    try:
        return np.array(raw, dtype=np.float64)
    except OverflowError:  # an integer too large for a float
        return None


def _floats_slow(raw: list) -> tuple[np.ndarray, np.ndarray]:
    values = np.full(len(raw), NAN)
    wrong_type = np.zeros(len(raw), dtype=bool)
    for row, value in enumerate(raw):
        if type(value) in (int, float):
            try:
                values[row] = float(value)
            except OverflowError:
                values[row] = math.inf  # refused by the range check
        else:
            wrong_type[row] = True
    return values, wrong_type


def _zones(items: list, spec: FieldSpec, field_index: int, problems: _Problems) -> np.ndarray:
    name = spec.name
    raw = [item.get(name) for item in items]
    if set(map(type, raw)) <= {str, type(None)}:
        codes = np.fromiter(map(ZONE_BY_WIRE_NAME.get, raw, repeat(-1)), np.int64, len(raw))
    else:
        codes = np.fromiter(
            (
                ZONE_BY_WIRE_NAME.get(value, -1) if type(value) in (str, type(None)) else -2
                for value in raw
            ),
            np.int64,
            len(raw),
        )
    problems.note(codes == -2, DeadLetterReason.WRONG_TYPE, field_index)
    problems.note(codes == -1, DeadLetterReason.OUT_OF_RANGE, field_index)
    return np.maximum(codes, 0)


def _booleans(items: list, spec: FieldSpec, field_index: int, problems: _Problems) -> np.ndarray:
    name = spec.name
    raw = [item.get(name, False) for item in items]
    if set(map(type, raw)) == {bool}:
        return np.array(raw, dtype=bool)
    wrong_type = np.fromiter((type(value) is not bool for value in raw), bool, len(raw))
    problems.note(wrong_type, DeadLetterReason.WRONG_TYPE, field_index)
    return np.fromiter((value is True for value in raw), bool, len(raw))


def _check_pairs(values: dict, problems: _Problems) -> None:
    """A measurement comes with its quality, and a quality with its measurement."""
    for field_index, spec in enumerate(READING_FIELDS):
        if spec.comes_with:
            partner_present = ~np.isnan(values[spec.comes_with])
            problems.note(
                np.isnan(values[spec.name]) & partner_present,
                DeadLetterReason.MISSING_FIELD,
                field_index,
            )
