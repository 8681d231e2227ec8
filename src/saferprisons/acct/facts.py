"""Set-based reads that turn cases into ``rules.CaseFacts``: a fixed number of queries for any
number of cases (one annotated query for the cases, then one each for their latest reviews,
their plans in force and their outstanding review demands).

Internal to the app: selectors (scoped, audited) and services build on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from . import rules
from .constants import LIVE_STATUSES, EntryKind, ReviewKind
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


def _due_annotations() -> dict:
    """The subqueries the due rules need (``with_facts`` adds the board's two more)."""
    return dict(
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
    )


def with_facts(cases: QuerySet[AcctCase]) -> QuerySet[AcctCase]:
    """Annotate each case with what the rules need (all subqueries: still one query)."""
    return cases.annotate(
        **_due_annotations(),
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


# --- Only what the due rules read (the estate query, next_due_at) ------------------------------

# The columns of a case the due rules read, after the annotations of ``_due_annotations``.
_DUE_COLUMNS = (
    "pk",
    "status",
    "period_started_at",
    "closed_at",
    "has_iap",
    "has_assessment",
    "latest_review_id",
    "plan_id",
    "last_observation_at",
    "last_conversation_at",
)


def due_facts(cases: QuerySet[AcctCase], *extra: str) -> list[tuple[int, rules.CaseFacts, tuple]]:
    """(pk, facts, the ``extra`` columns) for each case: four queries whatever the number of cases,
    reading plain values only (no model instances, no users: much cheaper than ``states_for``
    for many cases). ``extra`` names more columns of the case to read, e.g. its log number.

    Reads only the columns it names, so it also works in a data migration with later columns
    not yet added (migrations/0003).
    """
    rows = list(cases.annotate(**_due_annotations()).order_by().values_list(*_DUE_COLUMNS, *extra))
    if not rows:
        return []
    review_ids = [row[6] for row in rows if row[6] is not None]
    plan_ids = [row[7] for row in rows if row[7] is not None]
    next_reviews = (
        dict(CaseReview.objects.filter(pk__in=review_ids).values_list("pk", "next_review_at"))
        if review_ids
        else {}
    )
    plans = {
        pk: rules.PlanInForce(
            rules.Supervision(
                constant=constant,
                day_observations_per_hour=day_rate,
                night_observations_per_hour=night_rate,
                day_conversations=day_talks,
                night_conversations=night_talks,
            ),
            started_at,
        )
        for pk, constant, day_rate, night_rate, day_talks, night_talks, started_at in (
            SupervisionPlan.objects.filter(pk__in=plan_ids).values_list(
                "pk",
                "constant",
                "day_observations_per_hour",
                "night_observations_per_hour",
                "day_conversations",
                "night_conversations",
                "started_at",
            )
            if plan_ids
            else ()
        )
    }
    demands: dict[int, list[tuple[datetime, str]]] = {}
    for case_id, due_at, reason in (
        ReviewDemand.objects.filter(case_id__in=[row[0] for row in rows], satisfied_by__isnull=True)
        .order_by("due_at", "id")
        .values_list("case_id", "due_at", "reason")
    ):
        demands.setdefault(case_id, []).append((due_at, reason))
    width = len(_DUE_COLUMNS)
    result = []
    for row in rows:
        pk, status, start, closed, iap, assessed, review, plan, observed, talked = row[:width]
        case_facts = rules.CaseFacts(
            status=status,
            period_started_at=start,
            closed_at=closed,
            has_iap=iap,
            has_assessment=assessed,
            has_review_in_period=review is not None,
            next_review_at=next_reviews.get(review),
            demands=demands.get(pk, []),
            plan=plans.get(plan),
            last_observation_at=observed,
            last_conversation_at=talked,
        )
        result.append((pk, case_facts, row[width:]))
    return result


def refresh_next_due(case_ids: Iterable[int], timings: rules.Timings | None = None) -> int:
    """Recompute and store ``next_due_at`` of these cases (any status: null unless live).
    Returns how many stored values changed. The caller holds the transaction (and, in the
    services, the case's row lock)."""
    ids = list(case_ids)
    if not ids:
        return 0
    timings = timings or rules.Timings.from_settings()
    changed = 0
    for pk, case_facts, (stored,) in due_facts(AcctCase.objects.filter(pk__in=ids), "next_due_at"):
        due = rules.next_due_at(case_facts, timings)
        if due != stored:
            AcctCase.objects.filter(pk=pk).update(next_due_at=due)
            changed += 1
    return changed


def recompute_next_due(*, batch_size: int = 500, timings: rules.Timings | None = None) -> dict:
    """Recompute ``next_due_at`` for every case (after a change to an ACCT_* timing setting:
    ``manage.py acct_recompute_due``; also the backfill of migration 0003). Live cases in
    batches of ``batch_size``, each batch in its own transaction; then any case no longer live
    that still has a value is cleared. Returns {"checked": n, "changed": n, "cleared": n}."""
    from django.db import transaction

    timings = timings or rules.Timings.from_settings()
    live = AcctCase.objects.filter(status__in=LIVE_STATUSES)
    ids = list(live.order_by("pk").values_list("pk", flat=True))
    changed = 0
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            changed += refresh_next_due(ids[start : start + batch_size], timings)
    cleared = (
        AcctCase.objects.exclude(status__in=LIVE_STATUSES)
        .filter(next_due_at__isnull=False)
        .update(next_due_at=None)
    )
    return {"checked": len(ids), "changed": changed, "cleared": cleared}
