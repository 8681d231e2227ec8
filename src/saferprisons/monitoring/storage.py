"""Bulk writes for the ingest hot path: rollups and counters as upserts that add up.

A minute may be written more than once (a partial minute flushed, then more readings of it
arrive): the upsert merges the new part into the stored row (counts add, minima and maxima
combine, the mean is re-weighted), so flushing early never loses or double-counts anything. The
same SQL runs on PostgreSQL and SQLite (both have INSERT ... ON CONFLICT DO UPDATE); only
GREATEST/LEAST differ.
"""

from __future__ import annotations

import math

import numpy as np
from django.db import connection

from .memory import RollupRows
from .models import IngestCounter, MinuteRollup
from .rules import from_ms

ROWS_PER_STATEMENT = 400


def _greatest(a: str, b: str) -> str:
    if connection.vendor == "postgresql":
        return f"GREATEST({a}, {b})"  # ignores NULLs
    return f"COALESCE(MAX({a}, {b}), {a}, {b})"  # SQLite's MAX(x, NULL) is NULL


def _least(a: str, b: str) -> str:
    if connection.vendor == "postgresql":
        return f"LEAST({a}, {b})"
    return f"COALESCE(MIN({a}, {b}), {a}, {b})"


def _upsert(table: str, columns: list[str], conflict: list[str], merges: dict, rows: list):
    """INSERT rows, merging into existing ones; ``merges`` maps a column to (old, new) -> SQL."""
    quote = connection.ops.quote_name
    assignments = ", ".join(
        f"{quote(column)} = {merge(f'{quote(table)}.{quote(column)}', f'excluded.{quote(column)}')}"
        for column, merge in merges.items()
    )
    names = ", ".join(quote(c) for c in columns)
    keys = ", ".join(quote(c) for c in conflict)
    row_placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start : start + ROWS_PER_STATEMENT]
            values = ", ".join([row_placeholders] * len(chunk))
            # Only our own quoted table and column names are formatted in; values are parameters.
            sql = f"INSERT INTO {quote(table)} ({names}) VALUES {values} "  # noqa: S608
            sql += f"ON CONFLICT ({keys}) DO UPDATE SET {assignments}"
            cursor.execute(sql, [value for row in chunk for value in row])


def _add(old: str, new: str) -> str:
    return f"{old} + {new}"


# --- Rollups --------------------------------------------------------------------------------------

ROLLUP_COLUMNS = [
    "device_id",
    "minute",
    "reading_count",
    "activity_mean",
    "activity_max",
    "bed_seconds",
    "bathroom_seconds",
    "door_seconds",
    "elsewhere_seconds",
    "persons_max",
    "pulse_count",
    "pulse_min",
    "pulse_max",
    "pulse_quality_min",
    "breathing_count",
    "breathing_min",
    "breathing_max",
    "breathing_quality_min",
    "tamper_count",
    "battery_min",
    "last_reading_at",
]


def _rollup_merges() -> dict:
    table = connection.ops.quote_name(MinuteRollup._meta.db_table)

    def mean(old: str, new: str) -> str:
        old_count = f"{table}.reading_count"
        return (
            f"({old} * {old_count} + {new} * excluded.reading_count) "
            f"/ ({old_count} + excluded.reading_count)"
        )

    merges = {"activity_mean": mean}
    for column in ROLLUP_COLUMNS[2:]:
        if column == "activity_mean":
            continue
        if column.endswith(("_count", "_seconds")):
            merges[column] = _add
        elif column.endswith("_min"):
            merges[column] = _least
        else:  # maxima and the newest reading
            merges[column] = _greatest
    # Every SET expression reads the stored row as it was, so the mean above weighs the stored
    # count before this merge adds to it.
    return merges


def _nullable(values: np.ndarray) -> list:
    return [None if math.isnan(v) else v for v in values.tolist()]


def rollup_values(rows: RollupRows, seconds_per_reading: int) -> list[tuple]:
    adapt = connection.ops.adapt_datetimefield_value
    zone_seconds = (rows.zone_counts * seconds_per_reading).T.tolist()
    columns = [
        rows.device_pk.tolist(),
        [adapt(from_ms(m)) for m in rows.minute_ms.tolist()],
        rows.count.tolist(),
        (rows.activity_sum / np.maximum(rows.count, 1)).tolist(),
        rows.activity_max.tolist(),
        *zone_seconds,
        rows.persons_max.tolist(),
        rows.pulse_count.tolist(),
        _nullable(rows.pulse_min),
        _nullable(rows.pulse_max),
        _nullable(rows.pulse_quality_min),
        rows.breathing_count.tolist(),
        _nullable(rows.breathing_min),
        _nullable(rows.breathing_max),
        _nullable(rows.breathing_quality_min),
        rows.tamper_count.tolist(),
        _nullable(rows.battery_min),
        [adapt(from_ms(m)) for m in rows.last_ms.tolist()],
    ]
    return list(zip(*columns, strict=True))


def write_rollups(rows: RollupRows, *, seconds_per_reading: int) -> int:
    """Upsert finished minutes (PostgreSQL: binary COPY into a staging table, then one
    INSERT ... SELECT). The same device and minute twice go in separate statements (one
    statement may not touch a row twice)."""
    if len(rows) == 0:
        return 0
    order = np.lexsort((rows.minute_ms, rows.device_pk))
    keys = np.stack([rows.device_pk[order], rows.minute_ms[order]], axis=1)
    repeat_rank = np.empty(len(rows), dtype=np.int64)
    repeat_rank[order] = _rank_within_equal_keys(keys)
    if connection.vendor == "postgresql":
        _copy_rollups(rows, repeat_rank, seconds_per_reading)
        return len(rows)
    values = rollup_values(rows, seconds_per_reading)
    for rank in range(int(repeat_rank.max()) + 1):
        _upsert(
            MinuteRollup._meta.db_table,
            ROLLUP_COLUMNS,
            ["device_id", "minute"],
            _rollup_merges(),
            [values[i] for i in np.flatnonzero(repeat_rank == rank).tolist()],
        )
    return len(rows)


