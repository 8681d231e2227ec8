"""Every ACCT write: keyword-only, an actor, one transaction, audited, side effects after commit.

Lock order everywhere: the person's row, then the case row (raising a concern has to lock the
person before a case exists, so everything else follows the same order to avoid deadlocks).
Refusals raise ``core.errors`` exceptions before anything is written, or inside the transaction so
it rolls back: a refused request changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from django.db import transaction

from saferprisons.accounts.models import TrainingRecord, User
from saferprisons.audit.actors import SYSTEM, describe_actor
from saferprisons.audit.constants import Action
from saferprisons.audit.services import record
from saferprisons.core import clock
from saferprisons.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from saferprisons.core.permissions import has_permission, principal_prison_ids
from saferprisons.jobs import services as jobs
from saferprisons.people import permissions as people_perms
from saferprisons.people import services as people_services
from saferprisons.people.constants import CaseNoteType, CustodyStatus
from saferprisons.people.models import CellAllocation, Prisoner

from . import events, facts, rules
from . import permissions as perms
from .constants import (
    ALERT_ACCT_CLOSED,
    ALERT_ACCT_OPEN,
    ALERT_ACCT_POST_CLOSURE,
    ASSESSMENT_TEXT_MAX,
    ASSESSOR_COURSE,
    CAREMAP_OWNER_MAX,
    CAREMAP_TEXT_MAX,
    CONCERN_ACTION_MAX,
    CONCERN_RISK_MAX,
    CONCERN_SEEN_MAX,
    ENTRY_TEXT_MAX,
    JOB_OBSERVATION_OVERDUE,
    JOB_REVIEW_DUE,
    OVERDUE_CHECK_DELAY,
    PLAN_TEXT_MAX,
    REASON_MAX,
    REVIEW_TEXT_MAX,
    CaremapStatus,
    CaseStatus,
    ConcernEffect,
    ConcernSource,
    DemandReason,
    Discipline,
    EntryKind,
    ReviewKind,
    ReviewOutcome,
    RiskLevel,
    TaskAudience,
    TaskKind,
)
from .models import (
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
from .notifications import Notice, notify

CASE_OBJECT = "acct_case"
NOT_FOUND = "No such ACCT or person in your prisons"
STALE = "Someone else has changed this ACCT since you opened it. Reload it and try again."


# --- Inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attendee:
    discipline: str
    name: str = ""
    user: User | None = None


@dataclass(frozen=True)
class CaremapInput:
    need: str
    action: str
    owner: str
    target_date: date


# --- Helpers -----------------------------------------------------------------------------------


def _label(actor) -> str:
    return describe_actor(actor)[2]


def _user(actor) -> User | None:
    return actor if isinstance(actor, User) else None


def _require(actor, permission: str, message: str) -> None:
    if not has_permission(actor, permission):
        raise PermissionDenied(message)


def _lock_person(actor, prisoner: Prisoner, *, scoped: bool = True) -> Prisoner:
    person = (
        Prisoner.objects.select_for_update(of=("self",))
        .select_related("prison")
        .filter(pk=prisoner.pk)
        .first()
    )
    if person is None or person.prison_id is None:
        raise NotFound(NOT_FOUND)
    if scoped and person.prison_id not in principal_prison_ids(actor):
        raise NotFound(NOT_FOUND)
    return person


def _lock_case(actor, case: AcctCase, *, scoped: bool = True) -> AcctCase:
    """Lock the person, then the case. A case is in scope when its person is in the actor's
    prisons (the case follows the person)."""
    person = _lock_person(actor, Prisoner(pk=case.prisoner_id), scoped=scoped)
    locked = (
        AcctCase.objects.select_for_update(of=("self",))
        .select_related("prison")
        .filter(pk=case.pk)
        .first()
    )
    if locked is None:
        raise NotFound(NOT_FOUND)
    locked.prisoner = person
    return locked


def _require_open(case: AcctCase, doing: str) -> None:
    if case.status != CaseStatus.OPEN:
        raise Conflict(
            f"This ACCT is {case.get_status_display().lower()}: you can only {doing} on an open "
            "ACCT. Raise a concern to reopen it."
        )


def _audit(actor, case: AcctCase, action: str, *, event: str, before=None, after=None, **details):
    record(
        actor=actor,
        action=action,
        object_type=CASE_OBJECT,
        object_id=case.public_id,
        prison_code=case.prison.code,
        before=before,
        after=after,
        details={"event": event, "log_number": case.log_number, **details},
    )


def _case_note(actor, case: AcctCase, text: str) -> None:
    """The ACCT's milestones also go on the person's record (a SAFER case note)."""
    if has_permission(actor, people_perms.ADD_CASE_NOTE):
        people_services.add_case_note(
            actor=actor, prisoner=case.prisoner, note_type=CaseNoteType.SAFER_CUSTODY, text=text
        )


def _bump(case: AcctCase, *fields: str) -> None:
    case.version += 1
    case.save(update_fields=["version", *fields])


def _in_time(moment: datetime | None, now: datetime, what: str, field: str, case: AcctCase):
    moment = moment or now
    rules.check_not_future(moment, now, what, field)
    opened = case.period_started_at
    if moment < opened.replace(second=0, microsecond=0):
        raise ValidationFailed(
            f"The time of the {what} cannot be before the ACCT was opened or reopened",
            field=field,
        )
    # Forms take times to the minute: 09:00 typed for an ACCT opened at 09:00:30 means "just
    # after it opened", so it is recorded at the opening moment and counts in this period.
    return max(moment, opened)


def _staff_in_prison(user: User | None, case: AcctCase, field: str, role: str) -> User:
    if user is None or not user.is_active or case.prison_id not in user.prison_ids():
        raise ValidationFailed(f"Choose a {role} who works at {case.prison.name}", field=field)
    return user


def _wing_of(prisoner_id: int) -> str:
    current = (
        CellAllocation.objects.filter(prisoner_id=prisoner_id, ended_at__isnull=True)
        .select_related("cell")
        .first()
    )
    return current.cell.path.split("-")[0] if current else ""


def _dedupe(kind: str, case: AcctCase, due_at: datetime) -> str:
    return f"{kind}:{case.public_id}:{due_at.astimezone(clock.LONDON).isoformat()}"


def _after_write(case: AcctCase, *, observation_check: bool = False) -> None:
    """After every write that can move what is due on the case, in the caller's transaction:
    store the case's earliest due time (``AcctCase.next_due_at``, by which the estate query
    finds the cases with something overdue) and, with ``observation_check``, queue the overdue
    check for the observation due now. One read of the case's facts (four queries) for both."""
    timings = rules.Timings.from_settings()
    ((_, case_facts, (stored,)),) = facts.due_facts(
        AcctCase.objects.filter(pk=case.pk), "next_due_at"
    )
    next_due = rules.next_due_at(case_facts, timings)
    if next_due != stored:
        AcctCase.objects.filter(pk=case.pk).update(next_due_at=next_due)
    case.next_due_at = next_due
    if not observation_check:
        return
    if case_facts.status != CaseStatus.OPEN or case_facts.plan is None:
        return
    due = rules.observation_due(case_facts.plan, case_facts.last_observation_at, timings)
    if due is None:
        return  # constant supervision: always due, nothing to remind about
    jobs.enqueue(
        kind=JOB_OBSERVATION_OVERDUE,
        payload={"case": str(case.public_id), "due_at": due.isoformat()},
        due_at=due + OVERDUE_CHECK_DELAY,
        dedupe_key=_dedupe(JOB_OBSERVATION_OVERDUE, case, due),
    )


