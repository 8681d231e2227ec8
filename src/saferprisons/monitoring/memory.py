"""What the ingest process remembers per device, as arrays with one row per roster device.

- ``DedupeState``: the newest accepted timestamp, the last few accepted timestamps (so a repeat
  is recognised as a duplicate) and the replay floor read from the rollups at start-up;
- ``RollupState``: the open minute's running totals, closed into ``RollupRows`` when the minute
  changes (written in bulk by ``rollups.py``);
- ``RawHistory``: a ring of each device's latest raw readings, for the window kept before an
  alert.

Ingest works on a copy of the rows a message touches (``take``) and writes the copy back
(``put``) only after the database has accepted the message's writes, so a failed write leaves
memory as it was and the message can be offered again.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .rules import NONE, ReadingRound

RECENT_TIMESTAMPS = 8
MINUTE_MS = 60_000
ZONE_COLUMNS = 4  # bed, bathroom, door, elsewhere (constants.Zone 1..4)


# --- Dataclasses of row arrays --------------------------------------------------------------------


def take_rows(record, rows: np.ndarray):
    return type(record)(**{f.name: getattr(record, f.name)[rows] for f in fields(record)})


def put_rows(record, rows: np.ndarray, part) -> None:
    for f in fields(record):
        getattr(record, f.name)[rows] = getattr(part, f.name)


def carry_rows(record, old_keys: np.ndarray, new_keys: np.ndarray, empty):
    """The same record for a new set of keys (sorted): rows of kept keys move, new ones start
    empty (``empty(count)`` builds an empty record)."""
    fresh = empty(len(new_keys))
    if len(old_keys) == 0 or len(new_keys) == 0:
        return fresh
    position = np.minimum(np.searchsorted(old_keys, new_keys), len(old_keys) - 1)
    kept = old_keys[position] == new_keys
    put_rows(fresh, np.flatnonzero(kept), take_rows(record, position[kept]))
    return fresh


# --- Duplicates and order -------------------------------------------------------------------------


@dataclass
class DedupeState:
    last_ms: np.ndarray  # int64: the newest accepted reading, or NONE
    replay_floor_ms: np.ndarray  # int64: at or before this is a replay (from the rollups)
    recent_ms: np.ndarray  # int64 (devices, RECENT_TIMESTAMPS)
    recent_next: np.ndarray  # int64: next slot to write in recent_ms

    @classmethod
    def empty(cls, devices: int) -> DedupeState:
        return cls(
            last_ms=np.full(devices, NONE, dtype=np.int64),
            replay_floor_ms=np.full(devices, NONE, dtype=np.int64),
            recent_ms=np.full((devices, RECENT_TIMESTAMPS), NONE, dtype=np.int64),
            recent_next=np.zeros(devices, dtype=np.int64),
        )

    def classify(self, rows: np.ndarray, timestamp_ms: np.ndarray):
        """(duplicate, out of order) for readings sorted by device then time."""
        same_as_previous = np.zeros(len(rows), dtype=bool)
        same_as_previous[1:] = (rows[1:] == rows[:-1]) & (timestamp_ms[1:] == timestamp_ms[:-1])
        seen = (self.recent_ms[rows] == timestamp_ms[:, None]).any(axis=1)
        replayed = timestamp_ms <= self.replay_floor_ms[rows]
        duplicate = same_as_previous | seen | replayed
        out_of_order = ~duplicate & (timestamp_ms < self.last_ms[rows])
        return duplicate, out_of_order

    def remember(self, rows: np.ndarray, timestamp_ms: np.ndarray) -> None:
        """Accepted readings, at most one per device, newer than the device's last."""
        self.recent_ms[rows, self.recent_next[rows] % RECENT_TIMESTAMPS] = timestamp_ms
        self.recent_next[rows] += 1
        self.last_ms[rows] = timestamp_ms


# --- Per-minute rollups ---------------------------------------------------------------------------


@dataclass
class RollupRows:
    """Finished (or flushed) minutes, ready to be written."""

    device_pk: np.ndarray
    minute_ms: np.ndarray
    count: np.ndarray
    activity_sum: np.ndarray
    activity_max: np.ndarray
    zone_counts: np.ndarray  # (rows, 4)
    persons_max: np.ndarray
    pulse_count: np.ndarray
    pulse_min: np.ndarray
    pulse_max: np.ndarray
    pulse_quality_min: np.ndarray
    breathing_count: np.ndarray
    breathing_min: np.ndarray
    breathing_max: np.ndarray
    breathing_quality_min: np.ndarray
    tamper_count: np.ndarray
    battery_min: np.ndarray
    last_ms: np.ndarray

    @classmethod
    def empty(cls, count: int) -> RollupRows:
        ints = {"device_pk", "minute_ms", "count", "persons_max", "pulse_count"}
        ints |= {"breathing_count", "tamper_count", "last_ms"}
        values = {}
        for f in fields(cls):
            if f.name == "zone_counts":
                values[f.name] = np.zeros((count, ZONE_COLUMNS), dtype=np.int64)
            elif f.name in ints:
                values[f.name] = np.zeros(count, dtype=np.int64)
            elif f.name == "activity_sum":
                values[f.name] = np.zeros(count)
            else:
                values[f.name] = np.full(count, np.nan)
        values["minute_ms"][:] = NONE
        values["persons_max"][:] = 0
        return cls(**values)

    @classmethod
    def concat(cls, parts: list[RollupRows]) -> RollupRows:
        if not parts:
            return cls.empty(0)
        return cls(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        )

    def __len__(self) -> int:
        return len(self.device_pk)

    def part(self, start: int, stop: int | None = None) -> RollupRows:
        """Rows ``start`` to ``stop`` (views: the arrays are not copied)."""
        return RollupRows(**{f.name: getattr(self, f.name)[start:stop] for f in fields(self)})