def _rank_within_equal_keys(sorted_keys: np.ndarray) -> np.ndarray:
    """0 for the first of each run of equal keys, 1 for the second, ..."""
    count = len(sorted_keys)
    starts = np.ones(count, dtype=bool)
    starts[1:] = (sorted_keys[1:] != sorted_keys[:-1]).any(axis=1)
    run_start = np.maximum.accumulate(np.where(starts, np.arange(count), 0))
    return np.arange(count) - run_start


# --- PostgreSQL: binary COPY ----------------------------------------------------------------------

STAGE_TABLE = "monitoring_rollup_stage"
# Staging columns in COPY order: every value is a fixed-size int8 or float8 (NaN for "none").
FLOAT_COLUMNS = {
    "activity_mean",
    "activity_max",
    "pulse_min",
    "pulse_max",
    "pulse_quality_min",
    "breathing_min",
    "breathing_max",
    "breathing_quality_min",
    "battery_min",
}
TIME_COLUMNS = {"minute": "minute_ms", "last_reading_at": "last_ms"}  # staged as milliseconds
STAGE_COLUMNS = [
    (TIME_COLUMNS.get(c, c), "float8" if c in FLOAT_COLUMNS else "int8") for c in ROLLUP_COLUMNS
] + [("repeat_rank", "int8")]
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + np.array([0, 0], dtype=">i4").tobytes()
COPY_TRAILER = np.array([-1], dtype=">i2").tobytes()


def _copy_rows(rows: RollupRows, repeat_rank: np.ndarray, seconds_per_reading: int) -> bytes:
    """The rows in PostgreSQL's binary COPY format, built with one structured array."""
    zone_seconds = rows.zone_counts * seconds_per_reading
    values = {
        "device_id": rows.device_pk,
        "minute_ms": rows.minute_ms,
        "reading_count": rows.count,
        "activity_mean": rows.activity_sum / np.maximum(rows.count, 1),
        "activity_max": rows.activity_max,
        "bed_seconds": zone_seconds[:, 0],
        "bathroom_seconds": zone_seconds[:, 1],
        "door_seconds": zone_seconds[:, 2],
        "elsewhere_seconds": zone_seconds[:, 3],
        "persons_max": rows.persons_max,
        "tamper_count": rows.tamper_count,
        "battery_min": rows.battery_min,
        "last_ms": rows.last_ms,
        "repeat_rank": repeat_rank,
    }
    for vital in ("pulse", "breathing"):
        for suffix in ("count", "min", "max", "quality_min"):
            values[f"{vital}_{suffix}"] = getattr(rows, f"{vital}_{suffix}")
    layout = [("fields", ">i2")]
    for name, kind in STAGE_COLUMNS:
        layout += [(f"{name}_length", ">i4"), (name, ">f8" if kind == "float8" else ">i8")]
    records = np.zeros(len(rows), dtype=layout)
    records["fields"] = len(STAGE_COLUMNS)
    for name, _ in STAGE_COLUMNS:
        records[f"{name}_length"] = 8
        records[name] = values[name]
    return COPY_HEADER + records.tobytes() + COPY_TRAILER


def _stage_select(column: str, kind: str) -> str:
    if column in ("minute_ms", "last_ms"):
        return f"timestamptz 'epoch' + {column} * interval '1 millisecond'"
    if kind == "float8":
        return f"NULLIF({column}, 'NaN'::float8)"
    return column


def _copy_rollups(rows: RollupRows, repeat_rank: np.ndarray, seconds_per_reading: int) -> None:
    quote = connection.ops.quote_name
    table = quote(MinuteRollup._meta.db_table)
    merges = _rollup_merges()
    assignments = ", ".join(
        f"{quote(c)} = {merge(f'{table}.{quote(c)}', f'excluded.{quote(c)}')}"
        for c, merge in merges.items()
    )
    selected = ", ".join(_stage_select(c, k) for c, k in STAGE_COLUMNS[:-1])
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE_TABLE} "
            f"({', '.join(f'{c} {k}' for c, k in STAGE_COLUMNS)}) ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {STAGE_TABLE}")
        with cursor.cursor.copy(f"COPY {STAGE_TABLE} FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(_copy_rows(rows, repeat_rank, seconds_per_reading))
        for rank in range(int(repeat_rank.max()) + 1):
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(quote(c) for c in ROLLUP_COLUMNS)}) "  # noqa: S608
                f"SELECT {selected} FROM {STAGE_TABLE} WHERE repeat_rank = %s "
                f"ON CONFLICT (device_id, minute) DO UPDATE SET {assignments}",
                [rank],
            )


# --- Ingest counters ------------------------------------------------------------------------------

COUNTER_FIELDS = ["accepted", "duplicate", "dropped_not_enrolled", "dead_lettered"]


def write_counters(counts: dict[tuple[int, int], list[int]]) -> int:
    """``counts[(prison pk, minute ms)]`` = [accepted, duplicate, dropped, dead-lettered]."""
    if not counts:
        return 0
    adapt = connection.ops.adapt_datetimefield_value
    rows = [
        (prison, adapt(from_ms(minute)), *values) for (prison, minute), values in counts.items()
    ]
    _upsert(
        IngestCounter._meta.db_table,
        ["prison_id", "minute", *COUNTER_FIELDS],
        ["prison_id", "minute"],
        dict.fromkeys(COUNTER_FIELDS, _add),
        rows,
    )
    return len(rows)