def _schedule_review_check(case: AcctCase, due_at: datetime) -> None:
    jobs.enqueue(
        kind=JOB_REVIEW_DUE,
        payload={"case": str(case.public_id), "due_at": due_at.isoformat()},
        due_at=due_at,
        dedupe_key=_dedupe(JOB_REVIEW_DUE, case, due_at),
    )


def _tell_safer_custody(case: AcctCase, kind: str, at: datetime) -> None:
    verb = "opened" if kind == TaskKind.ACCT_OPENED else "reopened"
    notify(
        Notice(
            case=case,
            kind=kind,
            audience=TaskAudience.SAFER_CUSTODY,
            title=f"ACCT {case.log_number} {verb} for {case.prisoner.prison_number}",
            due_at=at,
            wing_path=_wing_of(case.prisoner_id),
        )
    )


# --- Concern and Keep Safe ---------------------------------------------------------------------


def raise_concern(
    *,
    actor,
    prisoner: Prisoner,
    source: str,
    seen_or_heard: str,
    immediate_risk: str,
    action_taken: str,
) -> Concern:
    """Any member of staff of the person's prison. No open case: opens one (log number, case
    note, alert HA, safer custody told). Open case: recorded on it. Post-closure or closed:
    reopens the same case."""
    _require(actor, perms.RAISE_CONCERN, "You cannot raise ACCT concerns")
    if source not in ConcernSource.values:
        raise ValidationFailed("Choose where the concern came from", field="source")
    seen = rules.check_text(
        seen_or_heard,
        limit=CONCERN_SEEN_MAX,
        field_name="seen_or_heard",
        what="what was seen or heard",
        required=True,
    )
    risk = rules.check_text(
        immediate_risk,
        limit=CONCERN_RISK_MAX,
        field_name="immediate_risk",
        what="the immediate risk",
        required=True,
    )
    action = rules.check_text(
        action_taken,
        limit=CONCERN_ACTION_MAX,
        field_name="action_taken",
        what="what was done",
        required=True,
    )
    with transaction.atomic():
        person = _lock_person(actor, prisoner)
        now = clock.now()
        case = (
            AcctCase.objects.select_for_update(of=("self",))
            .select_related("prison")
            .filter(prisoner=person)
            .order_by("-opened_at", "-id")
            .first()
        )
        if case is None:
            case = _open_case(actor, person, now)
            effect = ConcernEffect.OPENED
        else:
            case.prisoner = person
            if case.prison_id != person.prison_id:
                # The case follows the person (normally done on transfer; this heals a missed one).
                case.prison = person.prison
                case.save(update_fields=["prison"])
            effect = (
                ConcernEffect.RECORDED if case.status == CaseStatus.OPEN else ConcernEffect.REOPENED
            )
        concern = Concern.objects.create(
            case=case,
            prison=person.prison,
            source=source,
            seen_or_heard=seen,
            immediate_risk=risk,
            action_taken=action,
            effect=effect,
            raised_at=now,
            raised_by=_user(actor),
            raised_by_label=_label(actor),
        )
        if effect == ConcernEffect.OPENED:
            CaseTransition.objects.create(
                case=case,
                from_status="",
                to_status=CaseStatus.OPEN,
                at=now,
                by=_user(actor),
                by_label=_label(actor),
                reason="Concern raised",
                concern=concern,
            )
            for code in (ALERT_ACCT_POST_CLOSURE, ALERT_ACCT_CLOSED):
                people_services.end_active_alert(actor=actor, prisoner=person, code=code)
            people_services.apply_system_alert(
                actor=actor, prisoner=person, code=ALERT_ACCT_OPEN, comment=case.log_number
            )
            _case_note(
                actor,
                case,
                f"ACCT opened, log number {case.log_number}. Concern from: "
                f"{ConcernSource(source).label.lower()}.",
            )
            _tell_safer_custody(case, TaskKind.ACCT_OPENED, now)
            events.send_on_commit(events.acct_opened, case=case, concern=concern)
        elif effect == ConcernEffect.REOPENED:
            _apply_transition(
                actor, case, CaseStatus.OPEN, reason="A new concern was raised", concern=concern
            )
        _audit(
            actor,
            case,
            Action.CREATE,
            event="concern_raised",
            after={"source": source, "effect": effect, "status": case.status},
            concern=str(concern.public_id),
        )
        _after_write(case)
    return concern


