"""ACCT case records (PSI 64/2011, ACCT v6). See docs/adr/0009-acct-case-model.md.

One case per person carries its whole history: reopening keeps the case and its log number.
The status is the only stored state; "IAP outstanding", "assessment outstanding", "first review
due", what supervision is in force and everything else that is due is derived from which rows
exist (rules.py); ``next_due_at`` keeps the earliest of those due times, written with every change
that moves it, so the estate can find overdue cases by an index (ADR 0012). Records are
append-only: entries are corrected by a new entry that points at the old one.

Invariants the database keeps:
- log numbers are unique, and one counter row per prison and year hands them out;
- a person has at most one OPEN or POST_CLOSURE case;
- an OPEN case has no closure time and any other case has one;
- a review that continues the ACCT names its next review; a closing review gives its reason;
- a staff task exists once per (case, kind, due time), so a repeated reminder is a no-op;
- a system-made review demand (e.g. for a transfer) exists once per source.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from saferprisons.core import clock
from saferprisons.core.models import PublicIdModel

from .constants import (
    ASSESSMENT_TEXT_MAX,
    CAREMAP_OWNER_MAX,
    CAREMAP_TEXT_MAX,
    CONCERN_ACTION_MAX,
    CONCERN_RISK_MAX,
    CONCERN_SEEN_MAX,
    ENTRY_TEXT_MAX,
    LIVE_STATUSES,
    PLAN_TEXT_MAX,
    REASON_MAX,
    REVIEW_TEXT_MAX,
    TITLE_MAX,
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

LABEL_MAX = 200


def _user_fk(**kwargs):
    # PROTECT: records keep who made them even after an account is deactivated.
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", **kwargs
    )


class LogNumberCounter(models.Model):
    """Hands out log numbers per prison per year; the row is locked while a number is taken."""

    prison = models.ForeignKey("estate.Prison", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prison", "year"], name="acct_counter_per_prison_year")
        ]

    def __str__(self) -> str:
        return f"{self.prison_id}/{self.year}: {self.last_number}"


class AcctCase(PublicIdModel):
    prisoner = models.ForeignKey(
        "people.Prisoner", on_delete=models.PROTECT, related_name="acct_cases"
    )
    # The prison responsible for the case now (moves with the person on transfer).
    prison = models.ForeignKey("estate.Prison", on_delete=models.PROTECT, related_name="+")
    log_number = models.CharField(max_length=20, unique=True)
    status = models.CharField(max_length=12, choices=CaseStatus.choices)
    opened_at = models.DateTimeField()
    opened_by_label = models.CharField(max_length=LABEL_MAX)
    # When the current open period began (the opening or the latest reopening). The IAP,
    # assessment and first review deadlines of the period count from here.
    period_started_at = models.DateTimeField()
    # When the current period's closure (OPEN -> POST_CLOSURE) happened; null while OPEN.
    closed_at = models.DateTimeField(null=True, blank=True)
    # Optimistic locking for review edits: every review bumps it.
    version = models.PositiveIntegerField(default=1)
    # The earliest due time of anything outstanding (rules.next_due_at with the ACCT_* timings),
    # written by every service in the transaction that moves it; null when nothing is due. Due
    # times do not move with the clock, so "next_due_at < now" finds exactly the live cases with
    # something overdue (ADR 0012). After a change to an ACCT_* timing: manage.py
    # acct_recompute_due.
    next_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["prisoner"],
                condition=Q(status__in=LIVE_STATUSES),
                name="acct_one_live_case_per_person",
            ),
            models.CheckConstraint(
                condition=Q(status__in=CaseStatus.values), name="acct_case_status_known"
            ),
            models.CheckConstraint(
                condition=(Q(status=CaseStatus.OPEN) & Q(closed_at__isnull=True))
                | (~Q(status=CaseStatus.OPEN) & Q(closed_at__isnull=False)),
                name="acct_case_closed_at_matches_status",
            ),
        ]
        indexes = [
            models.Index(fields=["prison", "status"], name="acct_case_prison_status"),
            models.Index(
                fields=["next_due_at"],
                condition=Q(status__in=LIVE_STATUSES),
                name="acct_case_live_next_due",
            ),
        ]

    def __str__(self) -> str:
        return f"ACCT {self.log_number} ({self.get_status_display()})"


class Concern(PublicIdModel):
    """A Concern and Keep Safe form: opens, reopens, or is recorded on the person's ACCT."""

    case = models.ForeignKey(AcctCase, on_delete=models.PROTECT, related_name="concerns")
    prison = models.ForeignKey("estate.Prison", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=20, choices=ConcernSource.choices)
    seen_or_heard = models.TextField(max_length=CONCERN_SEEN_MAX)
    immediate_risk = models.TextField(max_length=CONCERN_RISK_MAX)
    action_taken = models.TextField(max_length=CONCERN_ACTION_MAX)
    effect = models.CharField(max_length=10, choices=ConcernEffect.choices)
    raised_at = models.DateTimeField()
    raised_by = _user_fk(null=True, blank=True)
    raised_by_label = models.CharField(max_length=LABEL_MAX)

    class Meta:
        ordering = ["raised_at", "id"]
        indexes = [models.Index(fields=["case", "raised_at"], name="acct_concern_case_time")]


