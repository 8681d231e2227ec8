"""Write the generated ACCT histories (acct_histories.py), in one of two ways.

- ``services`` (the tiny and demo sizes): every event is replayed, oldest first across the whole
  estate, through the real ``acct.services`` — raising the concern, the IAP, the assessment, each
  case review, observation, demand — with the clock set to the event's moment. The data is
  therefore exactly what the application would have recorded: log numbers, alerts HA/HA1/HA2,
  case notes, safer custody tasks, timers for the worker and one audit event per action (dated
  at the fictional moment).
- ``bulk`` (the estate size, about 4,000 cases and 200,000 rows): the same rows built in memory
  and written with ``bulk_create``, because replaying them one service call at a time would take
  10 to 40 minutes (docs/PERFORMANCE.md). The test suite seeds one prison both ways and checks
  that every ACCT row, alert, case note and task is the same (demo/tests/test_seed_acct.py), so
  the bulk writer cannot drift from the services unnoticed. It writes no per-action audit events
  (the seed's one summary event stands for them, as for the people) and queues only the worker
  timers still pending: the current observation's overdue check and the next scheduled review's.

How the replay sets the clock: every service reads the time through ``core.clock.now()``, which
asks ``django.utils.timezone.now()``, and model defaults call ``clock.now`` too. ``_replay_clock``
points ``timezone.now`` at the moment of the event for the length of the replay (this process
only; the seed is a management command) and restores it afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from saferprisons.accounts.models import TrainingRecord, User
from saferprisons.acct import rules
from saferprisons.acct import services as acct
from saferprisons.acct.constants import (
    ALERT_ACCT_CLOSED,
    ALERT_ACCT_OPEN,
    ALERT_ACCT_POST_CLOSURE,
    ASSESSOR_COURSE,
    JOB_OBSERVATION_OVERDUE,
    JOB_REVIEW_DUE,
    OVERDUE_CHECK_DELAY,
    CaremapStatus,
    CaseStatus,
    ConcernEffect,
    ConcernSource,
    DemandReason,
    ReviewKind,
    ReviewOutcome,
    RiskLevel,
    TaskAudience,
    TaskKind,
)
from saferprisons.acct.models import (
    AcctCase,
    AssessmentInterview,
    CaremapItem,
    CaseEntry,
    CaseReview,
    CaseTransition,
    Concern,
    ImmediateActionPlan,
    LogNumberCounter,
    ReviewAttendee,
    ReviewDemand,
    SaferCellDecision,
    StaffTask,
    SupervisionPlan,
)
from saferprisons.core import clock
from saferprisons.estate.models import Prison
from saferprisons.jobs.models import Job
from saferprisons.people.constants import CaseNoteType, Sensitivity
from saferprisons.people.models import AlertCode, CaseNote, PersonAlert, Prisoner

from . import acct_histories as ah

WRITERS = ("services", "bulk")
BATCH_SIZE = 2000


@dataclass(frozen=True)
class Subject:
    """A person with an ACCT history, as written by the people writer."""

    prisoner: Prisoner
    prison: Prison
    wing: str  # of the current cell


@dataclass(frozen=True)
class Step:
    """One event of one case, at its moment."""

    at: datetime
    history: ah.AcctHistory
    subject: Subject
    event: ah.Event


def timeline(now: datetime, histories: list[tuple[ah.AcctHistory, Subject]]) -> Iterator[Step]:
    """Every event of every case, oldest first (ties: in the order generated), so log numbers
    follow the order of opening in each prison and the audit trail runs forward in time."""
    steps = [
        (event.minutes_ago, case_index, event_index, history, subject, event)
        for case_index, (history, subject) in enumerate(histories)
        for event_index, event in enumerate(history.events)
    ]
    steps.sort(key=lambda s: (-s[0], s[1], s[2]))
    for minutes_ago, _, _, history, subject, event in steps:
        yield Step(now - timedelta(minutes=minutes_ago), history, subject, event)


def supervision(levels: ah.Levels | None) -> rules.Supervision | None:
    if levels is None:
        return None
    return rules.Supervision(
        constant=levels.constant,
        day_observations_per_hour=Decimal(levels.day_per_hour),
        night_observations_per_hour=Decimal(levels.night_per_hour),
        day_conversations=levels.day_conversations,
        night_conversations=levels.night_conversations,
    )


def caremap_target(at: datetime, action: ah.CaremapAction):
    return clock.local(at).date() + timedelta(days=action.target_days)


@contextlib.contextmanager
def _replay_clock(start: datetime) -> Iterator[Callable[[datetime], None]]:
    """``clock.now()`` answers the moment last set, until the block ends."""
    original = timezone.now
    moment = [start]
    timezone.now = lambda: moment[0]

    def move_to(at: datetime) -> None:
        moment[0] = at

    try:
        yield move_to
    finally:
        timezone.now = original


class _Staff:
    """The demo member of staff with a role in a prison."""

    def __init__(self, users: dict[str, User], username_for: Callable[[str, str], str]):
        self.users = users
        self.username_for = username_for

    def __call__(self, role: str | None, prison: Prison) -> User | None:
        if role is None:
            return None
        return self.users[self.username_for(role, prison.code)]


# --- Through the services ----------------------------------------------------------------------


@dataclass
class _ReplayCase:
    case: AcctCase | None = None
    caremap_ids: list = field(default_factory=list)


def write_through_services(
    *, now: datetime, histories: list[tuple[ah.AcctHistory, Subject]], staff: _Staff
) -> None:
    cases: dict[str, _ReplayCase] = {}
    with _replay_clock(now) as move_to:
        for step in timeline(now, histories):
            move_to(step.at)
            state = cases.setdefault(step.history.prison_number, _ReplayCase())
            _replay(step, state, staff)


def _attendees(attending, prison: Prison, staff: _Staff) -> list[acct.Attendee]:
    return [acct.Attendee(a.discipline, name=a.name, user=staff(a.role, prison)) for a in attending]


def _replay(step: Step, state: _ReplayCase, staff: _Staff) -> None:
    event, prison = step.event, step.subject.prison
    actor = staff(event.by, prison)
    case = state.case
    if isinstance(event, ah.Concern):
        concern = acct.raise_concern(
            actor=actor,
            prisoner=step.subject.prisoner,
            source=event.source,
            seen_or_heard=event.seen_or_heard,
            immediate_risk=event.immediate_risk,
            action_taken=event.action_taken,
        )
        state.case = state.case or concern.case
    elif isinstance(event, ah.ActionPlan):
        acct.record_iap(
            actor=actor, case=case, plan=event.plan, supervision=supervision(event.levels)
        )
    elif isinstance(event, ah.Assessment):
        acct.record_assessment(actor=actor, case=case, summary=event.summary)
    elif isinstance(event, ah.Review):
        review = acct.hold_review(
            actor=actor,
            case=case,
            expected_version=_version(case),
            attendees=_attendees(event.attendees, prison, staff),
            risk_level=event.risk,
            next_review_at=(
                None
                if event.next_review_minutes_ago is None
                else step.at + timedelta(minutes=event.minutes_ago - event.next_review_minutes_ago)
            ),
            supervision=supervision(event.levels),
            case_manager=staff(event.case_manager, prison),
            case_coordinator=staff(event.case_coordinator, prison),
            triggers=event.triggers,
            warning_signs=event.warning_signs,
            protective_factors=event.protective_factors,
            notes=event.notes,
            caremap_new=[
                acct.CaremapInput(a.need, a.action, a.owner, caremap_target(step.at, a))
                for a in event.caremap_new
            ],
            caremap_updates={state.caremap_ids[i]: CaremapStatus.DONE for i in event.caremap_done},
            family_consent=event.family_consent,
            close=event.closes,
            closure_reason=event.closure_reason,
        )
        state.caremap_ids += list(
            CaremapItem.objects.filter(created_in=review)
            .order_by("id")
            .values_list("public_id", flat=True)
        )
        # The safer custody team has dealt with what was asked of it by the time of a review.
        for task in StaffTask.objects.filter(
            case=case, done_at__isnull=True, created_at__lte=step.at
        ):
            acct.complete_task(actor=actor, task=task)
    elif isinstance(event, ah.PostClosureReview):
        acct.complete_post_closure_review(
            actor=actor,
            case=case,
            expected_version=_version(case),
            notes=event.notes,
            attendees=_attendees(event.attendees, prison, staff),
        )
    elif isinstance(event, ah.Entry):
        acct.record_entry(
            actor=actor,
            case=case,
            kind=event.kind,
            occurred_at=step.at,
            seen_or_spoken_to=event.seen,
            presentation=event.presentation,
            concerns=event.concerns,
            health=event.health,
        )
    elif isinstance(event, ah.Demand):
        acct.demand_review(actor=actor, case=case, reason=event.reason, details=event.details)
    elif isinstance(event, ah.CellDecision):
        acct.record_safer_cell_decision(actor=actor, case=case, reason=event.reason)
    else:  # pragma: no cover - a new event type must be written here
        raise TypeError(f"Unknown ACCT event {event!r}")


def _version(case: AcctCase) -> int:
    return AcctCase.objects.values_list("version", flat=True).get(pk=case.pk)


# --- In bulk -----------------------------------------------------------------------------------
# Each method below writes what the service of the same name writes (see acct/services.py).


def _label(user: User) -> str:
    return user.get_username()


@dataclass
class _BulkCase:
    case: AcctCase
    subject: Subject
    review: CaseReview | None = None  # the latest in the current period
    plan: SupervisionPlan | None = None
    last_observation_at: datetime | None = None
    last_conversation_at: datetime | None = None
    has_iap: bool = False
    has_assessment: bool = False
    caremap: list[CaremapItem] = field(default_factory=list)
    demands: list[ReviewDemand] = field(default_factory=list)  # not yet satisfied
    tasks: list[StaffTask] = field(default_factory=list)  # not yet done
    alerts: dict[str, PersonAlert] = field(default_factory=dict)  # active, by code


class _Bulk:
    def __init__(self, *, staff: _Staff):
        self.staff = staff
        self.timings = rules.Timings.from_settings()
        self.alert_codes = {
            c.code: c
            for c in AlertCode.objects.filter(
                code__in=[ALERT_ACCT_OPEN, ALERT_ACCT_POST_CLOSURE, ALERT_ACCT_CLOSED]
            )
        }
        self.training = {
            (t.user_id): t
            for t in TrainingRecord.objects.filter(course=ASSESSOR_COURSE).order_by(
                "user_id", "expires_on", "pk"
            )
        }
        # Log numbers carry on from any already handed out (a benchmark adds cases to an estate).
        self.counters: dict[tuple[int, int], LogNumberCounter] = {
            (c.prison_id, c.year): c for c in LogNumberCounter.objects.all()
        }
        self.cases: dict[str, _BulkCase] = {}
        self.rows: dict[type, list] = {}

    def add(self, row):
        self.rows.setdefault(type(row), []).append(row)
        return row

    def write(self, now: datetime, histories: list[tuple[ah.AcctHistory, Subject]]) -> None:
        for step in timeline(now, histories):
            getattr(self, type(step.event).__name__.lower())(step, step.event)
        self.add_pending_timers()
        self.set_next_due()
        self.flush()

    # --- helpers ---

    def state(self, step: Step) -> _BulkCase:
        return self.cases[step.history.prison_number]

    def actor(self, step: Step) -> User:
        return self.staff(step.event.by, step.subject.prison)

    def case_note(self, state: _BulkCase, actor: User, at: datetime, text: str) -> None:
        self.add(
            CaseNote(
                prisoner=state.subject.prisoner,
                prison=state.subject.prison,
                note_type=CaseNoteType.SAFER_CUSTODY,
                sensitivity=Sensitivity.NORMAL,
                text=text,
                occurred_at=at,
                author=actor,
                author_label=_label(actor),
                created_at=at,
            )
        )

    def set_alert(self, state: _BulkCase, code: str, actor: User, at: datetime) -> None:
        state.alerts[code] = self.add(
            PersonAlert(
                prisoner=state.subject.prisoner,
                alert_code=self.alert_codes[code],
                comment=state.case.log_number,
                active_from=at,
                created_by_label=_label(actor),
            )
        )

    def end_alert(self, state: _BulkCase, code: str, actor: User, at: datetime) -> None:
        alert = state.alerts.pop(code, None)
        if alert is not None:
            alert.ended_at = at
            alert.ended_by_label = _label(actor)

    def task(self, state: _BulkCase, kind: str, title: str, due_at: datetime, at: datetime):
        task = self.add(
            StaffTask(
                prison=state.case.prison,
                kind=kind,
                audience=TaskAudience.SAFER_CUSTODY,
                wing_path=state.subject.wing,
                title=title[:200],
                case=state.case,
                due_at=due_at,
                created_at=at,
            )
        )
        state.tasks.append(task)

    def transition(self, state, actor, at, source, target, reason, *, review=None, concern=None):
        case = state.case
        if target == CaseStatus.POST_CLOSURE:
            case.closed_at = at
        case.status = target
        case.version += 1
        self.add(
            CaseTransition(
                case=case,
                from_status=source,
                to_status=target,
                at=at,
                by=actor,
                by_label=_label(actor),
                reason=reason,
                review=review,
                concern=concern,
            )
        )

    # --- events ---

    def concern(self, step: Step, event: ah.Concern) -> None:
        actor, at = self.actor(step), step.at
        state = self.cases.get(step.history.prison_number)
        opens = state is None
        if opens:
            state = self.open_case(step, actor)
        concern = self.add(
            Concern(
                case=state.case,
                prison=step.subject.prison,
                source=event.source,
                seen_or_heard=event.seen_or_heard,
                immediate_risk=event.immediate_risk,
                action_taken=event.action_taken,
                effect=ConcernEffect.OPENED if opens else ConcernEffect.RECORDED,
                raised_at=at,
                raised_by=actor,
                raised_by_label=_label(actor),
            )
        )
        if not opens:
            return
        case = state.case
        self.add(
            CaseTransition(
                case=case,
                from_status="",
                to_status=CaseStatus.OPEN,
                at=at,
                by=actor,
                by_label=_label(actor),
                reason="Concern raised",
                concern=concern,
            )
        )
        self.set_alert(state, ALERT_ACCT_OPEN, actor, at)
        self.case_note(
            state,
            actor,
            at,
            f"ACCT opened, log number {case.log_number}. Concern from: "
            f"{ConcernSource(event.source).label.lower()}.",
        )
        self.task(
            state,
            TaskKind.ACCT_OPENED,
            f"ACCT {case.log_number} opened for {step.subject.prisoner.prison_number}",
            at,
            at,
        )

    def open_case(self, step: Step, actor: User) -> _BulkCase:
        prison, at = step.subject.prison, step.at
        year = clock.local(at).year
        counter = self.counters.get((prison.pk, year))
        if counter is None:
            counter = self.counters[(prison.pk, year)] = LogNumberCounter(prison=prison, year=year)
        counter.last_number += 1
        case = self.add(
            AcctCase(
                prisoner=step.subject.prisoner,
                prison=prison,
                log_number=rules.log_number(prison.code, year, counter.last_number),
                status=CaseStatus.OPEN,
                opened_at=at,
                opened_by_label=_label(actor),
                period_started_at=at,
            )
        )
        state = self.cases[step.history.prison_number] = _BulkCase(case, step.subject)
        return state

    def actionplan(self, step: Step, event: ah.ActionPlan) -> None:
        state, actor = self.state(step), self.actor(step)
        state.has_iap = True
        iap = self.add(
            ImmediateActionPlan(
                case=state.case,
                recorded_at=step.at,
                recorded_by=actor,
                recorded_by_label=_label(actor),
                plan=event.plan,
            )
        )
        if event.levels is not None:
            self.new_plan(state, event.levels, step.at, actor, action_plan=iap)

    def new_plan(self, state, levels: ah.Levels, at, actor, *, review=None, action_plan=None):
        cleaned = rules.clean_supervision(supervision(levels))
        state.plan = self.add(
            SupervisionPlan(
                case=state.case,
                review=review,
                action_plan=action_plan,
                started_at=at,
                constant=cleaned.constant,
                day_observations_per_hour=cleaned.day_observations_per_hour,
                night_observations_per_hour=cleaned.night_observations_per_hour,
                day_conversations=cleaned.day_conversations,
                night_conversations=cleaned.night_conversations,
                set_by_label=_label(actor),
            )
        )

    def assessment(self, step: Step, event: ah.Assessment) -> None:
        state, actor = self.state(step), self.actor(step)
        state.has_assessment = True
        self.add(
            AssessmentInterview(
                case=state.case,
                assessor=actor,
                assessor_label=_label(actor),
                training_record=self.training[actor.pk],
                interviewed_at=step.at,
                recorded_at=step.at,
                summary=event.summary,
            )
        )

    def review(self, step: Step, event: ah.Review) -> None:
        state, actor, at, prison = self.state(step), self.actor(step), step.at, step.subject.prison
        case, previous = state.case, state.review
        outstanding = [d for d in state.demands if d.demanded_at <= at]
        kind = (
            ReviewKind.FIRST
            if previous is None
            else (ReviewKind.UNSCHEDULED if outstanding else ReviewKind.SCHEDULED)
        )
        texts = {
            name: getattr(event, name) or (getattr(previous, name) if previous else "")
            for name in ("triggers", "warning_signs", "protective_factors")
        }
        next_review = (
            None
            if event.next_review_minutes_ago is None
            else at + timedelta(minutes=event.minutes_ago - event.next_review_minutes_ago)
        )
        review = self.add(
            CaseReview(
                case=case,
                kind=kind,
                outcome=ReviewOutcome.CLOSE if event.closes else ReviewOutcome.CONTINUE,
                held_at=at,
                recorded_at=at,
                chair=actor,
                chair_label=_label(actor),
                case_manager=self.staff(event.case_manager, prison) or previous.case_manager,
                case_coordinator=(
                    self.staff(event.case_coordinator, prison) or previous.case_coordinator
                ),
                risk_level=event.risk,
                family_consent=event.family_consent,
                next_review_at=next_review,
                closure_reason=event.closure_reason,
                notes=event.notes,
                **texts,
            )
        )
        state.review = review
        self.attendees(review, event.attendees, prison)
        for demand in outstanding:
            demand.satisfied_by = review
            state.demands.remove(demand)
        for index in event.caremap_done:
            item = state.caremap[index]
            if item.status != CaremapStatus.DONE:
                item.status = CaremapStatus.DONE
                item.updated_in = review
        for action in event.caremap_new:
            state.caremap.append(
                self.add(
                    CaremapItem(
                        case=case,
                        need=action.need,
                        action=action.action,
                        owner=action.owner,
                        target_date=caremap_target(at, action),
                        created_in=review,
                    )
                )
            )
        if event.levels is not None:
            self.new_plan(state, event.levels, at, actor, review=review)
        case.version += 1
        if event.closes:
            self.transition(
                state,
                actor,
                at,
                CaseStatus.OPEN,
                CaseStatus.POST_CLOSURE,
                event.closure_reason,
                review=review,
            )
            self.end_alert(state, ALERT_ACCT_OPEN, actor, at)
            self.set_alert(state, ALERT_ACCT_POST_CLOSURE, actor, at)
            self.case_note(
                state,
                actor,
                at,
                f"ACCT {case.log_number} closed at a case review: {event.closure_reason}",
            )
        else:
            self.case_note(
                state,
                actor,
                at,
                f"ACCT {case.log_number}: {ReviewKind(kind).label.lower()} held. Risk "
                f"{RiskLevel(event.risk).label.lower()}; next review "
                f"{clock.local(next_review):%d/%m/%Y %H:%M}.",
            )
        for task in [t for t in state.tasks if t.created_at <= at]:
            task.done_at, task.done_by = at, actor
            state.tasks.remove(task)

    def attendees(self, review: CaseReview, attending, prison: Prison) -> None:
        for a in attending:
            user = self.staff(a.role, prison)
            name = a.name or (user.get_full_name() or user.get_username() if user else "")
            self.add(
                ReviewAttendee(review=review, user=user, name=name[:200], discipline=a.discipline)
            )

    def postclosurereview(self, step: Step, event: ah.PostClosureReview) -> None:
        state, actor, at = self.state(step), self.actor(step), step.at
        previous = state.review
        review = self.add(
            CaseReview(
                case=state.case,
                kind=ReviewKind.POST_CLOSURE,
                outcome=ReviewOutcome.COMPLETE,
                held_at=at,
                recorded_at=at,
                chair=actor,
                chair_label=_label(actor),
                case_manager=previous.case_manager if previous else None,
                case_coordinator=previous.case_coordinator if previous else None,
                risk_level=previous.risk_level if previous else "",
                family_consent=False,
                notes=event.notes,
            )
        )
        self.attendees(review, event.attendees, step.subject.prison)
        reason = "Post-closure review completed"
        self.transition(
            state, actor, at, CaseStatus.POST_CLOSURE, CaseStatus.CLOSED, reason, review=review
        )
        self.end_alert(state, ALERT_ACCT_POST_CLOSURE, actor, at)
        self.set_alert(state, ALERT_ACCT_CLOSED, actor, at)
        self.case_note(
            state, actor, at, f"ACCT {state.case.log_number} post-closure review completed."
        )

    def entry(self, step: Step, event: ah.Entry) -> None:
        state, actor = self.state(step), self.actor(step)
        self.add(
            CaseEntry(
                case=state.case,
                kind=event.kind,
                occurred_at=step.at,
                recorded_at=step.at,
                recorded_by=actor,
                recorded_by_label=_label(actor),
                seen_or_spoken_to=event.seen,
                presentation=event.presentation,
                concerns=event.concerns,
                health=event.health,
            )
        )
        if event.seen and event.kind == "OBSERVATION":
            state.last_observation_at = max(step.at, state.last_observation_at or step.at)
        elif event.seen and event.kind == "CONVERSATION":
            state.last_conversation_at = max(step.at, state.last_conversation_at or step.at)

    def demand(self, step: Step, event: ah.Demand) -> None:
        state, actor, at = self.state(step), self.actor(step), step.at
        case = state.case
        due = rules.demand_due(
            at, event.reason, case_open=case.status == CaseStatus.OPEN, timings=self.timings
        )
        state.demands.append(
            self.add(
                ReviewDemand(
                    case=case,
                    reason=event.reason,
                    details=event.details,
                    demanded_at=at,
                    due_at=due,
                    demanded_by_label=_label(actor),
                )
            )
        )
        self.task(
            state,
            TaskKind.REVIEW_DUE,
            f"ACCT {case.log_number} ({step.subject.prisoner.prison_number}): case review "
            f"needed: {DemandReason(event.reason).label.lower()}",
            due,
            at,
        )

    def celldecision(self, step: Step, event: ah.CellDecision) -> None:
        state, actor = self.state(step), self.actor(step)
        self.add(
            SaferCellDecision(
                case=state.case,
                decided_at=step.at,
                decided_by=actor,
                decided_by_label=_label(actor),
                reason=event.reason,
            )
        )

    # --- the worker's pending timers, and the rows ---

    def add_pending_timers(self) -> None:
        """The jobs the services leave queued for an open case: the overdue check of the
        observation now due, and the due check of the next scheduled review."""
        for state in self.cases.values():
            case = state.case
            if case.status != CaseStatus.OPEN:
                continue
            key = str(case.public_id)
            if state.plan is not None and not state.plan.constant:
                plan = rules.PlanInForce(_levels(state.plan), state.plan.started_at)
                due = rules.observation_due(plan, state.last_observation_at, self.timings)
                self.add(_job(JOB_OBSERVATION_OVERDUE, key, due, due + OVERDUE_CHECK_DELAY))
            if state.review is not None and state.review.next_review_at is not None:
                due = state.review.next_review_at
                self.add(_job(JOB_REVIEW_DUE, key, due, due))

    def set_next_due(self) -> None:
        """Each case's ``next_due_at``, as the services store it after each write: the rules
        over the facts the case ends with (the histories never reopen a case, so the current
        period is the whole case)."""
        for state in self.cases.values():
            case, plan, review = state.case, state.plan, state.review
            case.next_due_at = rules.next_due_at(
                rules.CaseFacts(
                    status=case.status,
                    period_started_at=case.period_started_at,
                    closed_at=case.closed_at,
                    has_iap=state.has_iap,
                    has_assessment=state.has_assessment,
                    has_review_in_period=review is not None,
                    next_review_at=review.next_review_at if review is not None else None,
                    demands=[
                        (d.due_at, d.reason) for d in sorted(state.demands, key=lambda d: d.due_at)
                    ],
                    plan=(
                        rules.PlanInForce(_levels(plan), plan.started_at)
                        if plan is not None
                        else None
                    ),
                    last_observation_at=state.last_observation_at,
                    last_conversation_at=state.last_conversation_at,
                ),
                self.timings,
            )

    def flush(self) -> None:
        """Write the rows, each model after those its foreign keys point at."""
        order = [
            AcctCase,
            Concern,
            ImmediateActionPlan,
            AssessmentInterview,
            CaseReview,
            CaseTransition,
            ReviewAttendee,
            SupervisionPlan,
            CaremapItem,
            ReviewDemand,
            CaseEntry,
            SaferCellDecision,
            StaffTask,
            PersonAlert,
            CaseNote,
            Job,
        ]
        with transaction.atomic():
            for model in order:
                model.objects.bulk_create(self.rows.get(model, []), batch_size=BATCH_SIZE)
            counters = list(self.counters.values())
            LogNumberCounter.objects.bulk_create([c for c in counters if c.pk is None])
            LogNumberCounter.objects.bulk_update(
                [c for c in counters if c.pk is not None], ["last_number"]
            )


def _levels(plan: SupervisionPlan) -> rules.Supervision:
    return rules.Supervision(
        constant=plan.constant,
        day_observations_per_hour=plan.day_observations_per_hour,
        night_observations_per_hour=plan.night_observations_per_hour,
        day_conversations=plan.day_conversations,
        night_conversations=plan.night_conversations,
    )


def _job(kind: str, case_key: str, due: datetime, run_at: datetime) -> Job:
    return Job(
        kind=kind,
        payload={"case": case_key, "due_at": due.isoformat()},
        due_at=run_at,
        # The key acct.services gives the same timer, so the worker never runs it twice.
        dedupe_key=f"{kind}:{case_key}:{due.astimezone(clock.LONDON).isoformat()}",
        max_attempts=settings.JOB_DEFAULT_MAX_ATTEMPTS,
    )


def write_in_bulk(
    *, now: datetime, histories: list[tuple[ah.AcctHistory, Subject]], staff: _Staff
) -> None:
    _Bulk(staff=staff).write(now, histories)


def write(
    *,
    writer: str,
    now: datetime,
    histories: list[tuple[ah.AcctHistory, Subject]],
    users: dict[str, User],
    username_for: Callable[[str, str], str],
) -> None:
    if writer not in WRITERS:
        raise ValueError(f"Unknown ACCT writer {writer!r}; choose one of {', '.join(WRITERS)}")
    staff = _Staff(users, username_for)
    if writer == "services":
        write_through_services(now=now, histories=histories, staff=staff)
    else:
        write_in_bulk(now=now, histories=histories, staff=staff)