def _open_case(actor, person: Prisoner, now: datetime) -> AcctCase:
    year = clock.local(now).year
    counter, _ = LogNumberCounter.objects.select_for_update().get_or_create(
        prison=person.prison, year=year
    )
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    case = AcctCase.objects.create(
        prisoner=person,
        prison=person.prison,
        log_number=rules.log_number(person.prison.code, year, counter.last_number),
        status=CaseStatus.OPEN,
        opened_at=now,
        opened_by_label=_label(actor),
        period_started_at=now,
    )
    case.prisoner = person
    return case


# --- Transitions -------------------------------------------------------------------------------


def _apply_transition(
    actor,
    case: AcctCase,
    target: str,
    *,
    reason: str,
    review: CaseReview | None = None,
    concern: Concern | None = None,
) -> bool:
    """Move a case (already locked through its person) to ``target``. False if it is there
    already; Conflict if the table does not allow it."""
    locked = (
        AcctCase.objects.select_for_update(of=("self",))
        .filter(pk=case.pk, status__in=rules.allowed_sources(target))
        .first()
    )
    if locked is None:
        current = AcctCase.objects.values_list("status", flat=True).get(pk=case.pk)
        rules.check_transition(current, target)  # Conflict, unless it is already there
        return False
    now = clock.now()
    source = locked.status
    case.status = target
    fields = ["status"]
    if target == CaseStatus.OPEN:
        case.closed_at = None
        case.period_started_at = now
        fields += ["closed_at", "period_started_at"]
    elif target == CaseStatus.POST_CLOSURE:
        case.closed_at = now
        fields.append("closed_at")
    _bump(case, *fields)
    CaseTransition.objects.create(
        case=case,
        from_status=source,
        to_status=target,
        at=now,
        by=_user(actor),
        by_label=_label(actor),
        reason=reason,
        review=review,
        concern=concern,
    )
    person = case.prisoner
    if target == CaseStatus.OPEN:
        for code in (ALERT_ACCT_POST_CLOSURE, ALERT_ACCT_CLOSED):
            people_services.end_active_alert(actor=actor, prisoner=person, code=code)
        people_services.apply_system_alert(
            actor=actor, prisoner=person, code=ALERT_ACCT_OPEN, comment=case.log_number
        )
        _case_note(actor, case, f"ACCT {case.log_number} reopened: {reason}")
        _tell_safer_custody(case, TaskKind.ACCT_REOPENED, now)
        events.send_on_commit(events.acct_reopened, case=case, concern=concern)
    elif target == CaseStatus.POST_CLOSURE:
        people_services.end_active_alert(actor=actor, prisoner=person, code=ALERT_ACCT_OPEN)
        people_services.apply_system_alert(
            actor=actor, prisoner=person, code=ALERT_ACCT_POST_CLOSURE, comment=case.log_number
        )
        _case_note(actor, case, f"ACCT {case.log_number} closed at a case review: {reason}")
        events.send_on_commit(events.acct_closed, case=case, status=target, review=review)
    else:  # CLOSED: the post-closure review is complete
        people_services.end_active_alert(actor=actor, prisoner=person, code=ALERT_ACCT_POST_CLOSURE)
        people_services.apply_system_alert(
            actor=actor, prisoner=person, code=ALERT_ACCT_CLOSED, comment=case.log_number
        )
        _case_note(actor, case, f"ACCT {case.log_number} post-closure review completed.")
        events.send_on_commit(events.acct_closed, case=case, status=target, review=review)
    _audit(
        actor,
        case,
        Action.UPDATE,
        event="transition",
        before={"status": source},
        after={"status": target},
        review=str(review.public_id) if review else None,
        concern=str(concern.public_id) if concern else None,
    )
    return True


def transition_case(
    *, actor, case: AcctCase, to_status: str, reason: str = "", review: CaseReview | None = None
) -> AcctCase:
    """The state machine's one door (rules.TRANSITIONS). Closing needs the closing review;
    completing post-closure needs the post-closure review; reopening needs a reason. Repeating a
    finished transition is a no-op; a transition the table does not allow raises Conflict.
    Pages normally use ``hold_review``, ``complete_post_closure_review`` and ``reopen_case``."""
    _require(actor, perms.MANAGE_CASE, "You cannot change an ACCT's status")
    reason = rules.check_text(
        reason, limit=REASON_MAX, field_name="reason", what="the reason", required=False
    )
    with transaction.atomic():
        locked = _lock_case(actor, case)
        if not rules.check_transition(locked.status, to_status):
            return locked
        if to_status == CaseStatus.POST_CLOSURE:
            if (
                review is None
                or review.case_id != locked.pk
                or review.outcome != ReviewOutcome.CLOSE
            ):
                raise ValidationFailed(
                    "An ACCT can only be closed at a case review, with the reason recorded",
                    field="review",
                )
            reason = review.closure_reason
        elif to_status == CaseStatus.CLOSED:
            if (
                review is None
                or review.case_id != locked.pk
                or review.kind != ReviewKind.POST_CLOSURE
            ):
                raise ValidationFailed(
                    "Complete the post-closure review to close the ACCT", field="review"
                )
            reason = reason or "Post-closure review completed"
        elif not reason:
            raise ValidationFailed("Enter why the ACCT is reopened", field="reason")
        _apply_transition(actor, locked, to_status, reason=reason, review=review)
        _after_write(locked)
    return locked


def reopen_case(*, actor, case: AcctCase, reason: str) -> AcctCase:
    """A manager reopens a post-closure or closed ACCT (e.g. at the post-closure review).
    Reopening an open ACCT changes nothing."""
    return transition_case(actor=actor, case=case, to_status=CaseStatus.OPEN, reason=reason)


# --- Immediate Action Plan and assessment ------------------------------------------------------


def _new_plan(case, levels: rules.Supervision, started_at, actor, *, review=None, action_plan=None):
    return SupervisionPlan.objects.create(
        case=case,
        review=review,
        action_plan=action_plan,
        started_at=started_at,
        constant=levels.constant,
        day_observations_per_hour=levels.day_observations_per_hour,
        night_observations_per_hour=levels.night_observations_per_hour,
        day_conversations=levels.day_conversations,
        night_conversations=levels.night_conversations,
        set_by_label=_label(actor),
    )