class CaseTransition(models.Model):
    """The status history (one row per transition, including the opening)."""

    case = models.ForeignKey(AcctCase, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(max_length=12, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=CaseStatus.choices)
    at = models.DateTimeField()
    by = _user_fk(null=True, blank=True)
    by_label = models.CharField(max_length=LABEL_MAX)
    reason = models.TextField(max_length=REASON_MAX, blank=True)
    review = models.ForeignKey(
        "CaseReview", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    concern = models.ForeignKey(
        Concern, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} -> {self.to_status} at {self.at:%Y-%m-%d %H:%M}"


class ImmediateActionPlan(PublicIdModel):
    case = models.ForeignKey(AcctCase, on_delete=models.PROTECT, related_name="action_plans")
    recorded_at = models.DateTimeField()
    recorded_by = _user_fk(null=True, blank=True)
    recorded_by_label = models.CharField(max_length=LABEL_MAX)
    plan = models.TextField(max_length=PLAN_TEXT_MAX)

    class Meta:
        ordering = ["recorded_at", "id"]


class AssessmentInterview(PublicIdModel):
    case = models.ForeignKey(AcctCase, on_delete=models.PROTECT, related_name="assessments")
    assessor = _user_fk()
    assessor_label = models.CharField(max_length=LABEL_MAX)
    # The training record that made the assessor eligible on the day (evidence).
    training_record = models.ForeignKey(
        "accounts.TrainingRecord", on_delete=models.PROTECT, related_name="+"
    )
    interviewed_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    summary = models.TextField(max_length=ASSESSMENT_TEXT_MAX)

    class Meta:
        ordering = ["interviewed_at", "id"]


class CaseReview(PublicIdModel):
    case = models.ForeignKey(AcctCase, on_delete=models.PROTECT, related_name="reviews")
    kind = models.CharField(max_length=12, choices=ReviewKind.choices)
    outcome = models.CharField(max_length=10, choices=ReviewOutcome.choices)
    held_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    chair = _user_fk(null=True, blank=True)
    chair_label = models.CharField(max_length=LABEL_MAX)
    # Each review records who holds these roles from then on (the latest review is current).
    case_manager = _user_fk(null=True, blank=True)
    case_coordinator = _user_fk(null=True, blank=True)
    risk_level = models.CharField(max_length=6, choices=RiskLevel.choices, blank=True)
    triggers = models.TextField(max_length=REVIEW_TEXT_MAX, blank=True)
    warning_signs = models.TextField(max_length=REVIEW_TEXT_MAX, blank=True)
    protective_factors = models.TextField(max_length=REVIEW_TEXT_MAX, blank=True)
    notes = models.TextField(max_length=REVIEW_TEXT_MAX, blank=True)
    family_consent = models.BooleanField(default=False)
    next_review_at = models.DateTimeField(null=True, blank=True)
    closure_reason = models.TextField(max_length=REASON_MAX, blank=True)

    class Meta:
        ordering = ["held_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(outcome=ReviewOutcome.CONTINUE) | Q(next_review_at__isnull=False),
                name="acct_review_continue_has_next_review",
            ),
            models.CheckConstraint(
                condition=~Q(outcome=ReviewOutcome.CLOSE) | ~Q(closure_reason=""),
                name="acct_review_close_has_reason",
            ),
            models.CheckConstraint(
                condition=(Q(kind=ReviewKind.POST_CLOSURE) & Q(outcome=ReviewOutcome.COMPLETE))
                | (~Q(kind=ReviewKind.POST_CLOSURE) & ~Q(outcome=ReviewOutcome.COMPLETE)),
                name="acct_review_post_closure_completes",
            ),
        ]
        indexes = [models.Index(fields=["case", "held_at"], name="acct_review_case_time")]


class ReviewAttendee(models.Model):
    review = models.ForeignKey(CaseReview, on_delete=models.PROTECT, related_name="attendees")
    user = _user_fk(null=True, blank=True)
    name = models.CharField(max_length=LABEL_MAX)
    discipline = models.CharField(max_length=20, choices=Discipline.choices)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_discipline_display()})"


