"""API shapes for ACCT: what comes in (with length limits, so over-long input is a 422 before any
service runs) and what goes out (public ids and prison numbers, never database keys)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import AfterValidator, AwareDatetime, ConfigDict, model_validator

from saferprisons.core.api_support import Text

from .constants import (
    ASSESSMENT_TEXT_MAX,
    CAREMAP_OWNER_MAX,
    CAREMAP_TEXT_MAX,
    CONCERN_ACTION_MAX,
    CONCERN_RISK_MAX,
    CONCERN_SEEN_MAX,
    ENTRY_TEXT_MAX,
    MAX_CONVERSATIONS_PER_PERIOD,
    MAX_OBSERVATIONS_PER_HOUR,
    MIN_OBSERVATIONS_PER_HOUR,
    PLAN_TEXT_MAX,
    REASON_MAX,
    REVIEW_TEXT_MAX,
    CaremapStatus,
    ConcernSource,
    DemandReason,
    Discipline,
    EntryKind,
    RiskLevel,
    TaskAudience,
)

EARLIEST_YEAR = 2000
LATEST_YEAR = 2100
MAX_VERSION = 2_147_483_647
MAX_ATTENDEES = 30
MAX_CAREMAP_CHANGES = 50
# A username (Django allows 150 characters) or a staff member's public id.
STAFF_REF_MAX = 150


def _plausible(value: datetime) -> datetime:
    # Checked on the local year, before any conversion: a time near year 1 or 9999 with an
    # offset would overflow when converted to UTC (a 500, not a clear message).
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"Give a time between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


# A moment with its offset ("2026-11-28T09:00:00Z"); naive times are refused.
Moment = Annotated[AwareDatetime, AfterValidator(_plausible)]


def _plausible_date(value: date) -> date:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"Give a date between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


Day = Annotated[date, AfterValidator(_plausible_date)]
Version = Annotated[int, Field(ge=1, le=MAX_VERSION)]
ObservationRate = Annotated[
    Decimal,
    Field(
        ge=Decimal(MIN_OBSERVATIONS_PER_HOUR),
        le=Decimal(MAX_OBSERVATIONS_PER_HOUR),
        max_digits=4,
        decimal_places=2,
    ),
]
ConversationCount = Annotated[int, Field(ge=0, le=MAX_CONVERSATIONS_PER_PERIOD)]
StaffRef = Text(STAFF_REF_MAX, min_length=1)


# --- In ----------------------------------------------------------------------------------------


class ConcernIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "source": "STAFF_OBSERVATION",
                    "seen_or_heard": "Said he cannot see a way forward after a call from home",
                    "immediate_risk": "Possible ligature seen in the cell",
                    "action_taken": "Removed the item and stayed with him until a manager came",
                }
            ]
        }
    )

    source: Literal[tuple(ConcernSource.values)]
    seen_or_heard: Text(CONCERN_SEEN_MAX, min_length=1)
    immediate_risk: Text(CONCERN_RISK_MAX, min_length=1)
    action_taken: Text(CONCERN_ACTION_MAX, min_length=1)


class SupervisionIn(Schema):
    """Observations per hour and conversations per period, by day and by night; or constant
    supervision (the counts are then ignored)."""

    constant: bool = False
    day_observations_per_hour: ObservationRate = Decimal("1")
    night_observations_per_hour: ObservationRate = Decimal("1")
    day_conversations: ConversationCount = 1
    night_conversations: ConversationCount = 0


class IapIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "plan": "Hourly observations; a conversation each morning; phone call home",
                    "supervision": {"day_observations_per_hour": 1, "day_conversations": 2},
                }
            ]
        }
    )

    plan: Text(PLAN_TEXT_MAX, min_length=1)
    recorded_at: Moment | None = None
    # Interim levels until the first case review sets the supervision plan.
    supervision: SupervisionIn | None = None


class AssessmentIn(Schema):
    summary: Text(ASSESSMENT_TEXT_MAX, min_length=1)
    interviewed_at: Moment | None = None


class AttendeeIn(Schema):
    """Someone at a review: a member of staff of the prison (``user``: username or id) and/or a
    name (for the person, family or visitors)."""

    discipline: Literal[tuple(Discipline.values)]
    name: Text(200) = ""
    user: StaffRef | None = None

    @model_validator(mode="after")
    def named(self):
        if not self.name.strip() and self.user is None:
            raise ValueError("Give each attendee's name, or the username of a member of staff")
        return self


class CaremapNewIn(Schema):
    need: Text(CAREMAP_TEXT_MAX, min_length=1)
    action: Text(CAREMAP_TEXT_MAX, min_length=1)
    owner: Text(CAREMAP_OWNER_MAX, min_length=1)
    target_date: Day


class CaremapUpdateIn(Schema):
    id: UUID
    status: Literal[tuple(CaremapStatus.values)]


class CaremapChangesIn(Schema):
    new: list[CaremapNewIn] = Field(default_factory=list, max_length=MAX_CAREMAP_CHANGES)
    updates: list[CaremapUpdateIn] = Field(default_factory=list, max_length=MAX_CAREMAP_CHANGES)


class CaseReviewIn(Schema):
    """A case review of an open ACCT. ``expected_version`` is the case's ``version`` when the
    review was prepared: a stale one is refused (409) so two reviews do not overwrite each other.
    The first review of an open period must name a case manager (NOMS band 4+ or NHS band 5+)
    and a coordinator, the triggers and warning signs, and the supervision plan. ``close: true``
    closes the ACCT with ``closure_reason`` (and sets no next review or plan)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "expected_version": 1,
                    "attendees": [
                        {"discipline": "MANAGER", "user": "manager.north"},
                        {"discipline": "HEALTHCARE", "user": "nurse.north"},
                    ],
                    "risk_level": "RAISED",
                    "case_manager": "manager.north",
                    "case_coordinator": "manager.north",
                    "triggers": "Calls from home; anniversaries",
                    "warning_signs": "Withdrawn, not eating",
                    "supervision": {"day_observations_per_hour": 1, "day_conversations": 2},
                    "next_review_at": "2026-12-05T10:00:00Z",
                }
            ]
        }
    )

    expected_version: Version
    held_at: Moment | None = None
    attendees: list[AttendeeIn] = Field(max_length=MAX_ATTENDEES)
    risk_level: Literal[tuple(RiskLevel.values)]
    case_manager: StaffRef | None = None
    case_coordinator: StaffRef | None = None
    triggers: Text(REVIEW_TEXT_MAX) = ""
    warning_signs: Text(REVIEW_TEXT_MAX) = ""
    protective_factors: Text(REVIEW_TEXT_MAX) = ""
    notes: Text(REVIEW_TEXT_MAX) = ""
    caremap: CaremapChangesIn = Field(default_factory=CaremapChangesIn)
    supervision: SupervisionIn | None = None
    next_review_at: Moment | None = None
    close: bool = False
    closure_reason: Text(REASON_MAX) = ""
    family_consent: bool = False


