"""ACCT for the JSON API: the case summary and timeline, every step of the case, the wing board,
tasks and the estate's overdue counts.

Thin: reads go through acct.selectors (scoped to the caller's prisons, health entries for
healthcare only, every view audited), writes through acct.services with ``actor=request.auth``
(the same permissions, refusals and audit as the pages). The person is named by prison number;
a person or prison outside the caller's prisons answers 404, the same as one that does not exist.
"""

from contextlib import contextmanager
from uuid import UUID

from django.db.models import Q
from ninja import Path, Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from saferprisons.accounts.models import User
from saferprisons.core import clock
from saferprisons.core.api_support import (
    WRITE_ERRORS,
    Pagination,
    api_permission,
    responses,
)
from saferprisons.core.errors import DomainError, NotFound, ValidationFailed
from saferprisons.estate import permissions as estate_perms
from saferprisons.estate.constants import LocationLevel
from saferprisons.estate.models import Location, Prison
from saferprisons.estate.selectors import prison_in_scope
from saferprisons.people import selectors as people_selectors
from saferprisons.people.schemas import PRISON_NUMBER_PARAM

from . import permissions as perms
from . import rules, selectors, services
from .models import AcctCase, StaffTask
from .schemas import (
    AcctCaseRef,
    AcctCaseSummaryOut,
    AcctReopenIn,
    AcctTaskFilters,
    AcctTaskOut,
    AcctTimelineItemOut,
    AssessmentIn,
    AssessmentOut,
    AttendeeIn,
    CaremapOut,
    CaremapStatusIn,
    CaseEntryIn,
    CaseEntryOut,
    CaseReviewIn,
    CaseReviewResultOut,
    ConcernIn,
    ConcernResultOut,
    EntryCorrectionIn,
    EstateOverdueOut,
    IapIn,
    IapOut,
    PostClosureReviewIn,
    ReviewDemandIn,
    ReviewDemandOut,
    SaferCellDecisionIn,
    SaferCellDecisionOut,
    SupervisionIn,
    WingBoardFilters,
    WingBoardOut,
)

router = Router(tags=["acct"])

PrisonNumber = Path[str, PRISON_NUMBER_PARAM]
PrisonCode = Path[str, {"min_length": 2, "max_length": 5, "pattern": r"^[A-Za-z0-9]+$"}]

NO_CASE = "No ACCT for that person in your prisons"


# --- Helpers -----------------------------------------------------------------------------------


def _case(request, prison_number: str) -> AcctCase:
    """The person's ACCT (their latest case), found through the scoped read."""
    case = (
        selectors.cases_visible_to(request.auth)
        .filter(prisoner__prison_number=prison_number.strip().upper())
        .select_related("prison", "prisoner__prison")
        .order_by("-opened_at", "-id")
        .first()
    )
    if case is None:
        raise NotFound(NO_CASE)
    return case


def _case_ref(case: AcctCase) -> dict:
    return {"log_number": case.log_number, "status": case.status, "version": case.version}


def _prison(request, code: str) -> Prison:
    try:
        return prison_in_scope(request.auth, code)
    except NotFound:
        raise NotFound("No such prison among yours") from None


def _wing(prison: Prison, wing: str | None) -> str | None:
    """The wing's path, if it is an open wing of the prison; None for the whole prison."""
    path = (wing or "").strip().upper()
    if not path:
        return None
    exists = Location.objects.filter(
        prison=prison, level=LocationLevel.WING, path=path, deactivated_at__isnull=True
    ).exists()
    if not exists:
        raise NotFound(f"No wing {path} in {prison.name}", field="wing")
    return path


def _staff(case: AcctCase, ref: str | None, field: str) -> User | None:
    """A member of staff of the case's prison by username or public id. Staff elsewhere are
    answered the same as unknown names, so the API cannot be used to find accounts."""
    if ref is None:
        return None
    ref = ref.strip()
    match = Q(username=ref)
    try:
        match |= Q(public_id=UUID(ref))
    except ValueError:
        pass
    user = User.objects.filter(match, prisons=case.prison_id, is_active=True).first()
    if user is None:
        raise ValidationFailed(
            f"No member of staff at {case.prison.name} has the username or id {ref!r}",
            field=field,
        )
    return user