def record_iap(
    *,
    actor,
    case: AcctCase,
    plan: str,
    recorded_at: datetime | None = None,
    supervision: rules.Supervision | None = None,
) -> ImmediateActionPlan:
    """The Immediate Action Plan, optionally with interim supervision levels until the first
    case review sets the plan."""
    _require(actor, perms.RECORD_ENTRY, "You cannot record ACCT plans")
    text = rules.check_text(
        plan, limit=PLAN_TEXT_MAX, field_name="plan", what="the plan", required=True
    )
    levels = rules.clean_supervision(supervision) if supervision is not None else None
    with transaction.atomic():
        locked = _lock_case(actor, case)
        _require_open(locked, "record an Immediate Action Plan")
        now = clock.now()
        at = _in_time(recorded_at, now, "plan", "recorded_at", locked)
        iap = ImmediateActionPlan.objects.create(
            case=locked,
            recorded_at=at,
            recorded_by=_user(actor),
            recorded_by_label=_label(actor),
            plan=text,
        )
        if levels is not None:
            _new_plan(locked, levels, at, actor, action_plan=iap)
        _after_write(locked, observation_check=levels is not None)
        _audit(
            actor,
            locked,
            Action.CREATE,
            event="iap_recorded",
            after={"interim_supervision": levels is not None},
        )
    return iap


def record_assessment(
    *, actor, case: AcctCase, summary: str, interviewed_at: datetime | None = None
) -> AssessmentInterview:
    """Only staff with a current ACCT assessor training record (on the day of the interview)."""
    _require(actor, perms.RECORD_ENTRY, "You cannot record ACCT assessments")
    text = rules.check_text(
        summary,
        limit=ASSESSMENT_TEXT_MAX,
        field_name="summary",
        what="the assessment",
        required=True,
    )
    now = clock.now()
    day = clock.local(interviewed_at or now).date()
    training = TrainingRecord.current_for(_user(actor), ASSESSOR_COURSE, day)
    if training is None:
        latest = TrainingRecord.latest_for(_user(actor), ASSESSOR_COURSE)
        why = (
            f"your ACCT assessor training expired on {latest.expires_on:%d/%m/%Y}"
            if latest is not None and latest.expires_on < day
            else "you have no current ACCT assessor training record"
        )
        raise PermissionDenied(
            f"Only a trained ACCT assessor can record an assessment interview: {why}.",
            code="training_required",
        )
    with transaction.atomic():
        locked = _lock_case(actor, case)
        _require_open(locked, "record an assessment interview")
        at = _in_time(interviewed_at, now, "assessment interview", "interviewed_at", locked)
        assessment = AssessmentInterview.objects.create(
            case=locked,
            assessor=actor,
            assessor_label=_label(actor),
            training_record=training,
            interviewed_at=at,
            recorded_at=now,
            summary=text,
        )
        _audit(actor, locked, Action.CREATE, event="assessment_recorded")
        _after_write(locked)
    return assessment


# --- Case reviews ------------------------------------------------------------------------------


def _attendee_rows(review: CaseReview, attendees: Sequence[Attendee]) -> None:
    ReviewAttendee.objects.bulk_create(
        [
            ReviewAttendee(
                review=review,
                user=a.user,
                name=(
                    a.name or (a.user.get_full_name() or a.user.get_username() if a.user else "")
                )[:200],
                discipline=a.discipline,
            )
            for a in attendees
        ]
    )


def _clean_caremap(items: Sequence[CaremapInput]) -> list[CaremapInput]:
    cleaned = []
    for item in items:
        need = rules.check_text(
            item.need, limit=CAREMAP_TEXT_MAX, field_name="caremap", what="the need", required=True
        )
        action = rules.check_text(
            item.action,
            limit=CAREMAP_TEXT_MAX,
            field_name="caremap",
            what="the action",
            required=True,
        )
        owner = rules.check_text(
            item.owner,
            limit=CAREMAP_OWNER_MAX,
            field_name="caremap",
            what="who owns the action",
            required=True,
        )
        if not isinstance(item.target_date, date):
            raise ValidationFailed("Enter a target date for each action", field="caremap")
        cleaned.append(CaremapInput(need, action, owner, item.target_date))
    return cleaned


