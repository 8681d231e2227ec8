"""Whether monitoring helps: measures per prison and period, and the ingest operations figures.

The arithmetic is pure (``summarise``, ``night_windows``, ``person_nights``, ``is_night``); the
selectors at the bottom read what it needs in a fixed number of queries, scoped to the
principal, and audit every view and export. Definitions (also in
docs/guides/monitoring-measures.md):

- The **period** is whole days in Europe/London, first to last inclusive: from midnight at the
  start of the first day to midnight at the end of the last (so a day with a clock change is 23
  or 25 hours long). An alert belongs to the period it was opened in.
- **Time to acknowledge** is from ``opened_at`` to ``acknowledged_at``, over the alerts opened in
  the period that have been acknowledged by the time the report is made (resolving an alert
  acknowledges it too). p50 and p95 are numpy percentiles (linear interpolation), to a tenth of
  a second. Alerts not acknowledged yet are counted, never guessed.
- The **false-alarm share** is false alarms over the alerts opened in the period and resolved.
- **Night** is the monitoring rules' built-in night: from the end of the day
  (``DEFAULT_DAY_ENDS``, 20:00) to the start of the next (``DEFAULT_DAY_STARTS``, 08:00),
  London wall-clock time, so it is 13 hours on the night the clocks go back and 11 on the night
  they go forward. Only the part of a night inside the period counts.
- A **person-night** is one enrolled person for one whole night: each enrolment contributes, for
  each night, the share of that night's length it covers (a night counts as one however long it
  is in hours). **Alerts per person-night** is the alerts opened at night over the
  person-nights of the same prison and period.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import ExtractHour, ExtractMinute

from saferprisons.audit.constants import Action
from saferprisons.audit.services import record
from saferprisons.core import clock
from saferprisons.core.errors import NotFound
from saferprisons.core.permissions import has_permission, principal_prison_ids
from saferprisons.estate import permissions as estate_perms
from saferprisons.estate.models import Prison
from saferprisons.jobs import permissions as jobs_perms
from saferprisons.jobs.models import WorkerHeartbeat
from saferprisons.jobs.rules import is_stale

from . import permissions as perms
from .constants import (
    DEFAULT_DAY_ENDS,
    DEFAULT_DAY_STARTS,
    RULE_ORDER,
    AlertOutcome,
    DeadLetterReason,
    Priority,
)
from .heartbeat import ConsumerStatus, consumer_statuses
from .models import Alert, DeadLetter, Enrolment, IngestCounter

DEFAULT_PERIOD_DAYS = 28
MAX_PERIOD_DAYS = 366
NIGHT_STARTS = time.fromisoformat(DEFAULT_DAY_ENDS)
NIGHT_ENDS = time.fromisoformat(DEFAULT_DAY_STARTS)
PRIORITY_ORDER = (Priority.HIGH, Priority.MEDIUM, Priority.LOW)
OUTCOME_ORDER = tuple(AlertOutcome.values)
# Enrolments per block of the person-night arithmetic: bounds the enrolments x nights matrix.
_ENROLMENT_BLOCK = 2000


# --- The period -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole London days, ``first`` to ``last`` inclusive."""

    first: date
    last: date

    @classmethod
    def ending(cls, last: date, days: int = DEFAULT_PERIOD_DAYS) -> Period:
        return cls(last - timedelta(days=days - 1), last)

    @property
    def start(self) -> datetime:
        return _london(self.first, time(0))

    @property
    def end(self) -> datetime:
        return _london(self.last + timedelta(days=1), time(0))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def _london(day: date, at: time) -> datetime:
    """A London wall-clock moment, in UTC: Python subtracts two datetimes that share a tzinfo
    by wall clock, which would make every night 12 hours long."""
    return datetime.combine(day, at, tzinfo=clock.LONDON).astimezone(UTC)


def default_period() -> Period:
    """The last 28 days, today included."""
    return Period.ending(clock.today_london())


def period_problems(period: Period, today: date) -> list[tuple[str, str]]:
    """What is wrong with a period someone typed, as (field, message) pairs."""
    problems = []
    if period.first > period.last:
        problems.append(("to_day", "The end date must be the same as or after the start date"))
    if period.last > today:
        problems.append(("to_day", "The end date must be today or in the past"))
    if period.days > MAX_PERIOD_DAYS:
        problems.append(("from_day", f"The period must be {MAX_PERIOD_DAYS} days or shorter"))
    return problems