def _attendees(case: AcctCase, attendees: list[AttendeeIn]) -> list[services.Attendee]:
    return [
        services.Attendee(
            discipline=a.discipline,
            name=a.name.strip(),
            user=_staff(case, a.user, f"attendees.{index}.user"),
        )
        for index, a in enumerate(attendees)
    ]


def _supervision(levels: SupervisionIn | None) -> rules.Supervision | None:
    if levels is None:
        return None
    return rules.Supervision(
        constant=levels.constant,
        day_observations_per_hour=levels.day_observations_per_hour,
        night_observations_per_hour=levels.night_observations_per_hour,
        day_conversations=levels.day_conversations,
        night_conversations=levels.night_conversations,
    )


# The services name a few fields as the pages' forms do; the API answers with its own names.
SUPERVISION_FIELDS = {
    name: f"supervision.{name}"
    for name in (
        "day_observations_per_hour",
        "night_observations_per_hour",
        "day_conversations",
        "night_conversations",
    )
}
REVIEW_FIELDS = {**SUPERVISION_FIELDS, "next_review": "next_review_at"}


@contextmanager
def _api_field_names(renames: dict[str, str]):
    try:
        yield
    except DomainError as error:
        error.field = renames.get(error.field, error.field)
        raise


def _due(items: list[rules.DueItem]) -> list[dict]:
    return [
        {
            "kind": i.kind,
            "label": i.label,
            "due_at": i.due_at,
            "overdue": i.overdue,
            "always": i.always,
            "detail": i.detail,
        }
        for i in items
    ]


# --- One person's ACCT -------------------------------------------------------------------------


@router.get(
    "/people/{prison_number}", response=responses(200, AcctCaseSummaryOut), url_name="acct-case"
)
@api_permission(perms.VIEW_CASE)
def acct_case_summary(request, prison_number: PrisonNumber):
    """The person's ACCT: status, log number, risk, supervision plan, everything due (with
    ``due_at`` and ``overdue``), review demands, CAREMAP, the latest review. Audited."""
    summary = selectors.case_summary_for(request.auth, prison_number)
    person, case, plan = summary.prisoner, summary.case, summary.plan
    options = []
    if summary.safer_cell_warning:
        options = [c.path for c in selectors.safer_cell_options(person.prison, person)]
    return {
        "prison_number": person.prison_number,
        "status": case.status if case else None,
        "log_number": case.log_number if case else None,
        "prison": case.prison.code if case else None,
        "opened_at": case.opened_at if case else None,
        "period_started_at": case.period_started_at if case else None,
        "closed_at": case.closed_at if case else None,
        "version": case.version if case else None,
        "risk_level": summary.risk_level or None,
        "case_manager": summary.case_manager,
        "case_coordinator": summary.case_coordinator,
        "supervision_plan": plan,
        "due": _due(summary.items),
        "overdue_count": summary.overdue_count,
        "demands": summary.demands,
        "caremap": summary.caremap,
        "latest_review": summary.latest_review,
        "current_cell": summary.current_cell.path if summary.current_cell else None,
        "in_safer_cell": summary.in_safer_cell,
        "safer_cell_warning": summary.safer_cell_warning,
        "safer_cell_options": options,
        "open_tasks": summary.open_tasks,
    }


@router.get(
    "/people/{prison_number}/timeline",
    response=responses(200, list[AcctTimelineItemOut]),
    url_name="acct-timeline",
)
@paginate(Pagination)
@api_permission(perms.VIEW_CASE)
def acct_timeline(request, prison_number: PrisonNumber):
    """Every record of the ACCT, oldest first (health entries only for healthcare). Audited."""
    return [
        {"at": i.at, "kind": i.kind, "title": i.title, "by": i.by, i.kind: i.record}
        for i in selectors.case_timeline(request.auth, prison_number)
    ]


