"""The rule engine: every rule for every cell in one vectorised step (pure numpy, no database).

State is a set of arrays with one row per device and one column per rule (``RULE_ORDER``).
Every rule is "a condition that has lasted at least a threshold":

- each reading updates, per rule, when the current run of the condition began (``since``), and
  the rule fires once when ``reading time - since >= threshold`` (day or night threshold by the
  reading's London time); it re-arms only when the condition ends;
- DEVICE_SILENT is evaluated on the clock (``check_silence``): it fires once when nothing has
  arrived for the threshold, and re-arms on the next reading.

Conditions (a reading is one device's report at one moment):

==================== =====================================================================
NO_ACTIVITY          someone is present and activity <= limit_high (the "still" level)
BATHROOM_OCCUPANCY   the person is in the bathroom zone
SECOND_PERSON        two or more people in a single-occupancy cell
LEFT_DETECTABLE_AREA nobody is detected in an occupied cell (usually set for nights only)
TAMPERED             the device reports tampering or obstruction
PULSE / BREATHING    a spot measurement with quality >= min_quality is outside
                     [limit_low, limit_high]; a reading without a usable measurement leaves
                     the run as it was (spot measurements come only when the person is still)
==================== =====================================================================

``reference_rules.py`` implements the same rules one reading at a time in plain Python; a test
feeds both the same streams and requires identical triggers.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime, time, timedelta
from functools import cache

import numpy as np

from saferprisons.core.clock import LONDON

from .constants import (
    DEFAULT_DAY_ENDS,
    DEFAULT_DAY_STARTS,
    DEFAULT_RULES,
    READING_RULE_COUNT,
    RULE_INDEX,
    RULE_ORDER,
    SILENT_RULE,
    Priority,
    RuleKind,
    Zone,
)

NONE = np.int64(-1)  # "no run in progress" / "never seen" (timestamps are positive)
OFF = np.iinfo(np.int64).max  # threshold of a rule that is off in that period
RULE_COUNT = len(RULE_ORDER)
NO_ACTIVITY = RULE_INDEX[RuleKind.NO_ACTIVITY]
BATHROOM = RULE_INDEX[RuleKind.BATHROOM_OCCUPANCY]
SECOND_PERSON = RULE_INDEX[RuleKind.SECOND_PERSON]
LEFT_AREA = RULE_INDEX[RuleKind.LEFT_DETECTABLE_AREA]
TAMPERED = RULE_INDEX[RuleKind.TAMPERED]
PULSE = RULE_INDEX[RuleKind.PULSE_OUT_OF_RANGE]
BREATHING = RULE_INDEX[RuleKind.BREATHING_OUT_OF_RANGE]
VITALS = ((PULSE, "pulse", "pulse_quality"), (BREATHING, "breathing", "breathing_quality"))
SECONDS_PER_DAY = 86_400
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)


def to_ms(moment: datetime) -> int:
    """Exact milliseconds since the epoch (floor), for an aware datetime."""
    return (moment - EPOCH) // ONE_MS


def from_ms(timestamp_ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=int(timestamp_ms))


# --- Settings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSetting:
    """One rule's settings as the engines use them (built from RuleConfig or the defaults)."""

    kind: str
    enabled: bool = True
    priority: str = Priority.MEDIUM
    day_threshold_seconds: int | None = None
    night_threshold_seconds: int | None = None
    day_starts_second: int = 8 * 3600
    day_ends_second: int = 20 * 3600
    limit_low: float | None = None
    limit_high: float | None = None
    min_quality: float | None = None

    def threshold_seconds(self, is_day: bool) -> int | None:
        """The threshold in force, or None when the rule is off then."""
        if not self.enabled:
            return None
        return self.day_threshold_seconds if is_day else self.night_threshold_seconds

    def is_day(self, second_of_day: int) -> bool:
        return self.day_starts_second <= second_of_day < self.day_ends_second


def second_of_day(value: time | str) -> int:
    if isinstance(value, str):
        value = time.fromisoformat(value)
    return value.hour * 3600 + value.minute * 60 + value.second


def default_settings() -> dict[str, RuleSetting]:
    """The built-in settings (constants.DEFAULT_RULES) for every rule."""
    return {
        kind: RuleSetting(
            kind=kind,
            day_starts_second=second_of_day(DEFAULT_DAY_STARTS),
            day_ends_second=second_of_day(DEFAULT_DAY_ENDS),
            **DEFAULT_RULES[kind],
        )
        for kind in RULE_ORDER
    }