class PostClosureReviewIn(Schema):
    expected_version: Version
    notes: Text(REVIEW_TEXT_MAX, min_length=1)
    attendees: list[AttendeeIn] = Field(default_factory=list, max_length=MAX_ATTENDEES)
    family_consent: bool = False
    held_at: Moment | None = None


class AcctReopenIn(Schema):
    reason: Text(REASON_MAX, min_length=1)


class CaremapStatusIn(Schema):
    expected_version: Version
    status: Literal[tuple(CaremapStatus.values)]


class CaseEntryIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "OBSERVATION",
                    "occurred_at": "2026-11-28T10:15:00Z",
                    "seen_or_spoken_to": True,
                    "presentation": "Reading on his bed; waved",
                }
            ]
        }
    )

    kind: Literal[tuple(EntryKind.values)]
    occurred_at: Moment
    seen_or_spoken_to: bool
    presentation: Text(ENTRY_TEXT_MAX, min_length=1)
    concerns: Text(ENTRY_TEXT_MAX) = ""
    # Health entries: written and read by healthcare only.
    health: bool = False


class EntryCorrectionIn(Schema):
    presentation: Text(ENTRY_TEXT_MAX, min_length=1)
    concerns: Text(ENTRY_TEXT_MAX) = ""
    seen_or_spoken_to: bool | None = None


class ReviewDemandIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "TRIGGER", "details": "Bad news from court this morning"}]
        }
    )

    reason: Literal[tuple(DemandReason.values)]
    details: Text(REASON_MAX) = ""
    occurred_at: Moment | None = None