@router.post(
    "/people/{prison_number}/concerns",
    response=responses(201, ConcernResultOut, errors=WRITE_ERRORS),
    url_name="acct-raise-concern",
)
@api_permission(perms.RAISE_CONCERN)
def raise_concern(request, prison_number: PrisonNumber, payload: ConcernIn):
    """Concern and Keep Safe: opens an ACCT (log number, alert HA, safer custody told), is
    recorded on the open one, or reopens a closed one."""
    person = people_selectors.get_prisoner(request.auth, prison_number, audit_view=False)
    concern = services.raise_concern(
        actor=request.auth,
        prisoner=person,
        source=payload.source,
        seen_or_heard=payload.seen_or_heard,
        immediate_risk=payload.immediate_risk,
        action_taken=payload.action_taken,
    )
    return Status(201, {"concern": concern, "case": _case_ref(concern.case)})


@router.post(
    "/people/{prison_number}/iap",
    response=responses(201, IapOut, errors=WRITE_ERRORS),
    url_name="acct-record-iap",
)
@api_permission(perms.RECORD_ENTRY)
def record_iap(request, prison_number: PrisonNumber, payload: IapIn):
    """The Immediate Action Plan, optionally with interim supervision levels."""
    case = _case(request, prison_number)
    with _api_field_names(SUPERVISION_FIELDS):
        iap = services.record_iap(
            actor=request.auth,
            case=case,
            plan=payload.plan,
            recorded_at=payload.recorded_at,
            supervision=_supervision(payload.supervision),
        )
    return Status(201, iap)


@router.post(
    "/people/{prison_number}/assessments",
    response=responses(201, AssessmentOut, errors=WRITE_ERRORS),
    url_name="acct-record-assessment",
)
@api_permission(perms.RECORD_ENTRY)
def record_assessment(request, prison_number: PrisonNumber, payload: AssessmentIn):
    """The assessment interview: only by staff with current ACCT assessor training (403)."""
    case = _case(request, prison_number)
    assessment = services.record_assessment(
        actor=request.auth,
        case=case,
        summary=payload.summary,
        interviewed_at=payload.interviewed_at,
    )
    return Status(201, assessment)


@router.post(
    "/people/{prison_number}/reviews",
    response=responses(201, CaseReviewResultOut, errors=WRITE_ERRORS),
    url_name="acct-hold-review",
)
@api_permission(perms.MANAGE_CASE)
def hold_review(request, prison_number: PrisonNumber, payload: CaseReviewIn):
    """A case review of an open ACCT (first, scheduled or unscheduled), or its closure
    (``close``). A stale ``expected_version`` is refused with 409."""
    case = _case(request, prison_number)
    with _api_field_names(REVIEW_FIELDS):
        review = services.hold_review(
            actor=request.auth,
            case=case,
            expected_version=payload.expected_version,
            attendees=_attendees(case, payload.attendees),
            risk_level=payload.risk_level,
            next_review_at=payload.next_review_at,
            supervision=_supervision(payload.supervision),
            case_manager=_staff(case, payload.case_manager, "case_manager"),
            case_coordinator=_staff(case, payload.case_coordinator, "case_coordinator"),
            triggers=payload.triggers,
            warning_signs=payload.warning_signs,
            protective_factors=payload.protective_factors,
            notes=payload.notes,
            caremap_new=[
                services.CaremapInput(i.need, i.action, i.owner, i.target_date)
                for i in payload.caremap.new
            ],
            caremap_updates={u.id: u.status for u in payload.caremap.updates},
            family_consent=payload.family_consent,
            close=payload.close,
            closure_reason=payload.closure_reason,
            held_at=payload.held_at,
        )
    case.refresh_from_db(fields=["status", "version"])
    return Status(201, {"review": review, "case": _case_ref(case)})