def hold_review(
    *,
    actor,
    case: AcctCase,
    expected_version: int,
    attendees: Sequence[Attendee],
    risk_level: str,
    next_review_at: datetime | None = None,
    supervision: rules.Supervision | None = None,
    case_manager: User | None = None,
    case_coordinator: User | None = None,
    triggers: str = "",
    warning_signs: str = "",
    protective_factors: str = "",
    notes: str = "",
    caremap_new: Sequence[CaremapInput] = (),
    caremap_updates: Mapping[UUID | str, str] | None = None,
    family_consent: bool = False,
    close: bool = False,
    closure_reason: str = "",
    held_at: datetime | None = None,
) -> CaseReview:
    """Record a case review of an open ACCT (first, scheduled or unscheduled).

    The first review of an open period must appoint a case manager (NOMS band 4+ or NHS band 5+)
    and a case coordinator, record triggers and warning signs, and set the supervision plan;
    later reviews keep what they do not change. Continuing needs a next review in the future;
    ``close=True`` closes the ACCT (POST_CLOSURE) with ``closure_reason``. The review satisfies
    every outstanding review demand made before it. ``expected_version`` is the case version the
    form was built from (optimistic locking).
    """
    _require(actor, perms.MANAGE_CASE, "You cannot hold ACCT case reviews")
    now = clock.now()
    rules.check_attendees([a.discipline for a in attendees], family_consent)
    if risk_level not in RiskLevel.values:
        raise ValidationFailed("Choose the risk level", field="risk_level")
    texts = {
        name: rules.check_text(
            value, limit=REVIEW_TEXT_MAX, field_name=name, what=label, required=False
        )
        for name, value, label in (
            ("triggers", triggers, "the triggers"),
            ("warning_signs", warning_signs, "the warning signs"),
            ("protective_factors", protective_factors, "the protective factors"),
            ("notes", notes, "the notes"),
        )
    }
    if close:
        closure_reason = rules.check_text(
            closure_reason,
            limit=REASON_MAX,
            field_name="closure_reason",
            what="the reason for closing the ACCT",
            required=True,
        )
        if next_review_at is not None or supervision is not None:
            raise ValidationFailed(
                "A review that closes the ACCT sets no next review or supervision plan",
                field="next_review",
            )
    else:
        rules.check_next_review(next_review_at, now)
    levels = rules.clean_supervision(supervision) if supervision is not None else None
    new_items = _clean_caremap(caremap_new)
    updates = {str(k): v for k, v in (caremap_updates or {}).items()}
    if any(status not in CaremapStatus.values for status in updates.values()):
        raise ValidationFailed("Choose a status for each CAREMAP action", field="caremap")
    held = held_at or now
    rules.check_not_future(held, now, "review", "held_at")

    with transaction.atomic():
        locked = _lock_case(actor, case)
        if locked.status != CaseStatus.OPEN:
            raise Conflict(
                f"This ACCT is {locked.get_status_display().lower()}: hold its post-closure "
                "review, or reopen it first"
            )
        if locked.version != expected_version:
            raise Conflict(STALE)
        held = _in_time(held, now, "review", "held_at", locked)
        state = facts.state_of(locked)
        previous = state.latest_review
        first = previous is None
        manager = case_manager or (previous.case_manager if previous else None)
        coordinator = case_coordinator or (previous.case_coordinator if previous else None)
        if manager is None:
            raise ValidationFailed("Appoint a case manager", field="case_manager")
        if coordinator is None:
            raise ValidationFailed("Appoint a case coordinator", field="case_coordinator")
        _staff_in_prison(manager, locked, "case_manager", "case manager")
        rules.check_case_manager_band(manager.band)
        _staff_in_prison(coordinator, locked, "case_coordinator", "case coordinator")
        for name in ("triggers", "warning_signs", "protective_factors"):
            if not texts[name] and previous is not None:
                texts[name] = getattr(previous, name)
        if first and not (texts["triggers"] and texts["warning_signs"]):
            raise ValidationFailed(
                "Record the person's triggers and warning signs at the first case review",
                field="triggers" if not texts["triggers"] else "warning_signs",
            )
        if first and not close and levels is None:
            raise ValidationFailed(
                "Set the supervision plan (observations and conversations) at the first review",
                field="supervision",
            )
        items = {str(i.public_id): i for i in CaremapItem.objects.filter(case=locked)}
        if any(key not in items for key in updates):
            raise ValidationFailed("That CAREMAP action is not on this ACCT", field="caremap")
        outstanding = [d for d in state.demands if d.demanded_at <= held]
        kind = (
            ReviewKind.FIRST
            if first
            else (ReviewKind.UNSCHEDULED if outstanding else ReviewKind.SCHEDULED)
        )
        review = CaseReview.objects.create(
            case=locked,
            kind=kind,
            outcome=ReviewOutcome.CLOSE if close else ReviewOutcome.CONTINUE,
            held_at=held,
            recorded_at=now,
            chair=_user(actor),
            chair_label=_label(actor),
            case_manager=manager,
            case_coordinator=coordinator,
            risk_level=risk_level,
            family_consent=family_consent,
            next_review_at=None if close else next_review_at,
            closure_reason=closure_reason if close else "",
            **texts,
        )
        _attendee_rows(review, attendees)
        ReviewDemand.objects.filter(pk__in=[d.pk for d in outstanding]).update(satisfied_by=review)
        for key, status in updates.items():
            item = items[key]
            if item.status != status:
                item.status = status
                item.updated_in = review
                item.save(update_fields=["status", "updated_in"])
        CaremapItem.objects.bulk_create(
            [
                CaremapItem(
                    case=locked,
                    need=i.need,
                    action=i.action,
                    owner=i.owner,
                    target_date=i.target_date,
                    created_in=review,
                )
                for i in new_items
            ]
        )
        if levels is not None:
            _new_plan(locked, levels, held, actor, review=review)
        _bump(locked)
        _audit(
            actor,
            locked,
            Action.CREATE,
            event="review_held",
            after={
                "kind": kind,
                "risk_level": risk_level,
                "outcome": review.outcome,
                "next_review_at": review.next_review_at,
                "case_manager": manager.get_username(),
                "case_coordinator": coordinator.get_username(),
                "plan_set": levels is not None,
            },
            demands_satisfied=len(outstanding),
            caremap_added=len(new_items),
            caremap_updated=len(updates),
        )
        if close:
            _apply_transition(
                actor, locked, CaseStatus.POST_CLOSURE, reason=closure_reason, review=review
            )
            _after_write(locked)
        else:
            _case_note(
                actor,
                locked,
                f"ACCT {locked.log_number}: {ReviewKind(kind).label.lower()} held. Risk "
                f"{RiskLevel(risk_level).label.lower()}; next review "
                f"{clock.local(next_review_at):%d/%m/%Y %H:%M}.",
            )
            _after_write(locked, observation_check=levels is not None)
            _schedule_review_check(locked, next_review_at)
    return review