class SupervisionPlan(models.Model):
    """Observations and conversations by day and by night, or constant supervision.

    Set by a case review (or as an interim plan with the IAP); the one recorded last in the
    current open period is in force. ``started_at`` (the review's or IAP's time) is when its
    observation and conversation counts start.
    """

    case = models.ForeignKey(AcctCase, on_delete=models.PROTECT, related_name="plans")
    review = models.ForeignKey(
        CaseReview, null=True, blank=True, on_delete=models.PROTECT, related_name="plans"
    )
    action_plan = models.ForeignKey(
        ImmediateActionPlan, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField()
    constant = models.BooleanField(default=False)
    day_observations_per_hour = models.DecimalField(
        max_digits=4, decimal_places=2, default=Decimal("1")
    )
    night_observations_per_hour = models.DecimalField(
        max_digits=4, decimal_places=2, default=Decimal("1")
    )
    day_conversations = models.PositiveSmallIntegerField(default=1)
    night_conversations = models.PositiveSmallIntegerField(default=0)
    set_by_label = models.CharField(max_length=LABEL_MAX)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(constant=True)
                | (
                    Q(day_observations_per_hour__gte=Decimal("0.25"))
                    & Q(day_observations_per_hour__lte=Decimal("12"))
                    & Q(night_observations_per_hour__gte=Decimal("0.25"))
                    & Q(night_observations_per_hour__lte=Decimal("12"))
                ),
                name="acct_plan_observation_rate_in_range",
            ),
            models.CheckConstraint(
                condition=Q(review__isnull=False) | Q(action_plan__isnull=False),
                name="acct_plan_has_source",
            ),
        ]
        indexes = [models.Index(fields=["case", "started_at"], name="acct_plan_case_time")]

    def __str__(self) -> str:
        if self.constant:
            return "Constant supervision"
        return (
            f"Day {self.day_observations_per_hour}/h, {self.day_conversations} conversations; "
            f"night {self.night_observations_per_hour}/h, {self.night_conversations} conversations"
        )