@router.post(
    "/people/{prison_number}/post-closure-review",
    response={
        **responses(201, CaseReviewResultOut, errors=WRITE_ERRORS),
        200: CaseReviewResultOut,
    },
    url_name="acct-post-closure-review",
)
@api_permission(perms.MANAGE_CASE)
def post_closure_review(request, prison_number: PrisonNumber, payload: PostClosureReviewIn):
    """Completes the post-closure period (the ACCT becomes CLOSED). Refused (409) on an open
    ACCT: an ACCT closes only at a case review. On a closed ACCT it changes nothing (``review``
    null)."""
    case = _case(request, prison_number)
    review = services.complete_post_closure_review(
        actor=request.auth,
        case=case,
        expected_version=payload.expected_version,
        notes=payload.notes,
        attendees=_attendees(case, payload.attendees),
        family_consent=payload.family_consent,
        held_at=payload.held_at,
    )
    case.refresh_from_db(fields=["status", "version"])
    return Status(201 if review else 200, {"review": review, "case": _case_ref(case)})


@router.post(
    "/people/{prison_number}/reopen",
    response=responses(200, AcctCaseRef, errors=WRITE_ERRORS),
    url_name="acct-reopen",
)
@api_permission(perms.MANAGE_CASE)
def reopen_acct(request, prison_number: PrisonNumber, payload: AcctReopenIn):
    """Reopen a post-closure or closed ACCT (same case and log number). An open one: no change."""
    case = services.reopen_case(
        actor=request.auth, case=_case(request, prison_number), reason=payload.reason
    )
    return _case_ref(case)


@router.post(
    "/people/{prison_number}/caremap/{item_id}",
    response=responses(200, CaremapOut, errors=WRITE_ERRORS),
    url_name="acct-update-caremap",
)
@api_permission(perms.MANAGE_CASE)
def update_caremap(request, prison_number: PrisonNumber, item_id: UUID, payload: CaremapStatusIn):
    """Mark a CAREMAP action done or dropped between reviews (``expected_version`` as for
    reviews)."""
    case = _case(request, prison_number)
    item = selectors.get_caremap_item(case, item_id)
    item.case = case
    return services.update_caremap_item(
        actor=request.auth,
        item=item,
        expected_version=payload.expected_version,
        status=payload.status,
    )


@router.post(
    "/people/{prison_number}/entries",
    response=responses(201, CaseEntryOut, errors=WRITE_ERRORS),
    url_name="acct-record-entry",
)
@api_permission(perms.RECORD_ENTRY)
def record_entry(request, prison_number: PrisonNumber, payload: CaseEntryIn):
    """An observation or conversation (not in the future; health entries by healthcare only)."""
    entry = services.record_entry(
        actor=request.auth,
        case=_case(request, prison_number),
        kind=payload.kind,
        occurred_at=payload.occurred_at,
        seen_or_spoken_to=payload.seen_or_spoken_to,
        presentation=payload.presentation,
        concerns=payload.concerns,
        health=payload.health,
    )
    return Status(201, entry)


@router.post(
    "/people/{prison_number}/entries/{entry_id}/correction",
    response=responses(201, CaseEntryOut, errors=WRITE_ERRORS),
    url_name="acct-correct-entry",
)
@api_permission(perms.RECORD_ENTRY)
def correct_entry(request, prison_number: PrisonNumber, entry_id: UUID, payload: EntryCorrectionIn):
    """A correction is a new entry pointing at the one it corrects, which stays as it was."""
    case = _case(request, prison_number)
    entry = selectors.get_entry(request.auth, case, entry_id)
    entry.case = case
    correction = services.correct_entry(
        actor=request.auth,
        entry=entry,
        presentation=payload.presentation,
        concerns=payload.concerns,
        seen_or_spoken_to=payload.seen_or_spoken_to,
    )
    return Status(201, correction)


@router.post(
    "/people/{prison_number}/review-demands",
    response=responses(201, ReviewDemandOut, errors=WRITE_ERRORS),
    url_name="acct-demand-review",
)
@api_permission(perms.RECORD_ENTRY)
def demand_review(request, prison_number: PrisonNumber, payload: ReviewDemandIn):
    """Ask for an unscheduled review: due at once for self-harm on an open ACCT, otherwise within
    ACCT_UNSCHEDULED_REVIEW_HOURS."""
    demand = services.demand_review(
        actor=request.auth,
        case=_case(request, prison_number),
        reason=payload.reason,
        details=payload.details,
        occurred_at=payload.occurred_at,
    )
    return Status(201, demand)