# --- Night and person-nights (pure) ---------------------------------------------------------------


@dataclass(frozen=True)
class NightWindow:
    """One night's part inside the period, and the whole night's length (its unit)."""

    start: datetime
    end: datetime
    length_seconds: float


def night_windows(
    period: Period, starts: time = NIGHT_STARTS, ends: time = NIGHT_ENDS
) -> list[NightWindow]:
    """The nights that touch the period (the one ending on its first morning to the one starting
    on its last evening), clipped to it."""
    windows = []
    day = period.first - timedelta(days=1)
    while day <= period.last:
        night_start, night_end = _london(day, starts), _london(day + timedelta(days=1), ends)
        clipped_start, clipped_end = max(night_start, period.start), min(night_end, period.end)
        if clipped_start < clipped_end:
            length = (night_end - night_start).total_seconds()
            windows.append(NightWindow(clipped_start, clipped_end, length))
        day += timedelta(days=1)
    return windows


def person_nights(
    spans: Sequence[tuple[datetime, datetime]], windows: Sequence[NightWindow]
) -> np.ndarray:
    """Each span's (enrolment's) person-nights: the share of each night it covers, summed."""
    totals = np.zeros(len(spans))
    if not spans or not windows:
        return totals
    # Seconds since the first window (all in UTC, so exact across clock changes); each night's
    # own length, not 12 hours, is the unit.
    origin = windows[0].start
    night_start = np.array([(w.start - origin).total_seconds() for w in windows])
    night_end = np.array([(w.end - origin).total_seconds() for w in windows])
    night_length = np.array([w.length_seconds for w in windows])
    for block in range(0, len(spans), _ENROLMENT_BLOCK):
        chunk = spans[block : block + _ENROLMENT_BLOCK]
        span_start = np.array([(s - origin).total_seconds() for s, _ in chunk])[:, None]
        span_end = np.array([(e - origin).total_seconds() for _, e in chunk])[:, None]
        covered = np.minimum(span_end, night_end) - np.maximum(span_start, night_start)
        shares = np.clip(covered, 0.0, None) / night_length
        totals[block : block + len(chunk)] = shares.sum(axis=1)
    return totals


def is_night(moment: datetime, starts: time = NIGHT_STARTS, ends: time = NIGHT_ENDS) -> bool:
    """Whether a moment falls in a night (London wall-clock time)."""
    return is_night_clock(clock.local(moment).time(), starts, ends)


def is_night_clock(wall_clock: time, starts: time = NIGHT_STARTS, ends: time = NIGHT_ENDS) -> bool:
    return wall_clock >= starts or wall_clock < ends


# --- The measures (pure) --------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertFact:
    """What the measures need of one alert."""

    rule: str
    priority: str
    ack_seconds: float | None  # opened to acknowledged; None: not acknowledged yet
    outcome: str  # "" while not resolved (the database keeps "resolved" and "has an outcome" equal)
    at_night: bool


@dataclass(frozen=True)
class Measures:
    alerts: int
    acknowledged: int
    ack_p50_seconds: float | None
    ack_p95_seconds: float | None
    resolved: int
    outcomes: dict[str, int]  # every AlertOutcome, in OUTCOME_ORDER
    night_alerts: int
    person_nights: float

    @property
    def never_acknowledged(self) -> int:
        """Opened in the period and not acknowledged yet (when the report was made)."""
        return self.alerts - self.acknowledged

    @property
    def unresolved(self) -> int:
        return self.alerts - self.resolved

    @property
    def false_alarms(self) -> int:
        return self.outcomes[AlertOutcome.FALSE_ALARM]

    @property
    def false_alarm_share(self) -> float | None:
        """False alarms over resolved alerts; None when none were resolved."""
        return self.false_alarms / self.resolved if self.resolved else None

    @property
    def alerts_per_person_night(self) -> float | None:
        """Night-time alerts per enrolled person-night; None without any person-night."""
        return self.night_alerts / self.person_nights if self.person_nights else None