@dataclass(frozen=True)
class DeviceProfile:
    """What the engines need to know about one monitored device's cell."""

    single_occupancy: bool
    rules: dict[str, RuleSetting]


@dataclass
class RuleTable:
    """The settings of every device as arrays: rows are devices, columns rules (RULE_ORDER)."""

    day_threshold_ms: np.ndarray  # int64, OFF when the rule is off by day
    night_threshold_ms: np.ndarray
    day_starts_second: np.ndarray  # int32
    day_ends_second: np.ndarray
    limit_low: np.ndarray  # float64, NaN when unset
    limit_high: np.ndarray
    min_quality: np.ndarray
    single_occupancy: np.ndarray  # bool, one per device

    def take(self, devices: np.ndarray) -> RuleTable:
        return RuleTable(**{f.name: getattr(self, f.name)[devices] for f in fields(self)})

    def __len__(self) -> int:
        return len(self.single_occupancy)


def _threshold_ms(setting: RuleSetting, is_day: bool) -> int:
    seconds = setting.threshold_seconds(is_day)
    return int(OFF) if seconds is None else seconds * 1000


def _nan_if_none(value: float | None) -> float:
    return np.nan if value is None else float(value)


def build_rule_table(
    groups: list[dict[str, RuleSetting]], group_of_device: np.ndarray, single_occupancy
) -> RuleTable:
    """Settings for many devices that share few setting groups (e.g. one per wing).

    ``groups[g]`` maps each rule kind to its setting; ``group_of_device[d]`` says which group
    device ``d`` uses.
    """
    columns = {
        "day_threshold_ms": (np.int64, lambda s: _threshold_ms(s, True)),
        "night_threshold_ms": (np.int64, lambda s: _threshold_ms(s, False)),
        "day_starts_second": (np.int32, lambda s: s.day_starts_second),
        "day_ends_second": (np.int32, lambda s: s.day_ends_second),
        "limit_low": (np.float64, lambda s: _nan_if_none(s.limit_low)),
        "limit_high": (np.float64, lambda s: _nan_if_none(s.limit_high)),
        "min_quality": (np.float64, lambda s: _nan_if_none(s.min_quality)),
    }
    group_of_device = np.asarray(group_of_device, dtype=np.int64)
    built = {}
    for name, (dtype, pick) in columns.items():
        per_group = np.array(
            [[pick(group[kind]) for kind in RULE_ORDER] for group in groups], dtype=dtype
        ).reshape(len(groups), RULE_COUNT)
        built[name] = per_group[group_of_device]
    return RuleTable(**built, single_occupancy=np.asarray(single_occupancy, dtype=bool))


def table_for_profiles(profiles: list[DeviceProfile]) -> RuleTable:
    """A RuleTable with one group per device (tests and small estates)."""
    return build_rule_table(
        [p.rules for p in profiles],
        np.arange(len(profiles)),
        [p.single_occupancy for p in profiles],
    )


# --- London time of day, vectorised ---------------------------------------------------------------


@cache
def _utc_offset_changes() -> tuple[np.ndarray, np.ndarray]:
    """(UTC seconds at which London's offset changes, offset in seconds from then on)."""

    def offset_at(seconds: int) -> int:
        moment = datetime.fromtimestamp(seconds, UTC).astimezone(LONDON)
        return int(moment.utcoffset().total_seconds())

    def first_change(low: int, high: int) -> int:
        # Bisect to the second at which the offset differs from the offset at ``low``.
        before = offset_at(low)
        while high - low > 1:
            middle = (low + high) // 2
            if offset_at(middle) == before:
                low = middle
            else:
                high = middle
        return high

    starts = [0]
    offsets = [offset_at(0)]
    for year in range(1970, 2201):
        checkpoints = [
            int(datetime(year, month, 1, tzinfo=UTC).timestamp()) for month in (1, 4, 7, 10)
        ] + [int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())]
        for low, high in zip(checkpoints, checkpoints[1:], strict=False):
            if offset_at(low) != offset_at(high):
                change = first_change(low, high)
                starts.append(change)
                offsets.append(offset_at(change))
    return np.array(starts, dtype=np.int64), np.array(offsets, dtype=np.int64)