def complete_post_closure_review(
    *,
    actor,
    case: AcctCase,
    expected_version: int,
    notes: str,
    attendees: Sequence[Attendee] = (),
    family_consent: bool = False,
    held_at: datetime | None = None,
) -> CaseReview | None:
    """The post-closure review: POST_CLOSURE -> CLOSED (HA1 ended, HA2 set). On a case already
    CLOSED this is a no-op (None); on an OPEN case it is refused (Conflict)."""
    _require(actor, perms.MANAGE_CASE, "You cannot hold ACCT reviews")
    text = rules.check_text(
        notes, limit=REVIEW_TEXT_MAX, field_name="notes", what="the review notes", required=True
    )
    disciplines = [a.discipline for a in attendees]
    if any(d not in Discipline.values for d in disciplines):
        raise ValidationFailed("Choose each attendee's role from the list", field="attendees")
    if Discipline.FAMILY in disciplines and not family_consent:
        raise ValidationFailed(
            "Family members may attend only with the person's consent: record the consent",
            field="family_consent",
        )
    now = clock.now()
    with transaction.atomic():
        locked = _lock_case(actor, case)
        if not rules.check_transition(locked.status, CaseStatus.CLOSED):
            return None
        if locked.version != expected_version:
            raise Conflict(STALE)
        held = held_at or now
        rules.check_not_future(held, now, "review", "held_at")
        if held < locked.closed_at:
            raise ValidationFailed(
                "The post-closure review cannot be before the ACCT was closed", field="held_at"
            )
        previous = facts.state_of(locked).latest_review
        review = CaseReview.objects.create(
            case=locked,
            kind=ReviewKind.POST_CLOSURE,
            outcome=ReviewOutcome.COMPLETE,
            held_at=held,
            recorded_at=now,
            chair=_user(actor),
            chair_label=_label(actor),
            case_manager=previous.case_manager if previous else None,
            case_coordinator=previous.case_coordinator if previous else None,
            risk_level=previous.risk_level if previous else "",
            family_consent=family_consent,
            notes=text,
        )
        _attendee_rows(review, attendees)
        _audit(actor, locked, Action.CREATE, event="post_closure_review_held")
        _apply_transition(
            actor, locked, CaseStatus.CLOSED, reason="Post-closure review completed", review=review
        )
        _after_write(locked)
    return review


def update_caremap_item(
    *, actor, item: CaremapItem, expected_version: int, status: str
) -> CaremapItem:
    """Mark a CAREMAP action done or dropped between reviews (optimistic locking on the case)."""
    _require(actor, perms.MANAGE_CASE, "You cannot change the CAREMAP")
    if status not in CaremapStatus.values:
        raise ValidationFailed("Choose a status", field="status")
    with transaction.atomic():
        locked = _lock_case(actor, item.case)
        _require_open(locked, "change the CAREMAP")
        if locked.version != expected_version:
            raise Conflict(STALE)
        current = CaremapItem.objects.select_for_update().get(pk=item.pk)
        if current.status == status:
            return current
        before = current.status
        current.status = status
        current.save(update_fields=["status"])
        _bump(locked)
        _audit(
            actor,
            locked,
            Action.UPDATE,
            event="caremap_updated",
            before={"status": before},
            after={"status": status},
            item=str(current.public_id),
        )
    return current


# --- Observations and conversations ------------------------------------------------------------


def _check_health_flag(actor, health: bool) -> None:
    if health and not has_permission(actor, people_perms.ADD_HEALTH_NOTE):
        raise PermissionDenied("Only healthcare staff can record health entries")


def record_entry(
    *,
    actor,
    case: AcctCase,
    kind: str,
    occurred_at: datetime,
    seen_or_spoken_to: bool,
    presentation: str,
    concerns: str = "",
    health: bool = False,
) -> CaseEntry:
    """An observation or conversation by any member of staff of the person's prison. The time
    cannot be in the future. Health entries are written and read by healthcare only."""
    _require(actor, perms.RECORD_ENTRY, "You cannot record ACCT observations")
    if kind not in EntryKind.values:
        raise ValidationFailed("Choose observation or conversation", field="kind")
    if occurred_at is None:
        raise ValidationFailed("Enter the time", field="occurred_at")
    _check_health_flag(actor, health)
    what = EntryKind(kind).label.lower()
    presentation = rules.check_text(
        presentation,
        limit=ENTRY_TEXT_MAX,
        field_name="presentation",
        what="how the person presented",
        required=True,
    )
    concerns = rules.check_text(
        concerns, limit=ENTRY_TEXT_MAX, field_name="concerns", what="concerns", required=False
    )
    now = clock.now()
    rules.check_not_future(occurred_at, now, what, "occurred_at")
    with transaction.atomic():
        locked = _lock_case(actor, case)
        _require_open(locked, f"record an {what}")
        occurred_at = _in_time(occurred_at, now, what, "occurred_at", locked)
        entry = CaseEntry.objects.create(
            case=locked,
            kind=kind,
            occurred_at=occurred_at,
            recorded_at=now,
            recorded_by=_user(actor),
            recorded_by_label=_label(actor),
            seen_or_spoken_to=bool(seen_or_spoken_to),
            presentation=presentation,
            concerns=concerns,
            health=health,
        )
        _audit(
            actor,
            locked,
            Action.CREATE,
            event="entry_recorded",
            after={"kind": kind, "occurred_at": occurred_at, "health": health},
            entry=str(entry.public_id),
        )
        _after_write(
            locked, observation_check=kind == EntryKind.OBSERVATION and entry.seen_or_spoken_to
        )
    return entry


def correct_entry(
    *,
    actor,
    entry: CaseEntry,
    presentation: str,
    concerns: str = "",
    seen_or_spoken_to: bool | None = None,
) -> CaseEntry:
    """A correction is a new entry that points at the one it corrects (which stays as it was).
    It keeps the original's kind, time and health flag."""
    _require(actor, perms.RECORD_ENTRY, "You cannot record ACCT observations")
    if entry.health and not has_permission(actor, people_perms.VIEW_HEALTH):
        raise NotFound("No such entry")
    _check_health_flag(actor, entry.health)
    presentation = rules.check_text(
        presentation,
        limit=ENTRY_TEXT_MAX,
        field_name="presentation",
        what="how the person presented",
        required=True,
    )
    concerns = rules.check_text(
        concerns, limit=ENTRY_TEXT_MAX, field_name="concerns", what="concerns", required=False
    )
    with transaction.atomic():
        locked = _lock_case(actor, entry.case)
        original = CaseEntry.objects.get(pk=entry.pk)
        correction = CaseEntry.objects.create(
            case=locked,
            kind=original.kind,
            occurred_at=original.occurred_at,
            recorded_at=clock.now(),
            recorded_by=_user(actor),
            recorded_by_label=_label(actor),
            seen_or_spoken_to=(
                original.seen_or_spoken_to if seen_or_spoken_to is None else seen_or_spoken_to
            ),
            presentation=presentation,
            concerns=concerns,
            health=original.health,
            corrects=original,
        )
        _audit(
            actor,
            locked,
            Action.CREATE,
            event="entry_corrected",
            entry=str(correction.public_id),
            corrects=str(original.public_id),
        )
        # A correction marking someone seen after all can move the last observation.
        _after_write(locked)
    return correction


