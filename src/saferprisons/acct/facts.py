"""Set-based reads that turn cases into ``rules.CaseFacts``: a fixed number of queries for any
number of cases (one annotated query for the cases, then one each for their latest reviews,
their plans in force and their outstanding review demands).

Internal to the app: selectors (scoped, audited) and services build on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from . import rules
from .constants import EntryKind, ReviewKind
from .models import (
    AcctCase,
    AssessmentInterview,
    CaseEntry,
    CaseReview,
    Concern,
    ImmediateActionPlan,
    ReviewDemand,
    SaferCellDecision,
    SupervisionPlan,
)


def _in_period(model, time_field: str) -> QuerySet:
    return model.objects.filter(
        case=OuterRef("pk"), **{f"{time_field}__gte": OuterRef("period_started_at")}
    )


def _last_entry(kind: str):
    return Subquery(
        CaseEntry.objects.filter(case=OuterRef("pk"), kind=kind, seen_or_spoken_to=True)
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )


def with_facts(cases: QuerySet[AcctCase]) -> QuerySet[AcctCase]:
    """Annotate each case with what the rules need (all subqueries: still one query)."""
    return cases.annotate(
        has_iap=Exists(_in_period(ImmediateActionPlan, "recorded_at")),
        has_assessment=Exists(_in_period(AssessmentInterview, "interviewed_at")),
        # A post-closure review belongs to the period it closed, even when the case is reopened
        # at the very instant it was held: it never stands for a case review of the new period.
        latest_review_id=Subquery(
            _in_period(CaseReview, "held_at")
            .exclude(kind=ReviewKind.POST_CLOSURE)
            .order_by("-held_at", "-id")
            .values("id")[:1]
        ),
        # The plan in force is the one recorded last in the period (a review's plan replaces an
        # interim IAP plan even if the review is recorded with an earlier meeting time).
        plan_id=Subquery(
            _in_period(SupervisionPlan, "started_at").order_by("-id").values("id")[:1]
        ),
        last_observation_at=_last_entry(EntryKind.OBSERVATION),
        last_conversation_at=_last_entry(EntryKind.CONVERSATION),
        latest_concern_at=Subquery(
            Concern.objects.filter(case=OuterRef("pk"))
            .order_by("-raised_at")
            .values("raised_at")[:1]
        ),
        latest_decision_at=Subquery(
            SaferCellDecision.objects.filter(case=OuterRef("pk"))
            .order_by("-decided_at")
            .values("decided_at")[:1]
        ),
    )


@dataclass
class CaseState:
    """A case with its derived facts and the rows they came from."""

    case: AcctCase
    facts: rules.CaseFacts
    latest_review: CaseReview | None
    plan: SupervisionPlan | None
    demands: list[ReviewDemand]


def plan_levels(plan: SupervisionPlan) -> rules.Supervision:
    return rules.Supervision(
        constant=plan.constant,
        day_observations_per_hour=plan.day_observations_per_hour,
        night_observations_per_hour=plan.night_observations_per_hour,
        day_conversations=plan.day_conversations,
        night_conversations=plan.night_conversations,
    )


def states_for(cases: list[AcctCase]) -> dict[int, CaseState]:
    """Facts for cases fetched through ``with_facts`` (three more queries, whatever the count)."""
    if not cases:
        return {}
    review_ids = [c.latest_review_id for c in cases if c.latest_review_id]
    plan_ids = [c.plan_id for c in cases if c.plan_id]
    reviews = (
        CaseReview.objects.select_related("case_manager", "case_coordinator").in_bulk(review_ids)
        if review_ids
        else {}
    )
    plans = SupervisionPlan.objects.in_bulk(plan_ids) if plan_ids else {}
    demands: dict[int, list[ReviewDemand]] = {c.pk: [] for c in cases}
    for demand in ReviewDemand.objects.filter(
        case_id__in=list(demands), satisfied_by__isnull=True
    ).order_by("due_at", "id"):
        demands[demand.case_id].append(demand)
    states = {}
    for case in cases:
        review = reviews.get(case.latest_review_id)
        plan = plans.get(case.plan_id)
        facts = rules.CaseFacts(
            status=case.status,
            period_started_at=case.period_started_at,
            closed_at=case.closed_at,
            has_iap=case.has_iap,
            has_assessment=case.has_assessment,
            has_review_in_period=review is not None,
            next_review_at=review.next_review_at if review is not None else None,
            demands=[(d.due_at, d.reason) for d in demands[case.pk]],
            plan=rules.PlanInForce(plan_levels(plan), plan.started_at) if plan else None,
            last_observation_at=case.last_observation_at,
            last_conversation_at=case.last_conversation_at,
        )
        states[case.pk] = CaseState(case, facts, review, plan, demands[case.pk])
    return states


def state_of(case: AcctCase) -> CaseState:
    """One case's state (re-read from the database)."""
    fresh = with_facts(AcctCase.objects.filter(pk=case.pk).select_related("prison", "prisoner"))
    (row,) = list(fresh)
    return states_for([row])[row.pk]