class SaferCellDecisionIn(Schema):
    reason: Text(REASON_MAX, min_length=1)


class WingBoardFilters(Schema):
    wing: Text(10, min_length=1) | None = None


class AcctTaskFilters(Schema):
    audience: Literal[tuple(TaskAudience.values)] | None = None
    wing: Text(10, min_length=1) | None = None


# --- Out ---------------------------------------------------------------------------------------


class AcctStaffOut(Schema):
    id: UUID
    username: str
    name: str

    @staticmethod
    def resolve_id(user) -> UUID:
        return user.public_id

    @staticmethod
    def resolve_name(user) -> str:
        return user.get_full_name() or user.get_username()


class AcctCaseRef(Schema):
    """Where the case stands after a change (send ``version`` as the next expected_version)."""

    log_number: str
    status: str
    version: int


class AcctDueOut(Schema):
    """Something due on the case. ``overdue`` once ``due_at`` has passed; under constant
    supervision an observation is ``always`` due (due now, never overdue)."""

    kind: str
    label: str
    due_at: datetime
    overdue: bool
    always: bool
    detail: str


class SupervisionPlanOut(Schema):
    constant: bool
    day_observations_per_hour: float
    night_observations_per_hour: float
    day_conversations: int
    night_conversations: int
    started_at: datetime
    set_by: str

    @staticmethod
    def resolve_set_by(plan) -> str:
        return plan.set_by_label


class AttendeeOut(Schema):
    discipline: str
    name: str
    username: str | None

    @staticmethod
    def resolve_username(attendee) -> str | None:
        return attendee.user.get_username() if attendee.user_id else None


class CaseReviewOut(Schema):
    id: UUID
    kind: str
    outcome: str
    held_at: datetime
    recorded_at: datetime
    chair: str
    case_manager: AcctStaffOut | None
    case_coordinator: AcctStaffOut | None
    risk_level: str | None
    triggers: str
    warning_signs: str
    protective_factors: str
    notes: str
    family_consent: bool
    next_review_at: datetime | None
    closure_reason: str
    attendees: list[AttendeeOut]

    @staticmethod
    def resolve_id(review) -> UUID:
        return review.public_id

    @staticmethod
    def resolve_chair(review) -> str:
        return review.chair_label

    @staticmethod
    def resolve_risk_level(review) -> str | None:
        return review.risk_level or None

    @staticmethod
    def resolve_attendees(review) -> list:
        return list(review.attendees.all())


class CaremapOut(Schema):
    id: UUID
    need: str
    action: str
    owner: str
    target_date: date
    status: str

    @staticmethod
    def resolve_id(item) -> UUID:
        return item.public_id


class ReviewDemandOut(Schema):
    id: UUID
    reason: str
    details: str
    demanded_at: datetime
    due_at: datetime
    demanded_by: str

    @staticmethod
    def resolve_id(demand) -> UUID:
        return demand.public_id

    @staticmethod
    def resolve_demanded_by(demand) -> str:
        return demand.demanded_by_label


class AcctTaskOut(Schema):
    id: UUID
    kind: str
    audience: str
    wing: str
    title: str
    due_at: datetime
    created_at: datetime
    done_at: datetime | None
    done_by: str | None
    log_number: str | None

    @staticmethod
    def resolve_id(task) -> UUID:
        return task.public_id

    @staticmethod
    def resolve_wing(task) -> str:
        return task.wing_path

    @staticmethod
    def resolve_done_by(task) -> str | None:
        return task.done_by.get_username() if task.done_by_id else None

    @staticmethod
    def resolve_log_number(task) -> str | None:
        return task.case.log_number if task.case_id else None


class AcctCaseSummaryOut(Schema):
    """The person's ACCT (their latest case). A person who has never been on an ACCT has
    ``status`` null and nothing due."""

    prison_number: str
    status: str | None
    log_number: str | None
    prison: str | None
    opened_at: datetime | None
    period_started_at: datetime | None
    closed_at: datetime | None
    version: int | None
    risk_level: str | None
    case_manager: AcctStaffOut | None
    case_coordinator: AcctStaffOut | None
    supervision_plan: SupervisionPlanOut | None
    due: list[AcctDueOut]
    overdue_count: int
    demands: list[ReviewDemandOut]
    caremap: list[CaremapOut]
    latest_review: CaseReviewOut | None
    current_cell: str | None
    in_safer_cell: bool
    safer_cell_warning: bool
    # Free safe and constant-supervision cells, listed while the safer-cell warning stands.
    safer_cell_options: list[str]
    open_tasks: list[AcctTaskOut]


