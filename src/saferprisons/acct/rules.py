"""Pure ACCT rules: the status transition table, who may be case manager, and what is due when.

No database and no clock reads: callers pass ``now`` and the facts (see ``CaseFacts``). Policy
timings come in a ``Timings`` value (``Timings.from_settings()`` reads the ACCT_* settings).
The formulas are written out in docs/adr/0009-acct-case-model.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from django.conf import settings

from saferprisons.core.clock import LONDON
from saferprisons.core.errors import Conflict, ValidationFailed

from .constants import (
    MAX_CONVERSATIONS_PER_PERIOD,
    MAX_OBSERVATIONS_PER_HOUR,
    MIN_OBSERVATIONS_PER_HOUR,
    NOT_A_DISCIPLINE,
    REVIEW_DUE_KINDS,
    CaseStatus,
    DemandReason,
    Discipline,
    DueKind,
)

# --- Status transitions ------------------------------------------------------------------------

# (from, to) -> the action that makes it. Anything else between different states is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (CaseStatus.OPEN, CaseStatus.POST_CLOSURE): "close",
    (CaseStatus.POST_CLOSURE, CaseStatus.OPEN): "reopen",
    (CaseStatus.CLOSED, CaseStatus.OPEN): "reopen",
    (CaseStatus.POST_CLOSURE, CaseStatus.CLOSED): "complete the post-closure review of",
}

_REFUSALS = {
    (CaseStatus.OPEN, CaseStatus.CLOSED): (
        "An open ACCT cannot be closed outright: close it at a case review, then complete the "
        "post-closure review"
    ),
    (CaseStatus.CLOSED, CaseStatus.POST_CLOSURE): (
        "A closed ACCT cannot go back into its post-closure period; reopen it instead"
    ),
}


def allowed_sources(target: str) -> list[str]:
    """The states from which ``target`` can be reached (what the row lock filters on)."""
    return sorted(source for (source, to) in TRANSITIONS if to == target)


def check_transition(current: str, target: str) -> bool:
    """True: make the transition. False: the case is already there (a repeat is a no-op).

    Raises ``Conflict`` (HTTP 409) for a transition the table does not allow.
    """
    if current not in CaseStatus.values or target not in CaseStatus.values:
        raise Conflict(f"Unknown ACCT status {current!r} or {target!r}")
    if current == target:
        return False
    if (current, target) in TRANSITIONS:
        return True
    raise Conflict(
        _REFUSALS.get(
            (current, target),
            f"An ACCT that is {CaseStatus(current).label.lower()} cannot become "
            f"{CaseStatus(target).label.lower()}",
        )
    )


# --- Case manager eligibility -----------------------------------------------------------------

_BAND = re.compile(r"^(?:(?P<scheme>NHS|AFC|NOMS|HMPPS)\s*)?(?:BAND\s*)?(?P<number>\d{1,2})$")


def parse_band(band: str | None) -> tuple[str, int] | None:
    """("NOMS", 4) for "4" or "Band 4"; ("NHS", 6) for "NHS 6" or "NHS band 6"; else None."""
    text = " ".join((band or "").upper().split())
    match = _BAND.match(text)
    if match is None:
        return None
    scheme = match["scheme"] or "NOMS"
    return ("NHS" if scheme in ("NHS", "AFC") else "NOMS", int(match["number"]))


# PSI 64/2011 / ACCT v6: a case manager is at least NOMS band 4, or an NHS band 5 nurse.
CASE_MANAGER_MINIMUM_BAND = {"NOMS": 4, "NHS": 5}


def may_be_case_manager(band: str | None) -> bool:
    parsed = parse_band(band)
    return parsed is not None and parsed[1] >= CASE_MANAGER_MINIMUM_BAND[parsed[0]]


def check_case_manager_band(band: str | None) -> None:
    if not may_be_case_manager(band):
        shown = (band or "").strip() or "no band recorded"
        raise ValidationFailed(
            "The case manager must be NOMS band 4 or above, or an NHS band 5 nurse or above "
            f"({shown})",
            field="case_manager",
        )


# --- Review inputs -----------------------------------------------------------------------------


def check_attendees(disciplines: Iterable[str], family_consent: bool) -> None:
    """A manager and at least one other discipline; family only with the person's consent."""
    present = list(disciplines)
    unknown = [d for d in present if d not in Discipline.values]
    if unknown:
        raise ValidationFailed("Choose each attendee's role from the list", field="attendees")
    if Discipline.MANAGER not in present:
        raise ValidationFailed("A case review needs a manager to attend", field="attendees")
    if not any(d not in NOT_A_DISCIPLINE for d in present):
        raise ValidationFailed(
            "A case review needs at least one other discipline beside the manager",
            field="attendees",
        )
    if Discipline.FAMILY in present and not family_consent:
        raise ValidationFailed(
            "Family members may attend only with the person's consent: record the consent",
            field="family_consent",
        )