@router.post(
    "/people/{prison_number}/safer-cell-decisions",
    response=responses(201, SaferCellDecisionOut, errors=WRITE_ERRORS),
    url_name="acct-safer-cell-decision",
)
@api_permission(perms.MANAGE_CASE)
def safer_cell_decision(request, prison_number: PrisonNumber, payload: SaferCellDecisionIn):
    """Why a person at high risk is not moved to a safe or constant-supervision cell."""
    decision = services.record_safer_cell_decision(
        actor=request.auth, case=_case(request, prison_number), reason=payload.reason
    )
    return Status(201, decision)


# --- A prison: the board and tasks -------------------------------------------------------------


@router.get("/prisons/{code}/board", response=responses(200, WingBoardOut), url_name="acct-board")
@api_permission(perms.VIEW_CASE)
def wing_board(request, code: PrisonCode, filters: Query[WingBoardFilters]):
    """The wing safety board for the prison (or ``?wing=A``): most urgent first. Audited."""
    prison = _prison(request, code)
    found = selectors.wing_board(request.auth, prison, _wing(prison, filters.wing))
    rows = [
        {
            "prison_number": r.prisoner.prison_number,
            "first_name": r.prisoner.first_name,
            "last_name": r.prisoner.last_name,
            "log_number": r.case.log_number,
            "status": r.case.status,
            "cell": r.cell.path if r.cell else None,
            "in_safer_cell": r.in_safer_cell,
            "risk_level": r.risk_level or None,
            "due": _due(r.items),
            "overdue_count": r.overdue_count,
            "due_soon": [i.kind for i in r.due_soon],
            "new_concern": r.new_concern,
            "safer_cell_warning": r.safer_cell_warning,
            "last_observation_at": r.last_observation_at,
        }
        for r in found.rows
    ]
    return {
        "prison": prison.code,
        "wing": found.wing_path,
        "generated_at": found.generated_at,
        "overdue_count": found.overdue_count,
        "rows": rows,
    }


@router.get(
    "/prisons/{code}/tasks", response=responses(200, list[AcctTaskOut]), url_name="acct-tasks"
)
@paginate(Pagination)
@api_permission(perms.VIEW_CASE)
def list_acct_tasks(request, code: PrisonCode, filters: Query[AcctTaskFilters]):
    """Tasks not yet done in the prison, earliest due first (``?audience=``, ``?wing=``)."""
    prison = _prison(request, code)
    return selectors.open_tasks(
        request.auth, prison, audience=filters.audience, wing_path=_wing(prison, filters.wing)
    )


@router.post(
    "/prisons/{code}/tasks/{task_id}/complete",
    response=responses(200, AcctTaskOut, errors=WRITE_ERRORS),
    url_name="acct-complete-task",
)
@api_permission(perms.MANAGE_CASE)
def complete_acct_task(request, code: PrisonCode, task_id: UUID):
    """Mark a task done. Done already: no change."""
    prison = _prison(request, code)
    task = StaffTask.objects.filter(prison=prison, public_id=task_id).first()
    if task is None:
        raise NotFound("No such task in that prison")
    return services.complete_task(actor=request.auth, task=task)


# --- The estate --------------------------------------------------------------------------------


@router.get(
    "/estate/overdue", response=responses(200, EstateOverdueOut), url_name="acct-estate-overdue"
)
@api_permission(estate_perms.VIEW_AGGREGATES)
def acct_estate_overdue(request):
    """What is overdue now on live ACCTs, counted per prison and kind: never names or numbers."""
    now = clock.now()
    counts = selectors.estate_overdue_counts(request.auth, now=now)
    return {
        "generated_at": now,
        "overdue_total": sum(c.overdue_total for c in counts),
        "prisons": [
            {
                "prison": c.prison_code,
                "live_cases": c.live_cases,
                "overdue": c.overdue,
                "overdue_total": c.overdue_total,
            }
            for c in counts
        ],
    }