class ConcernOut(Schema):
    id: UUID
    source: str
    effect: str
    raised_at: datetime
    raised_by: str
    seen_or_heard: str
    immediate_risk: str
    action_taken: str

    @staticmethod
    def resolve_id(concern) -> UUID:
        return concern.public_id

    @staticmethod
    def resolve_raised_by(concern) -> str:
        return concern.raised_by_label


class ConcernResultOut(Schema):
    concern: ConcernOut
    case: AcctCaseRef


class CaseTransitionOut(Schema):
    from_status: str | None
    to_status: str
    reason: str

    @staticmethod
    def resolve_from_status(transition) -> str | None:
        return transition.from_status or None


class IapOut(Schema):
    id: UUID
    plan: str
    recorded_at: datetime
    recorded_by: str

    @staticmethod
    def resolve_id(iap) -> UUID:
        return iap.public_id

    @staticmethod
    def resolve_recorded_by(iap) -> str:
        return iap.recorded_by_label


class AssessmentOut(Schema):
    id: UUID
    summary: str
    interviewed_at: datetime
    recorded_at: datetime
    assessor: str

    @staticmethod
    def resolve_id(assessment) -> UUID:
        return assessment.public_id

    @staticmethod
    def resolve_assessor(assessment) -> str:
        return assessment.assessor_label


class CaseEntryOut(Schema):
    id: UUID
    kind: str
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: str
    seen_or_spoken_to: bool
    presentation: str
    concerns: str
    health: bool
    corrects: UUID | None

    @staticmethod
    def resolve_id(entry) -> UUID:
        return entry.public_id

    @staticmethod
    def resolve_recorded_by(entry) -> str:
        return entry.recorded_by_label

    @staticmethod
    def resolve_corrects(entry) -> UUID | None:
        return entry.corrects.public_id if entry.corrects_id else None


class SaferCellDecisionOut(Schema):
    id: UUID
    reason: str
    decided_at: datetime
    decided_by: str

    @staticmethod
    def resolve_id(decision) -> UUID:
        return decision.public_id

    @staticmethod
    def resolve_decided_by(decision) -> str:
        return decision.decided_by_label


class CaseReviewResultOut(Schema):
    """The review recorded (null when the post-closure review was already complete: a no-op)."""

    review: CaseReviewOut | None
    case: AcctCaseRef


class AcctTimelineItemOut(Schema):
    """One record of the ACCT; exactly one of the detail fields is set, named by ``kind``."""

    at: datetime
    kind: Literal[
        "concern",
        "transition",
        "iap",
        "assessment",
        "review",
        "entry",
        "demand",
        "safer_cell_decision",
    ]
    title: str
    by: str
    concern: ConcernOut | None = None
    transition: CaseTransitionOut | None = None
    iap: IapOut | None = None
    assessment: AssessmentOut | None = None
    review: CaseReviewOut | None = None
    entry: CaseEntryOut | None = None
    demand: ReviewDemandOut | None = None
    safer_cell_decision: SaferCellDecisionOut | None = None


class WingBoardRowOut(Schema):
    prison_number: str
    first_name: str
    last_name: str
    log_number: str
    status: str
    cell: str | None
    in_safer_cell: bool
    risk_level: str | None
    due: list[AcctDueOut]
    overdue_count: int
    due_soon: list[str]
    new_concern: bool
    safer_cell_warning: bool
    last_observation_at: datetime | None


class WingBoardOut(Schema):
    """Everyone on an open ACCT or in post-closure, most urgent first."""

    prison: str
    wing: str | None
    generated_at: datetime
    overdue_count: int
    rows: list[WingBoardRowOut]


class PrisonOverdueOut(Schema):
    """Counts only: never a name or a prison number."""

    prison: str
    live_cases: int
    overdue: dict[str, int]
    overdue_total: int


class EstateOverdueOut(Schema):
    generated_at: datetime
    overdue_total: int
    prisons: list[PrisonOverdueOut]
