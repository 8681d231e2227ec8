"""The ingest pipeline: a gateway's message in, counts and alerts out, no ORM call per reading.

For each message (one per wing gateway per second, ~50-300 readings):

1. decode it (orjson) and check every reading a column at a time (``validation.py``);
2. sort each reading into one outcome, first match wins: the reading or its device_id is
   unusable, the device is unknown or belongs to another gateway (dead letter); the cell is not
   monitored (dropped, only counted: never stored); another field is bad, or the timestamp is
   too far ahead or too old (dead letter); a repeat of an accepted reading (duplicate: no
   effect); older than the device's newest (out of order: dead letter); else accepted;
3. evaluate the rules for every accepted reading in vectorised rounds (one reading per device
   per round, in time order) and add them to the per-minute rollups, on copies of the touched
   rows of the per-device arrays (``memory.py``);
4. write dead letters, new alerts (with the raw readings around them) in one transaction; only
   then put the copies back, so a failed write changes nothing in memory and the message can be
   offered again.

Rollups and counters stay in memory and are written in bulk by ``flush`` (from ``tick``, every
MONITORING_FLUSH_SECONDS, and at shutdown). ``tick`` also looks for silent devices. A message
that cannot be read at all is one dead letter and counts as one. See docs/monitoring-ingest.md.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import repeat

import numpy as np
import orjson
from django.db import IntegrityError, transaction

from saferprisons.audit.actors import SYSTEM
from saferprisons.audit.constants import Action
from saferprisons.audit.services import record
from saferprisons.core import clock

from . import conf, escalation, events
from .constants import (
    JOB_PURGE_RAW_READINGS,
    RULE_ORDER,
    SILENT_RULE,
    DeadLetterReason,
)
from .memory import (
    DedupeState,
    RawHistory,
    RollupRows,
    RollupState,
    carry_rows,
    put_rows,
    take_rows,
)
from .models import Alert, AlertReading, DeadLetter, Gateway
from .roster import Roster, fingerprint, load_roster, replay_floors
from .rules import (
    NONE,
    EngineState,
    Triggers,
    apply_round,
    check_silence,
    from_ms,
    london_second_of_day,
    to_ms,
)
from .storage import write_counters, write_rollups
from .validation import CODE, REASONS, Columns, Message, check_readings, decode_message

logger = logging.getLogger(__name__)

MINUTE_MS = 60_000
PRUNE_EVERY = timedelta(seconds=1)
EXCERPT_LENGTH = 500
COLUMN_REASONS = {
    DeadLetterReason.NOT_AN_OBJECT,
    DeadLetterReason.MISSING_FIELD,
    DeadLetterReason.WRONG_TYPE,
    DeadLetterReason.OUT_OF_RANGE,
}


@dataclass(frozen=True)
class GatewayRef:
    """The sender, as known from its token (HTTP) or its topic (MQTT)."""

    pk: int
    prison_pk: int

    @classmethod
    def of(cls, gateway: Gateway) -> GatewayRef:
        return cls(pk=gateway.pk, prison_pk=gateway.prison_id)


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    dropped_not_enrolled: int = 0
    dead_lettered: int = 0
    alerts_opened: int = 0
    # The newest accepted reading's time: once the minutes up to it are written, every reading
    # of the message is stored (a consumer acknowledges it then).
    newest_ms: int | None = None
    # Set when the message as a whole could not be read (MALFORMED_JSON or BAD_ENVELOPE).
    message_problem: DeadLetterReason | None = None
    message_detail: str = ""

    def counts(self) -> dict:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "dropped_not_enrolled": self.dropped_not_enrolled,
            "dead_lettered": self.dead_lettered,
            "alerts_opened": self.alerts_opened,
        }


@dataclass
class _Sorting:
    """Where each reading of a message went."""

    rows: np.ndarray  # roster row per reading, -1 when unknown
    reason: np.ndarray  # int8 dead-letter code per reading (0: not dead-lettered)
    accepted: np.ndarray  # reading indices, sorted by device then time
    duplicate: np.ndarray  # reading indices of repeats of accepted readings
    dropped: np.ndarray  # reading indices from cells not monitored
    # The newest reading time heard from a known device through its own gateway (enrolled or
    # not, not in the future): how far the stream has got, for the silence check.
    heard_until_ms: int | None = None


@dataclass
class _Effect:
    """What accepted readings do to memory, computed on copies of the touched rows."""

    rows: np.ndarray  # the touched roster rows (sorted, unique)
    engine: EngineState
    dedupe: DedupeState
    rollups: RollupState
    triggers: Triggers  # device = roster row
    closed: RollupRows
    rounds: list[np.ndarray] = field(default_factory=list)  # reading indices per round


@dataclass
class FlushBatch:
    """Rollups and counters taken out of memory to be written (``IngestPipeline.take_flush``).

    Once it is written, every reading ingested before it was taken and timed before
    ``cut_ms`` is stored (``cut_ms`` None: every reading ingested before it was taken)."""

    rollups: RollupRows
    counts: dict[tuple[int, int], list[int]]
    cut_ms: int | None = None
    written: int = 0  # rows already committed (a batch may be written in several transactions)

    def stores(self, newest_ms: int | None) -> bool:
        """Whether a message ingested before this batch was taken, whose newest accepted
        reading is at ``newest_ms``, is wholly stored once the batch is written."""
        return newest_ms is None or self.cut_ms is None or newest_ms < self.cut_ms


@dataclass(frozen=True)
class _Opened:
    alert_pk: int
    device_pk: int
    capture_until_ms: int
    row: int = -1  # the device's roster row
    at_ms: int = 0  # the time of the reading (or tick) that crossed the threshold


@dataclass(frozen=True)
class _Decoded:
    message: Message  # its readings, or why it has none
    gateway: GatewayRef
    refusal: DeadLetter | None  # the dead letter of a message that could not be read


@dataclass
class _Batch:
    """The readings of one or more messages, in one list, with where each came from."""

    items: list
    count: int  # messages
    message_of: np.ndarray  # per reading: the message's index
    gateway_pk: np.ndarray  # per reading: the sender
    prison_pk: np.ndarray
    refused: dict[int, _Decoded]  # messages that could not be read at all, by index

    @classmethod
    def of(cls, group: list[_Decoded]) -> _Batch:
        sizes = [len(decoded.message.items) for decoded in group]
        message_of = np.repeat(np.arange(len(group)), sizes)
        gateways = np.array([d.gateway.pk for d in group], dtype=np.int64)
        prisons = np.array([d.gateway.prison_pk for d in group], dtype=np.int64)
        return cls(
            items=[item for decoded in group for item in decoded.message.items],
            count=len(group),
            message_of=message_of,
            gateway_pk=gateways[message_of],
            prison_pk=prisons[message_of],
            refused={i: d for i, d in enumerate(group) if d.refusal is not None},
        )


def _without_repeated_devices(decoded: list[_Decoded]) -> list[list[_Decoded]]:
    """Runs of consecutive messages in which no device id appears in two messages."""
    groups: list[list[_Decoded]] = []
    seen: set[str] = set()
    for message in decoded:
        ids = {
            item.get("device_id")
            for item in message.message.items
            if type(item) is dict and type(item.get("device_id")) is str
        }
        if not groups or not seen.isdisjoint(ids):
            groups.append([])
            seen = set()
        groups[-1].append(message)
        seen |= ids
    return groups


def _at(values: np.ndarray, rows: np.ndarray, known: np.ndarray, fill) -> np.ndarray:
    """``values[rows]`` where known, else ``fill``."""
    out = np.full(len(rows), fill, dtype=values.dtype)
    out[known] = values[rows[known]]
    return out


def _storable(text: str, limit: int) -> str:
    """Text a database column accepts: no NUL, no lone surrogates."""
    text = text[:limit].replace("\x00", "\ufffd")
    return text.encode("utf-8", "replace").decode("utf-8")


def _float_or_none(value) -> float | None:
    value = float(value)
    return None if np.isnan(value) else value


def _from_float32(value) -> float | None:
    # float32 prints its shortest round-tripping decimal: 0.1 comes back as 0.1.
    return None if np.isnan(value) else float(str(value))


class IngestPipeline:
    """One per ingest process. Thread-safe (one message at a time)."""

    def __init__(self, *, roster_loader=load_roster):
        self._load_roster = roster_loader
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()  # one flush batch written at a time
        self.roster: Roster | None = None
        self.engine = EngineState.empty(0)
        self.dedupe = DedupeState.empty(0)
        self.rollups = RollupState.for_devices(np.empty(0, dtype=np.int64))
        self.history = RawHistory(0, _history_capacity())
        self._pending_rollups: list[RollupRows] = []
        self._counts: dict[tuple[int, int], list[int]] = {}
        self._captures: dict[int, list[tuple[int, int]]] = {}  # device pk -> (alert, until)
        self._captures_pruned_at: datetime | None = None
        self._next_roster_check: datetime | None = None
        self._next_flush: datetime | None = None
        self._next_silence_check: datetime | None = None
        self._heard_until_ms: int | None = None  # see _silence_clock_ms

    # --- Public -------------------------------------------------------------------------------

    def ingest(
        self, raw: bytes | str, *, gateway: GatewayRef, received_at: datetime | None = None
    ) -> IngestResult:
        """Take in one message. Raises only if the database fails (nothing is then changed)."""
        return self.ingest_many([(raw, gateway)], received_at=received_at)[0]

    def ingest_many(
        self,
        messages: list[tuple[bytes | str, GatewayRef]],
        *,
        received_at: datetime | None = None,
    ) -> list[IngestResult]:
        """Take in several messages (from any gateways) with the same outcome as taking them
        one by one, at a fraction of the cost: every step works on arrays, and costs about as
        much for 250 readings as for 5,000. Messages go in groups in which no device appears
        in two messages (a device's readings are then judged in the order they came), each
        group in one transaction. Returns the results of the messages taken, in order: all of
        them, or, if the database failed part way, those of the groups before (offer the rest
        again). Raises only if the database fails on the first group (nothing then changed)."""
        with self._lock:
            now = received_at or clock.now()
            self._ensure_roster(now)
            decoded = [self._decode(raw, gateway, now) for raw, gateway in messages]
            results: list[IngestResult] = []
            for group in _without_repeated_devices(decoded):
                try:
                    results += self._ingest_group(group, now)
                except Exception:  # the database (or a bug): what was taken stays taken
                    if results:
                        return results
                    raise
            return results

    def _decode(self, raw, gateway: GatewayRef, now: datetime) -> _Decoded:
        message = decode_message(
            raw, max_readings=conf.value("MONITORING_MAX_READINGS_PER_MESSAGE")
        )
        refusal = None
        if message.problem is not None:  # one dead letter, written with the rest
            refusal = self._refusal(raw, message, gateway, now)
        return _Decoded(message, gateway, refusal)

    def _ingest_group(self, group: list[_Decoded], now: datetime) -> list[IngestResult]:
        batch = _Batch.of(group)
        columns = check_readings(batch.items)
        sorting = self._sort(columns, batch.gateway_pk, to_ms(now))
        if sorting.heard_until_ms is not None:
            self._heard_until_ms = max(self._heard_until_ms or 0, sorting.heard_until_ms)
        effect = self._evaluate(columns, sorting)
        opened = self._write(effect, columns, batch, sorting, now)
        self._commit(effect, columns, sorting, opened)
        results = self._results(batch, columns, sorting, opened)
        for result, decoded in zip(results, group, strict=True):
            self._count(
                decoded.gateway.prison_pk,
                now,
                result.accepted,
                result.duplicates,
                result.dropped_not_enrolled,
                result.dead_lettered,
            )
        return results

    def _results(self, batch: _Batch, columns, sorting: _Sorting, opened) -> list[IngestResult]:
        def per_message(readings: np.ndarray) -> list[int]:
            return np.bincount(batch.message_of[readings], minlength=batch.count).tolist()

        accepted = sorting.accepted
        accepted_message = batch.message_of[accepted]
        newest = np.full(batch.count, NONE, dtype=np.int64)
        np.maximum.at(newest, accepted_message, columns.timestamp_ms[accepted])
        alerts = np.zeros(batch.count, dtype=np.int64)
        if opened:  # each to the message that carried the reading crossing the threshold
            rows, stamps = sorting.rows[accepted], columns.timestamp_ms[accepted]
            for alert in opened:
                match = (rows == alert.row) & (stamps == alert.at_ms)
                alerts[accepted_message[np.flatnonzero(match)[:1]]] += 1
        counts = zip(
            per_message(accepted),
            per_message(sorting.duplicate),
            per_message(sorting.dropped),
            per_message(np.flatnonzero(sorting.reason)),
            alerts.tolist(),
            newest.tolist(),
            strict=True,
        )
        results = [
            IngestResult(
                accepted=a,
                duplicates=d,
                dropped_not_enrolled=n,
                dead_lettered=x,
                alerts_opened=o,
                newest_ms=None if ms == NONE else ms,
            )
            for a, d, n, x, o, ms in counts
        ]
        for index, decoded in batch.refused.items():
            message = decoded.message
            results[index] = IngestResult(
                dead_lettered=1, message_problem=message.problem, message_detail=message.detail
            )
        return results

    def tick(self, now: datetime | None = None, *, flush: bool = True) -> int:
        """Look for silent devices and write rollups when due; returns alerts opened.
        ``flush=False``: the caller writes rollups itself (a consumer flushing in the
        background)."""
        with self._lock:
            now = now or clock.now()
            self._ensure_roster(now)
            opened = 0
            if self._next_silence_check is None or now >= self._next_silence_check:
                opened = self._check_silence(now)
                self._next_silence_check = now + timedelta(
                    seconds=conf.value("MONITORING_SILENCE_CHECK_SECONDS")
                )
            if flush and (self._next_flush is None or now >= self._next_flush):
                self.flush(now=now)
            return opened

    def flush(self, *, now: datetime | None = None, everything: bool = False) -> int:
        """Write finished minutes (``everything``: open ones too) and the counters."""
        with self._lock:
            now = now or clock.now()
            batch = self.take_flush(now=now, everything=everything)
            try:
                written = self.write_flush(batch)
            except BaseException:
                self.return_flush(batch)
                raise
            self._next_flush = now + timedelta(seconds=conf.value("MONITORING_FLUSH_SECONDS"))
            return written

    def take_flush(self, *, now: datetime | None = None, everything: bool = False) -> FlushBatch:
        """Take out what a flush writes (finished minutes, or ``everything``, and the counters),
        for ``write_flush``; in memory only, so quick. What is ingested afterwards goes into
        the next batch. Without ``everything`` each device-minute is written once, when it has
        ended (the minute before the current one, or the device has moved on to the next)."""
        with self._lock:
            now = now or clock.now()
            current_minute = to_ms(now) // MINUTE_MS * MINUTE_MS
            if everything:
                rows = np.flatnonzero(self.rollups.count > 0)
            else:
                rows = self.rollups.open_before(current_minute)
            self._pending_rollups.append(self.rollups.close(rows))
            batch = FlushBatch(
                RollupRows.concat(self._pending_rollups),
                self._counts,
                cut_ms=None if everything else current_minute,
            )
            self._pending_rollups = []
            self._counts = {}
            return batch

    def write_flush(
        self,
        batch: FlushBatch,
        *,
        rows_per_transaction: int | None = None,
        pause_seconds: float = 0.0,
    ) -> int:
        """Write a batch from ``take_flush``: in one transaction, or in transactions of
        ``rows_per_transaction`` rows ``pause_seconds`` apart (the end of a minute closes a
        row for every device at once: written in parts, the database is not taken from the
        other work for seconds). Needs no pipeline lock, so it may run on another thread (its
        own database connection) while messages are ingested; one batch is written at a time.
        If it raises, give the batch back (``return_flush``): what was committed is not."""
        seconds_per_reading = conf.value("MONITORING_READING_SECONDS")
        total = len(batch.rollups)
        step = rows_per_transaction or max(total, 1)
        with self._write_lock:
            while True:
                part = batch.rollups.part(batch.written, batch.written + step)
                with transaction.atomic():
                    write_rollups(part, seconds_per_reading=seconds_per_reading)
                    write_counters(batch.counts)
                batch.counts = {}
                batch.written += len(part)
                if batch.written >= total:
                    return total
                if pause_seconds:
                    time.sleep(pause_seconds)

    def return_flush(self, batch: FlushBatch) -> None:
        """What of a batch was not written: kept in memory for the next flush (rollups of a
        minute written in parts add up, so nothing is counted twice)."""
        with self._lock:
            self._pending_rollups.insert(0, batch.rollups.part(batch.written))
            for key, values in batch.counts.items():
                totals = self._counts.setdefault(key, [0, 0, 0, 0])
                for index, value in enumerate(values):
                    totals[index] += value

    # --- The roster -------------------------------------------------------------------------

    def _ensure_roster(self, now: datetime) -> None:
        roster = self.roster
        if roster is not None:
            expired = roster.valid_until is not None and now >= roster.valid_until
            if not expired and now < self._next_roster_check:
                return
            self._next_roster_check = now + timedelta(
                seconds=conf.value("MONITORING_ROSTER_CHECK_SECONDS")
            )
            if not expired and fingerprint() == roster.fingerprint:
                return
        self._install(self._load_roster(now), now)
        self._next_roster_check = now + timedelta(
            seconds=conf.value("MONITORING_ROSTER_CHECK_SECONDS")
        )

    def _install(self, new: Roster, now: datetime) -> None:
        old = self.roster
        old_pks = old.device_pks if old is not None else np.empty(0, dtype=np.int64)
        same_devices = old is not None and np.array_equal(old_pks, new.device_pks)
        if not same_devices:
            if old is not None:
                self.flush(now=now, everything=True)  # rollups restart with the new rows
            self._carry_memory(old_pks, new.device_pks)
            self._seed_new_devices(old_pks, new, now)
        was_monitored = _monitored_before(old, old_pks, new.device_pks)
        # Monitoring starts afresh when a cell becomes monitored (or a device appears).
        newly_monitored = np.flatnonzero(new.monitored & ~was_monitored)
        self.engine.reset(newly_monitored)
        if old is None:
            self._seed_last_seen(newly_monitored, now)
        self.roster = new

    def _carry_memory(self, old_pks: np.ndarray, new_pks: np.ndarray) -> None:
        """Per-device memory for a new set of devices: kept devices keep theirs."""
        self.engine = carry_rows(self.engine, old_pks, new_pks, EngineState.empty)
        self.dedupe = carry_rows(self.dedupe, old_pks, new_pks, DedupeState.empty)
        self.history = self.history.carried(old_pks, new_pks, _history_capacity())
        self.rollups = RollupState.for_devices(new_pks)

    def _seed_new_devices(self, old_pks: np.ndarray, new: Roster, now: datetime) -> None:
        """Readings already in a rollup before a restart are replays, never counted twice."""
        added = ~np.isin(new.device_pks, old_pks)
        if not added.any():
            return
        max_age = conf.value("MONITORING_MAX_READING_AGE_SECONDS")
        since = now - timedelta(seconds=max_age + 60)
        floors = replay_floors(new.device_pks, since)
        self.dedupe.replay_floor_ms[added] = floors[added]
        self.dedupe.last_ms[added] = np.maximum(self.dedupe.last_ms[added], floors[added])

    def _seed_last_seen(self, rows: np.ndarray, now: datetime) -> None:
        # At start-up, a device that was reporting before the restart counts as seen at the
        # restart, so one that died while the process was down still raises DEVICE_SILENT.
        recently = rows[self.dedupe.replay_floor_ms[rows] != NONE]
        self.engine.last_seen[recently] = to_ms(now)

    # --- Sorting readings -------------------------------------------------------------------

    def _sort(self, columns: Columns, gateway_pk: np.ndarray, now_ms: int) -> _Sorting:
        """``gateway_pk``: the sender of each reading."""
        roster = self.roster
        rows = np.fromiter(
            map(roster.row_by_external_id.get, columns.device_id, repeat(-1)),
            np.int64,
            columns.count,
        )
        reason = columns.device_problem.copy()
        known = rows >= 0

        def note(mask: np.ndarray, code) -> None:
            fresh = mask & (reason == 0)
            reason[fresh] = code[fresh] if isinstance(code, np.ndarray) else code

        note(~known, CODE[DeadLetterReason.UNKNOWN_DEVICE])
        note(
            _at(roster.gateway_pk, rows, known, -1) != gateway_pk,
            CODE[DeadLetterReason.WRONG_GATEWAY],
        )
        dropped = (reason == 0) & ~_at(roster.monitored, rows, known, False)
        usable = ~dropped
        note(usable & (columns.problem != 0), columns.problem)
        skew_ms = conf.value("MONITORING_MAX_CLOCK_SKEW_SECONDS") * 1000
        oldest_ms = now_ms - conf.value("MONITORING_MAX_READING_AGE_SECONDS") * 1000
        note(
            usable & (columns.timestamp_ms > now_ms + skew_ms),
            CODE[DeadLetterReason.FUTURE_TIMESTAMP],
        )
        note(usable & (columns.timestamp_ms < oldest_ms), CODE[DeadLetterReason.TOO_OLD])

        candidates = np.flatnonzero(usable & (reason == 0))
        stamps = columns.timestamp_ms[candidates]
        ordered = candidates[np.lexsort((stamps, rows[candidates]))]
        duplicate, out_of_order = self.dedupe.classify(rows[ordered], columns.timestamp_ms[ordered])
        reason[ordered[out_of_order]] = CODE[DeadLetterReason.OUT_OF_ORDER]
        heard = (reason == 0) | dropped
        heard &= known & (columns.timestamp_ms <= now_ms + skew_ms)
        return _Sorting(
            rows=rows,
            reason=reason,
            accepted=ordered[~duplicate & ~out_of_order],
            duplicate=ordered[duplicate],
            dropped=np.flatnonzero(dropped),
            heard_until_ms=int(columns.timestamp_ms[heard].max()) if heard.any() else None,
        )

    # --- Rules and rollups ------------------------------------------------------------------

    def _evaluate(self, columns: Columns, sorting: _Sorting) -> _Effect:
        accepted = sorting.accepted
        rows = sorting.rows[accepted]
        touched, local = np.unique(rows, return_inverse=True)
        effect = _Effect(
            rows=touched,
            engine=self.engine.take(touched),
            dedupe=take_rows(self.dedupe, touched),
            rollups=take_rows(self.rollups, touched),
            triggers=Triggers.none(),
            closed=RollupRows.empty(0),
        )
        if len(accepted) == 0:
            return effect
        table = self.roster.rules.take(touched)
        rank = _rank_within_runs(rows)
        triggers, closed = [], []
        for number in range(int(rank.max()) + 1):
            pick = np.flatnonzero(rank == number)
            readings = columns.round(accepted[pick], local[pick])
            fired = apply_round(effect.engine, table, readings)
            fired.device = touched[fired.device]
            triggers.append(fired)
            closed.append(
                effect.rollups.accumulate(local[pick], readings, columns.battery[accepted[pick]])
            )
            effect.dedupe.remember(local[pick], readings.timestamp_ms)
            effect.rounds.append(accepted[pick])
        effect.triggers = Triggers.concat(triggers)
        effect.closed = RollupRows.concat(closed)
        return effect

    def _commit(self, effect: _Effect, columns: Columns, sorting: _Sorting, opened) -> None:
        self.engine.put(effect.rows, effect.engine)
        put_rows(self.dedupe, effect.rows, effect.dedupe)
        put_rows(self.rollups, effect.rows, effect.rollups)
        for readings in effect.rounds:
            self.history.push(
                sorting.rows[readings],
                columns.round(readings, sorting.rows[readings]),
                columns.battery[readings],
            )
        if len(effect.closed):
            self._pending_rollups.append(effect.closed)
        for alert in opened:
            self._captures.setdefault(alert.device_pk, []).append(
                (alert.alert_pk, alert.capture_until_ms)
            )

    def _silence_clock_ms(self, now: datetime) -> int:
        """The time a device's silence is measured to: how far the stream of readings has got
        (the newest reading heard from any device), not the wall clock, so that a process
        working through a backlog (a restart, a slow database) does not take every cell for
        silent. If nothing has been heard for MONITORING_STREAM_STALL_SECONDS, the wall clock:
        then every gateway, or the ingest itself, has stopped, and staff must know."""
        now_ms = to_ms(now)
        heard = self._heard_until_ms
        if heard is None:
            seen = self.engine.last_seen[self.engine.last_seen != NONE]
            heard = int(seen.max()) if len(seen) else None
        stall_ms = conf.value("MONITORING_STREAM_STALL_SECONDS") * 1000
        if heard is None or now_ms - heard >= stall_ms:
            return now_ms
        return min(now_ms, heard)

    def _check_silence(self, now: datetime) -> int:
        before = self.engine.fired[:, SILENT_RULE].copy()
        at_ms = self._silence_clock_ms(now)
        fired = check_silence(self.engine, self.roster.rules, at_ms, self.roster.monitored)
        if len(fired) == 0:
            return 0
        try:
            with transaction.atomic():
                opened = self._open_alerts(fired, None, None, now)
        except Exception:
            self.engine.fired[:, SILENT_RULE] = before
            raise
        for alert in opened:
            self._captures.setdefault(alert.device_pk, []).append(
                (alert.alert_pk, alert.capture_until_ms)
            )
        return len(opened)

    # --- Writes -----------------------------------------------------------------------------

    def _write(self, effect, columns, batch: _Batch, sorting, now) -> list[_Opened]:
        """The messages' database writes, in one transaction (none for clean messages)."""
        capturing = self._capturing(sorting, now)
        if not (np.any(sorting.reason) or len(effect.triggers) or capturing or batch.refused):
            return []
        with transaction.atomic():
            DeadLetter.objects.bulk_create([d.refusal for d in batch.refused.values()])
            self._write_dead_letters(columns, batch, sorting, now)
            opened = self._open_alerts(effect.triggers, columns, sorting, now)
            if capturing:
                self._write_captured(columns, sorting, now)
        return opened

    def _capturing(self, sorting: _Sorting, now: datetime) -> bool:
        """Whether a device of these messages is in the window after an alert. Checked before
        a transaction is opened: while any alert's window is open, most messages have nothing
        to keep."""
        if not self._captures:
            return False
        self._forget_old_captures(now)
        if not self._captures or len(sorting.accepted) == 0:
            return False
        device_pks = self.roster.device_pks[sorting.rows[sorting.accepted]]
        watched = np.fromiter(self._captures, np.int64, len(self._captures))
        return bool(np.isin(device_pks, watched).any())

    def _count(
        self, prison_pk: int, now: datetime, accepted, duplicates, dropped, dead_lettered
    ) -> None:
        minute = to_ms(now) // MINUTE_MS * MINUTE_MS
        totals = self._counts.setdefault((prison_pk, minute), [0, 0, 0, 0])
        for index, value in enumerate((accepted, duplicates, dropped, dead_lettered)):
            totals[index] += value

    def _refusal(self, raw, message, gateway: GatewayRef, now) -> DeadLetter:
        """The one dead letter of a message that could not be read at all."""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes | bytearray) else str(raw)
        return DeadLetter(
            received_at=now,
            prison_id=gateway.prison_pk,
            gateway_id=gateway.pk,
            reason=message.problem,
            detail=_storable(message.detail, 200),
            payload_excerpt=_storable(text, EXCERPT_LENGTH),
        )

    def _write_dead_letters(self, columns, batch: _Batch, sorting: _Sorting, now) -> None:
        bad = np.flatnonzero(sorting.reason)
        # At most so many per message (readings are in message order).
        bad = bad[
            _rank_within_runs(batch.message_of[bad])
            < conf.value("MONITORING_DEAD_LETTERS_PER_MESSAGE")
        ]
        if len(bad) == 0:
            return
        letters = []
        for row in bad.tolist():
            reason = REASONS[int(sorting.reason[row]) - 1]
            letters.append(
                DeadLetter(
                    received_at=now,
                    prison_id=int(batch.prison_pk[row]),
                    gateway_id=int(batch.gateway_pk[row]),
                    device_external_id=_storable(columns.device_id[row], 64),
                    reason=reason,
                    detail=_storable(self._detail(reason, columns, row), 200),
                    payload_excerpt=_storable(_excerpt(batch.items[row]), EXCERPT_LENGTH),
                )
            )
        DeadLetter.objects.bulk_create(letters)

    def _detail(self, reason: DeadLetterReason, columns: Columns, row: int) -> str:
        if reason in COLUMN_REASONS:
            return columns.describe_problem(row)[1]
        if reason == DeadLetterReason.UNKNOWN_DEVICE:
            return "device_id is not an installed device"
        if reason == DeadLetterReason.WRONG_GATEWAY:
            return "device_id is registered to another gateway"
        return f"timestamp_ms {int(columns.timestamp_ms[row])}: {reason.label}"

    def _open_alerts(self, triggers: Triggers, columns, sorting, now: datetime) -> list[_Opened]:
        """One alert per trigger; a cell and rule that already has an open alert is a no-op."""
        opened = []
        for index in range(len(triggers)):
            alert = self._open_alert(triggers, index, now)
            if alert is None:
                continue
            row = int(triggers.device[index])
            at_ms = int(triggers.at_ms[index])
            after_ms = conf.value("MONITORING_ALERT_WINDOW_AFTER_SECONDS") * 1000
            self._keep_raw_readings(alert.pk, row, at_ms, columns, sorting)
            device_pk = int(self.roster.device_pks[row])
            opened.append(_Opened(alert.pk, device_pk, at_ms + after_ms, row, at_ms))
        if opened:
            alert_ids = [item.alert_pk for item in opened]
            # The chain is copied and its jobs queued in this transaction (docs/adr/0011).
            escalation.start_escalations(alert_ids)
            events.announce(events.alert_opened, alert_ids=alert_ids)
            _schedule_purge(now)
        return opened

    def _open_alert(self, triggers: Triggers, index: int, now: datetime) -> Alert | None:
        roster = self.roster
        row = int(triggers.device[index])
        rule = int(triggers.rule[index])
        at_ms = int(triggers.at_ms[index])
        setting = roster.setting(row, rule)
        is_day = setting.is_day(int(london_second_of_day(np.array([at_ms]))[0]))
        prisoner = int(roster.prisoner_pk[row])
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    prison_id=int(roster.prison_pk[row]),
                    cell_id=int(roster.cell_pk[row]),
                    prisoner_id=prisoner or None,
                    device_id=int(roster.device_pks[row]),
                    rule=RULE_ORDER[rule],
                    priority=setting.priority,
                    threshold_seconds=setting.threshold_seconds(is_day) or 0,
                    opened_at=now,
                    first_reading_at=from_ms(int(triggers.since_ms[index])),
                    triggered_at=from_ms(at_ms),
                    measured_value=_float_or_none(triggers.value[index]),
                    measured_quality=_float_or_none(triggers.quality[index]),
                )
        except IntegrityError:
            return None  # this cell already has this rule's alert open
        record(
            actor=SYSTEM,
            action=Action.CREATE,
            object_type="monitoring_alert",
            object_id=alert.public_id,
            prison_code=roster.prison_codes.get(alert.prison_id, ""),
            after={
                "rule": alert.rule,
                "priority": alert.priority,
                "threshold_seconds": alert.threshold_seconds,
                "first_reading_at": alert.first_reading_at,
                "triggered_at": alert.triggered_at,
            },
        )
        return alert

    def _keep_raw_readings(self, alert_pk: int, row: int, at_ms: int, columns, sorting) -> None:
        before_ms = conf.value("MONITORING_ALERT_WINDOW_BEFORE_SECONDS") * 1000
        after_ms = conf.value("MONITORING_ALERT_WINDOW_AFTER_SECONDS") * 1000
        kept = [
            _reading_from_history(alert_pk, entry)
            for entry in self.history.window(row, at_ms - before_ms, at_ms)
        ]
        if columns is not None:
            accepted = sorting.accepted[sorting.rows[sorting.accepted] == row]
            stamps = columns.timestamp_ms[accepted]
            inside = accepted[(stamps >= at_ms - before_ms) & (stamps <= at_ms + after_ms)]
            kept += [_reading_from_columns(alert_pk, columns, i) for i in inside.tolist()]
        AlertReading.objects.bulk_create(kept, ignore_conflicts=True)

    def _forget_old_captures(self, now: datetime) -> None:
        """Forget the windows no reading can fall in any more (a reading that old is dead-
        lettered), at most once a second: a walk over every alert of the last minutes."""
        if self._captures_pruned_at is not None and now - self._captures_pruned_at < PRUNE_EVERY:
            return
        oldest_ms = to_ms(now) - conf.value("MONITORING_MAX_READING_AGE_SECONDS") * 1000
        self._captures = {
            pk: live
            for pk, entries in self._captures.items()
            if (live := [(a, until) for a, until in entries if until >= oldest_ms])
        }
        self._captures_pruned_at = now

    def _write_captured(self, columns: Columns, sorting: _Sorting, now: datetime) -> None:
        """Readings in the window after alerts opened by earlier messages (a window that has
        closed no longer matches: the reading is later than its end)."""
        if not self._captures:
            return
        accepted = sorting.accepted
        device_pks = self.roster.device_pks[sorting.rows[accepted]]
        kept = []
        for reading, device_pk in zip(accepted.tolist(), device_pks.tolist(), strict=True):
            for alert_pk, until in self._captures.get(device_pk, ()):
                if columns.timestamp_ms[reading] <= until:
                    kept.append(_reading_from_columns(alert_pk, columns, reading))
        AlertReading.objects.bulk_create(kept, ignore_conflicts=True)