class CaremapItem(PublicIdModel):
    case = models.ForeignKey(AcctCase, on_delete=models.PROTECT, related_name="caremap")
    need = models.TextField(max_length=CAREMAP_TEXT_MAX)
    action = models.TextField(max_length=CAREMAP_TEXT_MAX)
    owner = models.CharField(max_length=CAREMAP_OWNER_MAX)
    target_date = models.DateField()
    status = models.CharField(
        max_length=8, choices=CaremapStatus.choices, default=CaremapStatus.OPEN
    )
    created_in = models.ForeignKey(CaseReview, on_delete=models.PROTECT, related_name="+")
    updated_in = models.ForeignKey(
        CaseReview, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["target_date", "id"]


class CaseEntry(PublicIdModel):
    """An observation or a conversation. Never edited: a correction is a new entry."""

    case = models.ForeignKey(AcctCase, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=12, choices=EntryKind.choices)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=clock.now)
    recorded_by = _user_fk(null=True, blank=True)
    recorded_by_label = models.CharField(max_length=LABEL_MAX)
    seen_or_spoken_to = models.BooleanField()
    presentation = models.TextField(max_length=ENTRY_TEXT_MAX)
    concerns = models.TextField(max_length=ENTRY_TEXT_MAX, blank=True)
    # Health entries are shown only to healthcare (people.view_health).
    health = models.BooleanField(default=False)
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["case", "kind", "occurred_at"], name="acct_entry_case_kind_time")
        ]


class ReviewDemand(PublicIdModel):
    """An event that demands an unscheduled case review; a review held after it satisfies it."""

    case = models.ForeignKey(AcctCase, on_delete=models.PROTECT, related_name="demands")
    reason = models.CharField(max_length=14, choices=DemandReason.choices)
    details = models.TextField(max_length=REASON_MAX, blank=True)
    demanded_at = models.DateTimeField()
    due_at = models.DateTimeField()
    demanded_by_label = models.CharField(max_length=LABEL_MAX)
    # Set for demands the system makes (e.g. "transfer:<movement>"), so a repeat is a no-op.
    source_key = models.CharField(max_length=100, blank=True)
    satisfied_by = models.ForeignKey(
        CaseReview, null=True, blank=True, on_delete=models.PROTECT, related_name="satisfied"
    )

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "source_key"],
                condition=~Q(source_key=""),
                name="acct_demand_once_per_source",
            ),
            models.CheckConstraint(
                condition=Q(due_at__gte=models.F("demanded_at")),
                name="acct_demand_due_after_demand",
            ),
        ]
        indexes = [
            models.Index(
                fields=["case", "due_at"],
                condition=Q(satisfied_by__isnull=True),
                name="acct_demand_outstanding",
            )
        ]


class StaffTask(PublicIdModel):
    """An in-app task for the safer custody team or a wing's manager on duty."""

    prison = models.ForeignKey("estate.Prison", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=TaskKind.choices)
    audience = models.CharField(max_length=14, choices=TaskAudience.choices)
    wing_path = models.CharField(max_length=10, blank=True)
    title = models.CharField(max_length=TITLE_MAX)
    case = models.ForeignKey(
        AcctCase, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(default=clock.now)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = _user_fk(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind", "due_at"], name="acct_task_once_per_case_kind_due"
            ),
            models.CheckConstraint(
                condition=Q(done_at__isnull=True) | Q(done_by__isnull=False),
                name="acct_task_done_by_someone",
            ),
        ]
        indexes = [
            models.Index(
                fields=["prison", "due_at"],
                condition=Q(done_at__isnull=True),
                name="acct_task_open_by_prison",
            )
        ]

    def __str__(self) -> str:
        return self.title


class SaferCellDecision(PublicIdModel):
    """A manager's recorded reason for not moving a HIGH-risk person to a safer cell."""

    case = models.ForeignKey(AcctCase, on_delete=models.PROTECT, related_name="cell_decisions")
    decided_at = models.DateTimeField()
    decided_by = _user_fk()
    decided_by_label = models.CharField(max_length=LABEL_MAX)
    reason = models.TextField(max_length=REASON_MAX)

    class Meta:
        ordering = ["decided_at", "id"]