# --- Review demands ----------------------------------------------------------------------------


def _create_demand(
    actor,
    case: AcctCase,
    reason: str,
    *,
    details: str = "",
    at: datetime,
    source_key: str = "",
) -> tuple[ReviewDemand, bool]:
    if source_key:
        existing = ReviewDemand.objects.filter(case=case, source_key=source_key).first()
        if existing is not None:
            return existing, False
    due = rules.demand_due(
        at, reason, case_open=case.status == CaseStatus.OPEN, timings=rules.Timings.from_settings()
    )
    demand = ReviewDemand.objects.create(
        case=case,
        reason=reason,
        details=details,
        demanded_at=at,
        due_at=due,
        demanded_by_label=_label(actor),
        source_key=source_key,
    )
    notify(
        Notice(
            case=case,
            kind=TaskKind.REVIEW_DUE,
            audience=TaskAudience.SAFER_CUSTODY,
            title=(
                f"ACCT {case.log_number} ({case.prisoner.prison_number}): case review needed: "
                f"{DemandReason(reason).label.lower()}"
            ),
            due_at=due,
            wing_path=_wing_of(case.prisoner_id),
        )
    )
    _audit(
        actor,
        case,
        Action.CREATE,
        event="review_demanded",
        after={"reason": reason, "due_at": due},
        demand=str(demand.public_id),
    )
    events.send_on_commit(events.review_due, case=case, due_at=due, reason=reason)
    _after_write(case)
    return demand, True


def demand_review(
    *,
    actor,
    case: AcctCase,
    reason: str,
    details: str = "",
    occurred_at: datetime | None = None,
) -> ReviewDemand:
    """Any member of staff asks for an unscheduled review (self-harm, a trigger, a request).
    Self-harm on an open ACCT makes the review due at once; anything else within
    ACCT_UNSCHEDULED_REVIEW_HOURS. Only an open ACCT has reviews: raise a concern otherwise."""
    _require(actor, perms.RECORD_ENTRY, "You cannot ask for ACCT reviews")
    if reason not in DemandReason.values:
        raise ValidationFailed("Choose why a review is needed", field="reason")
    details = rules.check_text(
        details, limit=REASON_MAX, field_name="details", what="the details", required=False
    )
    now = clock.now()
    with transaction.atomic():
        locked = _lock_case(actor, case)
        _require_open(locked, "ask for a case review")
        at = _in_time(occurred_at, now, "event", "occurred_at", locked)
        demand, _ = _create_demand(actor, locked, reason, details=details, at=at)
    return demand


RELEASE_REASON = "Released from custody"


def move_case_on_transfer(
    *, prisoner: Prisoner, to_prison, arrived_at: datetime, source_key: str, actor=SYSTEM
) -> AcctCase | None:
    """The person's live ACCT moves with them: the case's prison changes and, if it is open, a
    review is demanded within the unscheduled-review window after arrival. Idempotent."""
    with transaction.atomic():
        person = _lock_person(actor, prisoner, scoped=False)
        case = (
            AcctCase.objects.select_for_update(of=("self",))
            .select_related("prison")
            .filter(prisoner=person, status__in=(CaseStatus.OPEN, CaseStatus.POST_CLOSURE))
            .first()
        )
        if case is None:
            return None
        case.prisoner = person
        if case.prison_id != to_prison.pk:
            before = case.prison.code
            case.prison = to_prison
            _bump(case, "prison")
            _audit(
                actor,
                case,
                Action.UPDATE,
                event="case_transferred",
                before={"prison": before},
                after={"prison": to_prison.code},
            )
        if case.status == CaseStatus.OPEN:
            _create_demand(
                actor,
                case,
                DemandReason.TRANSFER_IN,
                details=f"Arrived at {to_prison.name}",
                at=arrived_at,
                source_key=source_key,
            )
    return case


def close_case_on_release(
    *, prisoner: Prisoner, from_prison, released_at: datetime, actor=SYSTEM
) -> AcctCase | None:
    """A person released with a live ACCT: the case closes (no review can be held now, so no
    post-closure review is due), alert HA or HA1 becomes HA2, and the releasing prison's safer
    custody team gets a task to pass the risk information to those supporting the person in the
    community (ADR 0009). Nothing for a person still in prison or with no live case. Idempotent."""
    with transaction.atomic():
        person = Prisoner.objects.select_for_update(of=("self",)).filter(pk=prisoner.pk).first()
        if person is None or person.custody_status != CustodyStatus.OUT:
            return None
        case = (
            AcctCase.objects.select_for_update(of=("self",))
            .select_related("prison")
            .filter(prisoner=person, status__in=(CaseStatus.OPEN, CaseStatus.POST_CLOSURE))
            .first()
        )
        if case is None:
            return None
        case.prisoner = person
        source = case.status
        case.status = CaseStatus.CLOSED
        case.closed_at = case.closed_at or released_at
        _bump(case, "status", "closed_at")
        _after_write(case)  # nothing is due on a closed case: next_due_at becomes empty
        CaseTransition.objects.create(
            case=case,
            from_status=source,
            to_status=CaseStatus.CLOSED,
            at=released_at,
            by=None,
            by_label=_label(actor),
            reason=RELEASE_REASON,
        )
        for code in (ALERT_ACCT_OPEN, ALERT_ACCT_POST_CLOSURE):
            people_services.end_active_alert(actor=actor, prisoner=person, code=code)
        people_services.apply_system_alert(
            actor=actor, prisoner=person, code=ALERT_ACCT_CLOSED, comment=case.log_number
        )
        notify(
            Notice(
                case=case,
                kind=TaskKind.CLOSED_ON_RELEASE,
                audience=TaskAudience.SAFER_CUSTODY,
                title=(
                    f"ACCT {case.log_number} ({person.prison_number}) closed on release from "
                    f"{from_prison.name if from_prison else case.prison.name}: pass the risk "
                    "information to probation and the person's GP"
                ),
                due_at=released_at,
            )
        )
        _audit(
            actor,
            case,
            Action.UPDATE,
            event="closed_on_release",
            before={"status": source},
            after={"status": CaseStatus.CLOSED},
        )
        events.send_on_commit(events.acct_closed, case=case, status=CaseStatus.CLOSED, review=None)
    return case