def london_second_of_day(timestamp_ms: np.ndarray) -> np.ndarray:
    """Seconds since local midnight in Europe/London for UTC millisecond timestamps."""
    seconds = np.asarray(timestamp_ms, dtype=np.int64) // 1000
    starts, offsets = _utc_offset_changes()
    position = np.searchsorted(starts, seconds, side="right") - 1
    return (seconds + offsets[np.maximum(position, 0)]) % SECONDS_PER_DAY


# --- Readings, state and triggers -----------------------------------------------------------------


@dataclass
class ReadingRound:
    """Readings with at most one per device (``device`` holds row numbers into the state)."""

    device: np.ndarray  # int64
    timestamp_ms: np.ndarray  # int64
    persons: np.ndarray  # int64
    activity: np.ndarray  # float64
    zone: np.ndarray  # int64 (constants.Zone)
    pulse: np.ndarray  # float64, NaN when not measured
    pulse_quality: np.ndarray
    breathing: np.ndarray
    breathing_quality: np.ndarray
    tampered: np.ndarray  # bool

    def take(self, rows) -> ReadingRound:
        return ReadingRound(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def __len__(self) -> int:
        return len(self.device)


@dataclass
class EngineState:
    since: np.ndarray  # int64 (devices, rules): start of the current run, or NONE
    fired: np.ndarray  # bool (devices, rules): this run has already raised its alert
    last_seen: np.ndarray  # int64 (devices,): newest reading, or NONE
    vital_value: np.ndarray  # float64 (devices, 2): latest usable pulse, breathing
    vital_quality: np.ndarray

    @classmethod
    def empty(cls, devices: int) -> EngineState:
        return cls(
            since=np.full((devices, RULE_COUNT), NONE, dtype=np.int64),
            fired=np.zeros((devices, RULE_COUNT), dtype=bool),
            last_seen=np.full(devices, NONE, dtype=np.int64),
            vital_value=np.full((devices, 2), np.nan),
            vital_quality=np.full((devices, 2), np.nan),
        )

    def take(self, devices: np.ndarray) -> EngineState:
        return EngineState(**{f.name: getattr(self, f.name)[devices] for f in fields(self)})

    def put(self, devices: np.ndarray, part: EngineState) -> None:
        for f in fields(self):
            getattr(self, f.name)[devices] = getattr(part, f.name)

    def reset(self, devices: np.ndarray) -> None:
        """Forget everything about these devices (monitoring starts afresh)."""
        self.put(devices, EngineState.empty(len(devices)))


@dataclass
class Triggers:
    """Rules that fired: one entry per (device row, rule)."""

    device: np.ndarray  # int64
    rule: np.ndarray  # int64 index into RULE_ORDER
    at_ms: np.ndarray  # int64: the reading (or tick) time that crossed the threshold
    since_ms: np.ndarray  # int64: when the condition began
    value: np.ndarray  # float64: the measurement for vital-sign rules, else NaN
    quality: np.ndarray

    @classmethod
    def none(cls) -> Triggers:
        empty_int = np.empty(0, dtype=np.int64)
        return cls(empty_int, empty_int, empty_int, empty_int, np.empty(0), np.empty(0))

    @classmethod
    def concat(cls, parts: list[Triggers]) -> Triggers:
        if not parts:
            return cls.none()
        return cls(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        )

    def __len__(self) -> int:
        return len(self.device)

    def as_tuples(self, device_keys=None) -> list[tuple]:
        """Comparable plain tuples: (device, rule kind, at, since, value, quality)."""
        keys = (
            device_keys if device_keys is not None else range(int(self.device.max(initial=0)) + 1)
        )
        return [
            (
                keys[int(d)],
                RULE_ORDER[int(r)].value,
                int(at),
                int(since),
                None if np.isnan(v) else float(v),
                None if np.isnan(q) else float(q),
            )
            for d, r, at, since, v, q in zip(
                self.device,
                self.rule,
                self.at_ms,
                self.since_ms,
                self.value,
                self.quality,
                strict=True,
            )
        ]


# --- The engine -----------------------------------------------------------------------------------


def _conditions(table: RuleTable, readings: ReadingRound) -> tuple[np.ndarray, np.ndarray]:
    """(condition holds, reading says anything about it) per reading and reading rule."""
    count = len(readings)
    holds = np.zeros((count, READING_RULE_COUNT), dtype=bool)
    informs = np.ones((count, READING_RULE_COUNT), dtype=bool)
    persons = readings.persons
    holds[:, NO_ACTIVITY] = (persons >= 1) & (readings.activity <= table.limit_high[:, NO_ACTIVITY])
    holds[:, BATHROOM] = readings.zone == Zone.BATHROOM
    holds[:, SECOND_PERSON] = table.single_occupancy & (persons >= 2)
    holds[:, LEFT_AREA] = persons == 0
    holds[:, TAMPERED] = readings.tampered
    for rule, value_name, quality_name in VITALS:
        value = getattr(readings, value_name)
        quality = getattr(readings, quality_name)
        usable = ~np.isnan(value) & (quality >= table.min_quality[:, rule])
        informs[:, rule] = usable
        holds[:, rule] = usable & (
            (value < table.limit_low[:, rule]) | (value > table.limit_high[:, rule])
        )
    return holds, informs


def _thresholds_ms(table: RuleTable, at_ms: np.ndarray, columns) -> np.ndarray:
    """The threshold in force at ``at_ms`` (one time per row) for the given rule columns."""
    local = london_second_of_day(at_ms)[:, None]
    is_day = (local >= table.day_starts_second[:, columns]) & (
        local < table.day_ends_second[:, columns]
    )
    return np.where(
        is_day, table.day_threshold_ms[:, columns], table.night_threshold_ms[:, columns]
    )


def apply_round(state: EngineState, table: RuleTable, readings: ReadingRound) -> Triggers:
    """Take in one reading per device (rows of ``state`` and ``table``) and return what fired.

    Each reading must be newer than the device's previous one (ingest drops the rest).
    """
    if len(readings) == 0:
        return Triggers.none()
    rows = readings.device
    at = readings.timestamp_ms
    device_table = table.take(rows)
    holds, informs = _conditions(device_table, readings)

    reading_rules = slice(0, READING_RULE_COUNT)
    since = state.since[rows, reading_rules]
    running = since != NONE
    started = np.where(running, since, at[:, None])
    since = np.where(informs, np.where(holds, started, NONE), since)
    fired = state.fired[rows, reading_rules] & (since != NONE)

    threshold = _thresholds_ms(device_table, at, reading_rules)
    due = (since != NONE) & ~fired & (at[:, None] - since >= threshold)
    fired |= due

    _remember_vitals(state, rows, readings, informs)
    state.since[rows, reading_rules] = since
    state.fired[rows, reading_rules] = fired
    state.last_seen[rows] = at
    state.fired[rows, SILENT_RULE] = False
    return _triggers(state, rows, due, at, since)


def _remember_vitals(state, rows, readings: ReadingRound, informs) -> None:
    for column, (rule, value_name, quality_name) in enumerate(VITALS):
        usable = informs[:, rule]
        target = rows[usable]
        state.vital_value[target, column] = getattr(readings, value_name)[usable]
        state.vital_quality[target, column] = getattr(readings, quality_name)[usable]


def _triggers(state, rows, due, at, since) -> Triggers:
    reading, rule = np.nonzero(due)
    device = rows[reading]
    value = np.full(len(reading), np.nan)
    quality = np.full(len(reading), np.nan)
    for column, (vital_rule, _, _) in enumerate(VITALS):
        is_vital = rule == vital_rule
        value[is_vital] = state.vital_value[device[is_vital], column]
        quality[is_vital] = state.vital_quality[device[is_vital], column]
    return Triggers(
        device=device.astype(np.int64),
        rule=rule.astype(np.int64),
        at_ms=at[reading].astype(np.int64),
        since_ms=since[reading, rule].astype(np.int64),
        value=value,
        quality=quality,
    )


def check_silence(
    state: EngineState, table: RuleTable, now_ms: int, eligible: np.ndarray
) -> Triggers:
    """DEVICE_SILENT for every eligible device that has reported before, at clock time now."""
    now = np.full(len(table), now_ms, dtype=np.int64)
    threshold = _thresholds_ms(table, now, [SILENT_RULE])[:, 0]
    seen = state.last_seen != NONE
    due = eligible & seen & ~state.fired[:, SILENT_RULE] & (now - state.last_seen >= threshold)
    state.fired[due, SILENT_RULE] = True
    devices = np.flatnonzero(due).astype(np.int64)
    count = len(devices)
    return Triggers(
        device=devices,
        rule=np.full(count, SILENT_RULE, dtype=np.int64),
        at_ms=np.full(count, now_ms, dtype=np.int64),
        since_ms=state.last_seen[devices].copy(),
        value=np.full(count, np.nan),
        quality=np.full(count, np.nan),
    )