def check_next_review(next_review_at: datetime | None, now: datetime) -> None:
    if next_review_at is None:
        raise ValidationFailed("Enter the date and time of the next review", field="next_review")
    if next_review_at <= now:
        raise ValidationFailed("The next review must be in the future", field="next_review")


def check_not_future(moment: datetime, now: datetime, what: str, field_name: str) -> None:
    if moment > now:
        raise ValidationFailed(f"The time of the {what} cannot be in the future", field=field_name)


def check_text(value: str, *, limit: int, field_name: str, what: str, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed(f"Enter {what}", field=field_name)
    if len(text) > limit:
        raise ValidationFailed(
            f"{what[0].upper()}{what[1:]} must be {limit} characters or fewer", field=field_name
        )
    return text


# --- Timings -----------------------------------------------------------------------------------


def parse_clock_time(value: str) -> time:
    try:
        hours, minutes = (int(part) for part in str(value).split(":"))
        return time(hours, minutes)
    except (ValueError, TypeError) as error:
        raise ValueError(f"Expected a time like 08:00, got {value!r}") from error


@dataclass(frozen=True)
class Timings:
    iap: timedelta = timedelta(hours=1)
    assessment: timedelta = timedelta(hours=24)
    first_review: timedelta = timedelta(hours=24)
    unscheduled_review: timedelta = timedelta(hours=24)
    post_closure: timedelta = timedelta(days=7)
    day_starts: time = time(8, 0)
    night_starts: time = time(20, 0)
    due_soon: timedelta = timedelta(minutes=15)
    new_concern: timedelta = timedelta(hours=24)

    def __post_init__(self):
        if not self.day_starts < self.night_starts:
            raise ValueError("ACCT_DAY_STARTS must be earlier in the day than ACCT_NIGHT_STARTS")

    @classmethod
    def from_settings(cls) -> Timings:
        return cls(
            iap=timedelta(hours=settings.ACCT_IAP_HOURS),
            assessment=timedelta(hours=settings.ACCT_ASSESSMENT_HOURS),
            first_review=timedelta(hours=settings.ACCT_FIRST_REVIEW_HOURS),
            unscheduled_review=timedelta(hours=settings.ACCT_UNSCHEDULED_REVIEW_HOURS),
            post_closure=timedelta(days=settings.ACCT_POST_CLOSURE_DAYS),
            day_starts=parse_clock_time(settings.ACCT_DAY_STARTS),
            night_starts=parse_clock_time(settings.ACCT_NIGHT_STARTS),
            due_soon=timedelta(minutes=settings.ACCT_DUE_SOON_MINUTES),
            new_concern=timedelta(hours=settings.ACCT_NEW_CONCERN_HOURS),
        )

    @property
    def day_length(self) -> timedelta:
        """The nominal (wall-clock) length of the day period: 12 h with the defaults."""
        return datetime.combine(date.min, self.night_starts) - datetime.combine(
            date.min, self.day_starts
        )

    @property
    def night_length(self) -> timedelta:
        return timedelta(hours=24) - self.day_length


def utc(moment: datetime) -> datetime:
    """Durations are real elapsed time: add them in UTC (adding to a London time would add
    wall-clock time, an hour out across a clock change)."""
    return moment.astimezone(UTC)


def iap_due(period_started_at: datetime, timings: Timings) -> datetime:
    return utc(period_started_at) + timings.iap


def assessment_due(concern_at: datetime, timings: Timings) -> datetime:
    return utc(concern_at) + timings.assessment


def first_review_due(period_started_at: datetime, timings: Timings) -> datetime:
    return utc(period_started_at) + timings.first_review


def post_closure_review_due(closed_at: datetime, timings: Timings) -> datetime:
    return utc(closed_at) + timings.post_closure


def demand_due(demanded_at: datetime, reason: str, *, case_open: bool, timings: Timings):
    """Self-harm while on an open ACCT demands a review at once; anything else within the
    unscheduled-review window."""
    if reason == DemandReason.SELF_HARM and case_open:
        return utc(demanded_at)
    return utc(demanded_at) + timings.unscheduled_review


# --- Day and night -----------------------------------------------------------------------------


def _london_at(day: date, clock_time: time) -> datetime:
    return datetime.combine(day, clock_time, tzinfo=LONDON).astimezone(UTC)


def period_at(moment: datetime, timings: Timings) -> tuple[bool, datetime]:
    """(is it day?, when the period in force at ``moment`` ends), in Europe/London time.

    Day runs from ACCT_DAY_STARTS to ACCT_NIGHT_STARTS; night from then to the next day start.
    A moment exactly on a boundary belongs to the period that starts there.
    """
    moment = moment.astimezone(UTC)
    today = moment.astimezone(LONDON).date()
    day_start = _london_at(today, timings.day_starts)
    night_start = _london_at(today, timings.night_starts)
    if moment < day_start:
        return False, day_start
    if moment < night_start:
        return True, night_start
    return False, _london_at(today + timedelta(days=1), timings.day_starts)


# --- Supervision -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Supervision:
    """A supervision plan's levels (what a review or an IAP sets)."""

    constant: bool = False
    day_observations_per_hour: Decimal = Decimal("1")
    night_observations_per_hour: Decimal = Decimal("1")
    day_conversations: int = 1
    night_conversations: int = 0

    def observation_interval(self, is_day: bool) -> Fraction | None:
        """Seconds between observations in the period (None under constant supervision)."""
        if self.constant:
            return None
        rate = self.day_observations_per_hour if is_day else self.night_observations_per_hour
        return Fraction(3600) / Fraction(Decimal(rate))

    def conversation_interval(self, is_day: bool, timings: Timings) -> Fraction | None:
        """The period's count spread evenly over the period (None when the count is 0)."""
        count = self.day_conversations if is_day else self.night_conversations
        if not count:
            return None
        length = timings.day_length if is_day else timings.night_length
        return Fraction(int(length.total_seconds()), count)


def _rate(value, field_name: str) -> Decimal:
    try:
        rate = Decimal(str(value))
    except (InvalidOperation, ValueError) as error:
        raise ValidationFailed("Enter observations per hour as a number", field=field_name) from (
            error
        )
    if not rate.is_finite() or rate != rate.quantize(Decimal("0.01")):
        raise ValidationFailed(
            "Enter observations per hour to at most 2 decimal places", field=field_name
        )
    if not Decimal(MIN_OBSERVATIONS_PER_HOUR) <= rate <= Decimal(MAX_OBSERVATIONS_PER_HOUR):
        raise ValidationFailed(
            f"Observations per hour must be between {MIN_OBSERVATIONS_PER_HOUR} (one every 4 "
            f"hours) and {MAX_OBSERVATIONS_PER_HOUR}; more often than that is constant supervision",
            field=field_name,
        )
    return rate


def clean_supervision(levels: Supervision) -> Supervision:
    """The levels with rates as exact decimals, or ValidationFailed with the field at fault."""
    if levels.constant:
        return Supervision(constant=True, day_conversations=0, night_conversations=0)
    day_rate = _rate(levels.day_observations_per_hour, "day_observations_per_hour")
    night_rate = _rate(levels.night_observations_per_hour, "night_observations_per_hour")
    for name in ("day_conversations", "night_conversations"):
        count = getattr(levels, name)
        if not isinstance(count, int) or not 0 <= count <= MAX_CONVERSATIONS_PER_PERIOD:
            raise ValidationFailed(
                f"Conversations must be a whole number from 0 to {MAX_CONVERSATIONS_PER_PERIOD}",
                field=name,
            )
    if levels.day_conversations + levels.night_conversations < 1:
        raise ValidationFailed(
            "Plan at least one conversation a day (by day or by night)", field="day_conversations"
        )
    return Supervision(
        constant=False,
        day_observations_per_hour=day_rate,
        night_observations_per_hour=night_rate,
        day_conversations=levels.day_conversations,
        night_conversations=levels.night_conversations,
    )


# Two days of periods: far more than the longest gap (12 h for one conversation a period).
_MAX_PERIODS = 4


def due_by(
    anchor: datetime, interval: Callable[[bool], Fraction | None], timings: Timings
) -> datetime | None:
    """The latest time for the next check, with the rate in force at each moment.

    Each second after ``anchor`` uses up 1/interval of the gap, where interval is the one in
    force in that second's period (day or night); the check is due when the whole gap is used
    up. Within one period that is simply anchor + interval; a period with no checks planned
    (interval None) pauses the count. None if no period plans any checks.
    """
    cursor = anchor.astimezone(UTC)
    remaining = Fraction(1)
    for _ in range(_MAX_PERIODS):
        is_day, period_end = period_at(cursor, timings)
        seconds = interval(is_day)
        if seconds:
            available = Fraction(int((period_end - cursor).total_seconds()))
            needed = remaining * seconds
            if needed <= available:
                return cursor + timedelta(seconds=round(needed))
            remaining -= available / seconds
        cursor = period_end
    return None


@dataclass(frozen=True)
class PlanInForce:
    levels: Supervision
    started_at: datetime


def observation_due(plan: PlanInForce, last_observation_at: datetime | None, timings: Timings):
    """None under constant supervision (always due); else the "due by" time."""
    if plan.levels.constant:
        return None
    anchor = max(utc(plan.started_at), utc(last_observation_at or plan.started_at))
    return due_by(anchor, plan.levels.observation_interval, timings)


def conversation_due(
    plan: PlanInForce, last_conversation_at: datetime | None, timings: Timings
) -> datetime | None:
    anchor = max(utc(plan.started_at), utc(last_conversation_at or plan.started_at))
    return due_by(
        anchor, lambda is_day: plan.levels.conversation_interval(is_day, timings), timings
    )


# --- Everything due on a case ------------------------------------------------------------------


@dataclass(frozen=True)
class DueItem:
    kind: str
    due_at: datetime
    overdue: bool
    # Constant supervision: an observation is always due, never overdue.
    always: bool = False
    detail: str = ""

    @property
    def label(self) -> str:
        return DueKind(self.kind).label

    def due_soon(self, now: datetime, timings: Timings) -> bool:
        return not self.overdue and self.due_at <= utc(now) + timings.due_soon


@dataclass
class CaseFacts:
    """What the rules need to know about one case (built by the selectors, set-based)."""

    status: str
    period_started_at: datetime
    closed_at: datetime | None = None
    has_iap: bool = False
    has_assessment: bool = False
    has_review_in_period: bool = False
    next_review_at: datetime | None = None
    demands: list[tuple[datetime, str]] = field(default_factory=list)
    plan: PlanInForce | None = None
    last_observation_at: datetime | None = None
    last_conversation_at: datetime | None = None


def is_overdue(due_at: datetime, now: datetime) -> bool:
    """Due by ``due_at``: overdue only once that moment has passed."""
    return now > due_at


def due_items(facts: CaseFacts, now: datetime, timings: Timings) -> list[DueItem]:
    """Everything due on the case, earliest first."""
    items: list[DueItem] = []

    def add(kind: str, due_at: datetime | None, detail: str = "") -> None:
        if due_at is not None:
            items.append(DueItem(kind, due_at, is_overdue(due_at, now), detail=detail))

    if facts.status == CaseStatus.POST_CLOSURE and facts.closed_at is not None:
        add(DueKind.POST_CLOSURE_REVIEW, post_closure_review_due(facts.closed_at, timings))
    if facts.status != CaseStatus.OPEN:
        return sorted(items, key=lambda item: item.due_at)
    start = facts.period_started_at
    if not facts.has_iap:
        add(DueKind.IAP, iap_due(start, timings))
    if not facts.has_assessment:
        add(DueKind.ASSESSMENT, assessment_due(start, timings))
    if not facts.has_review_in_period:
        add(DueKind.FIRST_REVIEW, first_review_due(start, timings))
    elif facts.next_review_at is not None:
        add(DueKind.SCHEDULED_REVIEW, facts.next_review_at)
    for demand_due_at, reason in facts.demands:
        add(DueKind.DEMANDED_REVIEW, demand_due_at, detail=reason)
    if facts.plan is not None:
        if facts.plan.levels.constant:
            items.append(
                DueItem(DueKind.OBSERVATION, now, False, always=True, detail="constant supervision")
            )
        else:
            add(
                DueKind.OBSERVATION, observation_due(facts.plan, facts.last_observation_at, timings)
            )
        add(DueKind.CONVERSATION, conversation_due(facts.plan, facts.last_conversation_at, timings))
    return sorted(items, key=lambda item: item.due_at)


def next_due_at(facts: CaseFacts, timings: Timings) -> datetime | None:
    """The earliest moment anything on the case falls due (``AcctCase.next_due_at``), or None
    when nothing is due (a closed case, or nothing outstanding).

    Every due time is fixed by the facts (none moves as the clock does), so the case has
    something overdue at ``now`` exactly when ``now`` is past this moment (``is_overdue``).
    An observation under constant supervision is always due and never overdue: it does not
    count.
    """
    epoch = datetime.min.replace(tzinfo=UTC)  # any moment: only the due times are read
    return min(
        (item.due_at for item in due_items(facts, epoch, timings) if not item.always),
        default=None,
    )


# --- Urgency on the wing board -----------------------------------------------------------------


class Urgency:
    """Board order, most urgent first (lower is more urgent)."""

    OBSERVATION_OVERDUE = 0
    OBSERVATION_DUE_SOON = 1
    REVIEW_DUE = 2
    IAP_OR_ASSESSMENT = 3
    NEW_CONCERN = 4
    HIGH_RISK_NOT_IN_SAFER_CELL = 5
    OTHER = 6


def urgency(
    items: list[DueItem],
    now: datetime,
    timings: Timings,
    *,
    new_concern: bool,
    high_risk_unsafe: bool,
) -> tuple[int, datetime]:
    """(rank, the time that makes it urgent) for sorting the board."""
    far = datetime.max.replace(tzinfo=UTC)
    by_kind: dict[str, list[DueItem]] = {}
    for item in items:
        by_kind.setdefault(item.kind, []).append(item)
    observations = [i for i in by_kind.get(DueKind.OBSERVATION, []) if not i.always]
    overdue_obs = [i for i in observations if i.overdue]
    if overdue_obs:
        return Urgency.OBSERVATION_OVERDUE, min(i.due_at for i in overdue_obs)
    soon_obs = [i for i in observations if i.due_soon(now, timings)]
    if soon_obs:
        return Urgency.OBSERVATION_DUE_SOON, min(i.due_at for i in soon_obs)
    reviews = [
        i
        for i in items
        if i.kind in REVIEW_DUE_KINDS and (i.overdue or i.due_at <= utc(now) + timings.due_soon)
    ]
    if reviews:
        return Urgency.REVIEW_DUE, min(i.due_at for i in reviews)
    deadlines = by_kind.get(DueKind.IAP, []) + by_kind.get(DueKind.ASSESSMENT, [])
    if deadlines:
        return Urgency.IAP_OR_ASSESSMENT, min(i.due_at for i in deadlines)
    if new_concern:
        return Urgency.NEW_CONCERN, far
    if high_risk_unsafe:
        return Urgency.HIGH_RISK_NOT_IN_SAFER_CELL, far
    return Urgency.OTHER, min((i.due_at for i in items), default=far)


def log_number(prison_code: str, year: int, number: int) -> str:
    """ZLA-2026-0001: prison, year of opening (London), number in that prison's year."""
    return f"{prison_code}-{year}-{number:04d}"