# --- Safer cells and tasks ---------------------------------------------------------------------


def record_safer_cell_decision(*, actor, case: AcctCase, reason: str) -> SaferCellDecision:
    """A manager records why a HIGH-risk person is not moved to a safer cell."""
    _require(actor, perms.MANAGE_CASE, "You cannot record safer-cell decisions")
    text = rules.check_text(
        reason,
        limit=REASON_MAX,
        field_name="reason",
        what="why the person is not moved",
        required=True,
    )
    with transaction.atomic():
        locked = _lock_case(actor, case)
        _require_open(locked, "record a safer-cell decision")
        decision = SaferCellDecision.objects.create(
            case=locked,
            decided_at=clock.now(),
            decided_by=actor,
            decided_by_label=_label(actor),
            reason=text,
        )
        _audit(actor, locked, Action.CREATE, event="safer_cell_decision")
    return decision


def complete_task(*, actor, task: StaffTask) -> StaffTask:
    """Mark a task done. Done twice is a no-op."""
    _require(actor, perms.MANAGE_CASE, "You cannot complete ACCT tasks")
    if task.prison_id not in principal_prison_ids(actor):
        raise NotFound("No such task in your prisons")
    with transaction.atomic():
        locked = StaffTask.objects.select_for_update().select_related("prison").get(pk=task.pk)
        if locked.done_at is not None:
            return locked
        locked.done_at = clock.now()
        locked.done_by = actor
        locked.save(update_fields=["done_at", "done_by"])
        record(
            actor=actor,
            action=Action.UPDATE,
            object_type="acct_task",
            object_id=locked.public_id,
            prison_code=locked.prison.code,
            after={"done_at": locked.done_at},
            details={"kind": locked.kind},
        )
    return locked


# --- Timers (run by the worker: tasks.py) -------------------------------------------------------


def _case_for_timer(case_id: UUID) -> AcctCase | None:
    """The case locked for a timer, or None if it is gone or its person has left custody."""
    case = AcctCase.objects.filter(public_id=case_id).first()
    if case is None:
        return None
    try:
        return _lock_case(SYSTEM, case, scoped=False)
    except NotFound:
        return None


def check_observation_overdue(*, case_id: UUID) -> StaffTask | None:
    """Re-read the case: if the observation due is now overdue, raise a task for the wing's
    manager on duty (once per due time: the task's unique key makes a re-run a no-op) and send
    ``observation_overdue``. Nothing if an observation has been recorded since, the plan changed,
    or the case is no longer open."""
    with transaction.atomic():
        locked = _case_for_timer(case_id)
        if locked is None:
            return None
        if locked.status != CaseStatus.OPEN:
            return None
        state = facts.state_of(locked)
        if state.facts.plan is None:
            return None
        due = rules.observation_due(
            state.facts.plan, state.facts.last_observation_at, rules.Timings.from_settings()
        )
        if due is None or not rules.is_overdue(due, clock.now()):
            return None
        wing = _wing_of(locked.prisoner_id)
        task, created = notify(
            Notice(
                case=locked,
                kind=TaskKind.OBSERVATION_OVERDUE,
                audience=TaskAudience.WING_MANAGER,
                title=(
                    f"ACCT observation overdue: {locked.prisoner.prison_number} "
                    f"({locked.log_number}{', ' + wing + ' wing' if wing else ''}), due by "
                    f"{clock.local(due):%H:%M}"
                ),
                due_at=due,
                wing_path=wing,
            )
        )
        if created:
            _audit(
                SYSTEM,
                locked,
                Action.CREATE,
                event="observation_overdue",
                after={"due_at": due},
                task=str(task.public_id),
            )
            events.send_on_commit(events.observation_overdue, case=locked, due_at=due, task=task)
    return task


def check_review_due(*, case_id: UUID, due_at: datetime) -> StaffTask | None:
    """At a scheduled review's time: if that review is still the one due (no review since),
    raise a task for safer custody and send ``review_due``. Idempotent."""
    with transaction.atomic():
        locked = _case_for_timer(case_id)
        if locked is None:
            return None
        if locked.status != CaseStatus.OPEN:
            return None
        state = facts.state_of(locked)
        if state.latest_review is None or state.latest_review.next_review_at != due_at:
            return None  # a later review has moved the date (and queued its own check)
        task, created = notify(
            Notice(
                case=locked,
                kind=TaskKind.REVIEW_DUE,
                audience=TaskAudience.SAFER_CUSTODY,
                title=f"ACCT {locked.log_number} ({locked.prisoner.prison_number}): "
                "scheduled case review due",
                due_at=due_at,
                wing_path=_wing_of(locked.prisoner_id),
            )
        )
        if created:
            events.send_on_commit(events.review_due, case=locked, due_at=due_at, reason="SCHEDULED")
    return task


__all__ = [
    "Attendee",
    "CaremapInput",
    "check_observation_overdue",
    "check_review_due",
    "complete_post_closure_review",
    "complete_task",
    "correct_entry",
    "demand_review",
    "hold_review",
    "move_case_on_transfer",
    "raise_concern",
    "record_assessment",
    "record_entry",
    "record_iap",
    "record_safer_cell_decision",
    "reopen_case",
    "transition_case",
    "update_caremap_item",
]