@dataclass
class _Flags:
    value: np.ndarray

    @classmethod
    def empty(cls, count: int) -> _Flags:
        return cls(np.zeros(count, dtype=bool))


def _monitored_before(old: Roster | None, old_pks: np.ndarray, new_pks: np.ndarray) -> np.ndarray:
    """Per new device, whether it was monitored in the old roster."""
    if old is None:
        return np.zeros(len(new_pks), dtype=bool)
    if np.array_equal(old_pks, new_pks):
        return old.monitored
    return carry_rows(_Flags(old.monitored), old_pks, new_pks, _Flags.empty).value


def _history_capacity() -> int:
    """Readings kept per device for the window before an alert (one per nominal interval)."""
    before = conf.value("MONITORING_ALERT_WINDOW_BEFORE_SECONDS")
    return before // max(conf.value("MONITORING_READING_SECONDS"), 1) + 1


def _rank_within_runs(sorted_values: np.ndarray) -> np.ndarray:
    """0 for the first of each run of equal values, 1 for the second, ..."""
    count = len(sorted_values)
    starts = np.ones(count, dtype=bool)
    starts[1:] = sorted_values[1:] != sorted_values[:-1]
    run_start = np.maximum.accumulate(np.where(starts, np.arange(count), 0))
    return np.arange(count) - run_start