class RollupState(RollupRows):
    """The open minute of every device (``count == 0``: nothing open)."""

    def accumulate(self, rows: np.ndarray, readings: ReadingRound, battery: np.ndarray):
        """Add one reading per device; returns the minutes this closed."""
        minute = readings.timestamp_ms - readings.timestamp_ms % MINUTE_MS
        moving_on = (self.count[rows] > 0) & (self.minute_ms[rows] != minute)
        closed = self.close(rows[moving_on])
        self.minute_ms[rows] = minute
        self.count[rows] += 1
        self.activity_sum[rows] += readings.activity
        self.activity_max[rows] = np.fmax(self.activity_max[rows], readings.activity)
        located = readings.zone > 0
        self.zone_counts[rows[located], readings.zone[located] - 1] += 1
        self.persons_max[rows] = np.maximum(self.persons_max[rows], readings.persons)
        self._vital(rows, "pulse", readings.pulse, readings.pulse_quality)
        self._vital(rows, "breathing", readings.breathing, readings.breathing_quality)
        self.tamper_count[rows] += readings.tampered
        self.battery_min[rows] = np.fmin(self.battery_min[rows], battery)
        self.last_ms[rows] = readings.timestamp_ms
        return closed

    def _vital(self, rows, name: str, value: np.ndarray, quality: np.ndarray) -> None:
        measured = ~np.isnan(value)
        getattr(self, f"{name}_count")[rows] += measured
        for suffix, combine, new in (
            ("min", np.fmin, value),
            ("max", np.fmax, value),
            ("quality_min", np.fmin, quality),
        ):
            column = getattr(self, f"{name}_{suffix}")
            column[rows] = combine(column[rows], new)

    def close(self, rows: np.ndarray) -> RollupRows:
        """Hand over these rows' open minutes and start them afresh."""
        closed = RollupRows(**{f.name: getattr(self, f.name)[rows] for f in fields(RollupRows)})
        put_rows(self, rows, RollupRows.empty(len(rows)))
        self.device_pk[rows] = closed.device_pk  # the device stays the same
        return closed

    def open_before(self, minute_ms: int) -> np.ndarray:
        """Rows whose open minute is earlier than ``minute_ms``."""
        return np.flatnonzero((self.count > 0) & (self.minute_ms < minute_ms))

    @classmethod
    def for_devices(cls, device_pks: np.ndarray) -> RollupState:
        state = cls(**vars(RollupRows.empty(len(device_pks))))
        state.device_pk[:] = device_pks
        return state


# --- Raw readings for the window before an alert --------------------------------------------------

RAW_DTYPE = np.dtype(
    [
        ("timestamp_ms", np.int64),
        ("persons", np.int16),
        ("zone", np.int8),
        ("tampered", np.bool_),
        # float32 keeps memory at 36 bytes a reading; values come back to 7 significant digits.
        ("activity", np.float32),
        ("pulse", np.float32),
        ("pulse_quality", np.float32),
        ("breathing", np.float32),
        ("breathing_quality", np.float32),
        ("battery", np.float32),
    ]
)


class RawHistory:
    """The last ``capacity`` readings of every device, in a ring per device."""

    def __init__(self, devices: int, capacity: int):
        self.capacity = max(int(capacity), 1)
        self.ring = np.zeros((devices, self.capacity), dtype=RAW_DTYPE)
        self.ring["timestamp_ms"] = NONE
        self.next_slot = np.zeros(devices, dtype=np.int64)

    def push(self, rows: np.ndarray, readings: ReadingRound, battery: np.ndarray) -> None:
        """One reading per device."""
        slots = self.next_slot[rows] % self.capacity
        record = np.zeros(len(rows), dtype=RAW_DTYPE)
        for name in RAW_DTYPE.names:
            record[name] = battery if name == "battery" else getattr(readings, name)
        self.ring[rows, slots] = record
        self.next_slot[rows] += 1

    def window(self, row: int, start_ms: int, end_ms: int) -> np.ndarray:
        entries = self.ring[row]
        stamps = entries["timestamp_ms"]
        return np.sort(entries[(stamps >= start_ms) & (stamps <= end_ms)], order="timestamp_ms")

    def carried(self, old_keys: np.ndarray, new_keys: np.ndarray, capacity: int) -> RawHistory:
        """The ring for a new set of devices (sorted keys); a changed capacity starts afresh."""
        fresh = RawHistory(len(new_keys), capacity)
        if len(old_keys) and len(new_keys) and fresh.capacity == self.capacity:
            position = np.minimum(np.searchsorted(old_keys, new_keys), len(old_keys) - 1)
            kept = np.flatnonzero(old_keys[position] == new_keys)
            fresh.ring[kept] = self.ring[position[kept]]
            fresh.next_slot[kept] = self.next_slot[position[kept]]
        return fresh