def summarise(facts: Iterable[AlertFact], person_nights: float) -> Measures:
    facts = list(facts)
    ack_seconds = np.array([f.ack_seconds for f in facts if f.ack_seconds is not None])
    p50 = p95 = None
    if ack_seconds.size:
        p50, p95 = (round(float(v), 1) for v in np.percentile(ack_seconds, [50, 95]))
    outcome_counts = Counter(f.outcome for f in facts if f.outcome)
    return Measures(
        alerts=len(facts),
        acknowledged=int(ack_seconds.size),
        ack_p50_seconds=p50,
        ack_p95_seconds=p95,
        resolved=sum(outcome_counts.values()),
        outcomes={outcome: outcome_counts[outcome] for outcome in OUTCOME_ORDER},
        night_alerts=sum(1 for f in facts if f.at_night),
        person_nights=float(person_nights),
    )


@dataclass(frozen=True)
class RuleMeasures:
    rule: str
    priority: str
    measures: Measures


@dataclass(frozen=True)
class PrisonMeasures:
    prison: Prison
    total: Measures
    by_rule: list[RuleMeasures]  # every rule x priority, in RULE_ORDER then PRIORITY_ORDER

    @property
    def rules_with_alerts(self) -> list[RuleMeasures]:
        return [row for row in self.by_rule if row.measures.alerts]


@dataclass(frozen=True)
class MeasuresReport:
    period: Period
    prisons: list[PrisonMeasures]
    generated_at: datetime
    night_starts: time = NIGHT_STARTS
    night_ends: time = NIGHT_ENDS
    all_prisons: bool = False


def prison_measures(
    prison: Prison, facts: Sequence[AlertFact], prison_person_nights: float
) -> PrisonMeasures:
    grouped: dict[tuple[str, str], list[AlertFact]] = defaultdict(list)
    for fact in facts:
        grouped[(fact.rule, fact.priority)].append(fact)
    return PrisonMeasures(
        prison=prison,
        total=summarise(facts, prison_person_nights),
        by_rule=[
            RuleMeasures(rule, priority, summarise(grouped[(rule, priority)], prison_person_nights))
            for rule in RULE_ORDER
            for priority in PRIORITY_ORDER
        ],
    )


# --- Scoped reads ---------------------------------------------------------------------------------


def can_view_measures(principal) -> bool:
    return has_permission(principal, perms.VIEW_ALERTS) or has_permission(
        principal, estate_perms.VIEW_AGGREGATES
    )


def measures_prisons(principal) -> list[Prison]:
    """Prisons whose measures the principal may see: every prison for whoever sees estate-wide
    counts (HQ analysts), else the prisons whose alerts they see."""
    if has_permission(principal, estate_perms.VIEW_AGGREGATES):
        return list(Prison.objects.order_by("name", "code"))
    if has_permission(principal, perms.VIEW_ALERTS):
        return list(
            Prison.objects.filter(pk__in=principal_prison_ids(principal)).order_by("name", "code")
        )
    return []


def measures_prison(principal, code: str) -> Prison:
    """One prison among the principal's, by code; NotFound for any other (or none)."""
    for prison in measures_prisons(principal):
        if prison.code == code:
            return prison
    raise NotFound("No such prison among yours")