def _excerpt(item) -> str:
    try:
        return orjson.dumps(item).decode()[:EXCERPT_LENGTH]
    except TypeError:
        return repr(item)[:EXCERPT_LENGTH]


def _reading_from_columns(alert_pk: int, columns: Columns, i: int) -> AlertReading:
    return AlertReading(
        alert_id=alert_pk,
        recorded_at=from_ms(int(columns.timestamp_ms[i])),
        persons_present=int(columns.persons[i]),
        activity_level=float(columns.activity[i]),
        zone=int(columns.zone[i]),
        pulse_bpm=_float_or_none(columns.pulse[i]),
        pulse_quality=_float_or_none(columns.pulse_quality[i]),
        breathing_rate=_float_or_none(columns.breathing[i]),
        breathing_quality=_float_or_none(columns.breathing_quality[i]),
        tampered=bool(columns.tampered[i]),
        battery_percent=_float_or_none(columns.battery[i]),
    )


def _reading_from_history(alert_pk: int, entry) -> AlertReading:
    return AlertReading(
        alert_id=alert_pk,
        recorded_at=from_ms(int(entry["timestamp_ms"])),
        persons_present=int(entry["persons"]),
        activity_level=_from_float32(entry["activity"]),
        zone=int(entry["zone"]),
        pulse_bpm=_from_float32(entry["pulse"]),
        pulse_quality=_from_float32(entry["pulse_quality"]),
        breathing_rate=_from_float32(entry["breathing"]),
        breathing_quality=_from_float32(entry["breathing_quality"]),
        tampered=bool(entry["tampered"]),
        battery_percent=_from_float32(entry["battery"]),
    )


def _schedule_purge(now: datetime) -> None:
    """Queue the retention job for the day these raw readings fall due (once per day)."""
    from saferprisons.jobs import services as jobs

    days = conf.value("MONITORING_RAW_READING_RETENTION_DAYS")
    due = (now + timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    due += timedelta(days=1)
    jobs.enqueue(
        kind=JOB_PURGE_RAW_READINGS,
        due_at=due,
        dedupe_key=f"{JOB_PURGE_RAW_READINGS}:{due:%Y-%m-%d}",
    )


# --- The process's pipeline -----------------------------------------------------------------------

_default: IngestPipeline | None = None
_default_lock = threading.Lock()


def default_pipeline() -> IngestPipeline:
    """The pipeline of this process (the HTTP endpoint's; a consumer may make its own)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = IngestPipeline()
        return _default


def reset_default_pipeline() -> None:
    """Forget the process's pipeline (tests; after a deployment changes settings)."""
    global _default
    with _default_lock:
        _default = None