def measures_report(
    principal, *, period: Period, prison: Prison | None = None, export: bool = False
) -> MeasuresReport:
    """The measures of one prison, or of every prison in scope that took part in the period (an
    enrolment or an alert in it). Counts only: no names. Audited as a view or an export."""
    in_scope = {p.pk: p for p in measures_prisons(principal)}
    if prison is not None and prison.pk not in in_scope:
        raise NotFound("No such prison among yours")
    prison_ids = [prison.pk] if prison is not None else list(in_scope)
    start, end = period.start, period.end
    windows = night_windows(period)

    # The database works out the time to acknowledge and the London wall-clock time: reading
    # three timestamps per alert costs more than everything else here put together.
    alerts = (
        Alert.objects.filter(prison_id__in=prison_ids, opened_at__gte=start, opened_at__lt=end)
        .annotate(
            ack=ExpressionWrapper(
                F("acknowledged_at") - F("opened_at"), output_field=DurationField()
            ),
            local_hour=ExtractHour("opened_at", tzinfo=clock.LONDON),
            local_minute=ExtractMinute("opened_at", tzinfo=clock.LONDON),
        )
        .order_by()
        .values_list(
            "prison_id", "rule", "priority", "ack", "outcome", "local_hour", "local_minute"
        )
    )
    facts: dict[int, list[AlertFact]] = defaultdict(list)
    for prison_id, rule, priority, ack, outcome, hour, minute in alerts:
        facts[prison_id].append(
            AlertFact(
                rule,
                priority,
                ack.total_seconds() if ack is not None else None,
                outcome,
                is_night_clock(time(hour, minute)),
            )
        )
    enrolments = list(
        Enrolment.objects.filter(prison_id__in=prison_ids, starts_at__lt=end, ends_at__gt=start)
        .order_by()
        .values_list("prison_id", "starts_at", "ends_at")
    )
    nights = person_nights([(s, e) for _, s, e in enrolments], windows)
    nights_by_prison: dict[int, float] = defaultdict(float)
    for (prison_id, _, _), value in zip(enrolments, nights, strict=True):
        nights_by_prison[prison_id] += float(value)
    # To a millionth of a night: thirds of nights add up to whole ones, not 0.9999999999999999.
    nights_by_prison = defaultdict(float, {k: round(v, 6) for k, v in nights_by_prison.items()})

    if prison is not None:
        shown = [prison]
    else:
        taking_part = set(facts) | set(nights_by_prison)
        shown = [p for p in in_scope.values() if p.pk in taking_part]
    report = MeasuresReport(
        period=period,
        prisons=[prison_measures(p, facts[p.pk], nights_by_prison[p.pk]) for p in shown],
        generated_at=clock.now(),
        all_prisons=prison is None,
    )
    record(
        actor=principal,
        action=Action.EXPORT if export else Action.VIEW,
        object_type="monitoring_measures",
        prison_code=prison.code if prison is not None else "",
        details={
            "first_day": period.first.isoformat(),
            "last_day": period.last.isoformat(),
            "prisons": [p.prison.code for p in report.prisons],
            "alerts": sum(p.total.alerts for p in report.prisons),
        },
    )
    return report


# --- CSV (pure) -----------------------------------------------------------------------------------

CSV_HEADER = (
    "prison_code",
    "prison_name",
    "first_day",
    "last_day",
    "rule",
    "priority",
    "alerts",
    "acknowledged",
    "never_acknowledged",
    "ack_p50_seconds",
    "ack_p95_seconds",
    "resolved",
    "unresolved",
    *(f"outcome_{outcome.lower()}" for outcome in OUTCOME_ORDER),
    "false_alarm_share",
    "night_alerts",
    "person_nights",
    "alerts_per_person_night",
)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """Text a spreadsheet shows as text: a leading quote before anything it would evaluate."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def _number(value: float | None, places: int) -> str:
    return "" if value is None else f"{value:.{places}f}"


def csv_rows(report: MeasuresReport) -> list[list[str]]:
    """One row per prison x rule x priority (every combination, zeros included, so periods and
    prisons line up), each cell made spreadsheet-safe."""
    rows = [list(CSV_HEADER)]
    for prison in report.prisons:
        for row in prison.by_rule:
            m = row.measures
            cells = [
                prison.prison.code,
                prison.prison.name,
                report.period.first.isoformat(),
                report.period.last.isoformat(),
                row.rule,
                row.priority,
                str(m.alerts),
                str(m.acknowledged),
                str(m.never_acknowledged),
                _number(m.ack_p50_seconds, 1),
                _number(m.ack_p95_seconds, 1),
                str(m.resolved),
                str(m.unresolved),
                *(str(m.outcomes[outcome]) for outcome in OUTCOME_ORDER),
                _number(m.false_alarm_share, 4),
                str(m.night_alerts),
                _number(m.person_nights, 3),
                _number(m.alerts_per_person_night, 4),
            ]
            rows.append([spreadsheet_safe(cell) for cell in cells])
    return rows


# --- Ingest operations ----------------------------------------------------------------------------

DEAD_LETTERS_SHOWN = 25
COUNTER_FIELDS = ("accepted", "duplicate", "dropped_not_enrolled", "dead_lettered")


@dataclass(frozen=True)
class IngestCounts:
    accepted: int = 0
    duplicate: int = 0
    dropped_not_enrolled: int = 0
    dead_lettered: int = 0


@dataclass(frozen=True)
class PrisonIngest:
    prison: Prison
    last_hour: IngestCounts
    last_day: IngestCounts


@dataclass(frozen=True)
class ProcessBeat:
    """A background worker's heartbeat."""

    name: str
    started_at: datetime
    last_beat_at: datetime
    stopped_at: datetime | None
    alive: bool


@dataclass(frozen=True)
class OperationsReport:
    generated_at: datetime
    prisons: list[PrisonIngest]
    dead_letters: list[DeadLetter]
    dead_letter_reasons: list[tuple[str, str, int]]  # reason, label, count in the last day
    workers: list[ProcessBeat]  # empty without jobs.view_status (as the status page)
    consumers: list[ConsumerStatus]  # the MQTT consumers; the same
    can_see_processes: bool


def operations_report(principal) -> OperationsReport:
    """Ingest counters for the last hour and day (the minutes that began in it) and the latest
    dead letters, for the principal's prisons; the workers' and MQTT consumers' heartbeats.
    Audited."""
    prison_ids = (
        principal_prison_ids(principal) if has_permission(principal, perms.VIEW_OPERATIONS) else []
    )
    now = clock.now()
    hour_ago, day_ago = now - timedelta(hours=1), now - timedelta(days=1)
    sums = {}
    for name in COUNTER_FIELDS:
        sums[f"day_{name}"] = Sum(name)
        sums[f"hour_{name}"] = Sum(name, filter=Q(minute__gt=hour_ago))
    counted = {
        row["prison_id"]: row
        for row in IngestCounter.objects.filter(prison_id__in=prison_ids, minute__gt=day_ago)
        .order_by()
        .values("prison_id")
        .annotate(**sums)
    }
    prisons = []
    for prison in Prison.objects.filter(pk__in=prison_ids).order_by("name", "code"):
        row = counted.get(prison.pk, {})
        prisons.append(
            PrisonIngest(
                prison,
                IngestCounts(**{n: row.get(f"hour_{n}") or 0 for n in COUNTER_FIELDS}),
                IngestCounts(**{n: row.get(f"day_{n}") or 0 for n in COUNTER_FIELDS}),
            )
        )
    scoped_letters = DeadLetter.objects.filter(prison_id__in=prison_ids)
    letters = list(
        scoped_letters.select_related("prison").order_by("-received_at", "-id")[:DEAD_LETTERS_SHOWN]
    )
    reason_counts = dict(
        scoped_letters.filter(received_at__gt=day_ago)
        .order_by()
        .values_list("reason")
        .annotate(n=Count("id"))
    )
    reasons = [
        (reason, DeadLetterReason(reason).label, reason_counts[reason])
        for reason in DeadLetterReason.values
        if reason_counts.get(reason)
    ]
    can_see_processes = has_permission(principal, jobs_perms.VIEW_STATUS)
    report = OperationsReport(
        generated_at=now,
        prisons=prisons,
        dead_letters=letters,
        dead_letter_reasons=reasons,
        workers=worker_beats(now) if can_see_processes else [],
        consumers=consumer_statuses(now) if can_see_processes else [],
        can_see_processes=can_see_processes,
    )
    record(
        actor=principal,
        action=Action.VIEW,
        object_type="monitoring_operations",
        details={"prisons": [p.prison.code for p in prisons], "dead_letters_shown": len(letters)},
    )
    return report


def worker_beats(now: datetime) -> list[ProcessBeat]:
    stale_after = settings.WORKER_STALE_AFTER_SECONDS
    return [
        ProcessBeat(
            beat.worker_name,
            beat.started_at,
            beat.last_beat_at,
            beat.stopped_at,
            alive=beat.stopped_at is None and not is_stale(beat.last_beat_at, now, stale_after),
        )
        for beat in WorkerHeartbeat.objects.order_by("worker_name")
    ]
