"""IAP, assessment, case reviews, closure, post-closure and every status transition."""

from datetime import date, timedelta

import pytest

from saferprisons.accounts.models import TrainingRecord
from saferprisons.acct import selectors, services
from saferprisons.acct.constants import (
    ASSESSOR_COURSE,
    CaremapStatus,
    CaseStatus,
    Discipline,
    DueKind,
    ReviewKind,
    ReviewOutcome,
)
from saferprisons.acct.models import (
    AcctCase,
    AssessmentInterview,
    CaremapItem,
    CaseReview,
    CaseTransition,
    ImmediateActionPlan,
    SupervisionPlan,
)
from saferprisons.acct.rules import Supervision
from saferprisons.conftest import make_user
from saferprisons.core import clock
from saferprisons.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from saferprisons.people.models import PersonAlert

from .conftest import (
    START,
    attendees,
    close_at_review,
    first_review,
    fresh,
    london,
    open_case,
    settle,
)


def alerts(person):
    return set(
        PersonAlert.objects.filter(prisoner=person, ended_at__isnull=True).values_list(
            "alert_code__code", flat=True
        )
    )


def due(world, kind):
    return selectors.case_summary_for(world.manager, "A1234BC").due(kind)


# --- Deadlines from opening --------------------------------------------------------------------


def test_opened_at_nine_iap_due_at_ten_assessment_and_first_review_next_morning(world):
    open_case(world)
    summary = selectors.case_summary_for(world.officer, "A1234BC")
    assert [(i.kind, clock.local(i.due_at)) for i in summary.items] == [
        (DueKind.IAP, london(2026, 11, 28, 10, 0)),
        (DueKind.ASSESSMENT, london(2026, 11, 29, 9, 0)),
        (DueKind.FIRST_REVIEW, london(2026, 11, 29, 9, 0)),
    ]
    assert summary.overdue_count == 0
    world.traveller.move_to(london(2026, 11, 28, 10, 1))
    summary = selectors.case_summary_for(world.officer, "A1234BC")
    assert [i.kind for i in summary.overdue] == [DueKind.IAP]


def test_the_iap_clears_its_deadline_and_may_set_interim_supervision(world):
    case = open_case(world)
    world.traveller.move_to(london(2026, 11, 28, 9, 40))
    iap = services.record_iap(
        actor=world.officer,
        case=case,
        plan="Stay with him; remove ligature points; Listener called",
        supervision=Supervision(day_observations_per_hour=2, night_observations_per_hour=1),
    )
    assert ImmediateActionPlan.objects.get() == iap
    assert due(world, DueKind.IAP) is None
    observation = due(world, DueKind.OBSERVATION)
    assert clock.local(observation.due_at) == london(2026, 11, 28, 10, 10)
    plan = SupervisionPlan.objects.get()
    assert (plan.action_plan, plan.started_at) == (iap, london(2026, 11, 28, 9, 40))


def test_iap_refuses_future_times_and_empty_plans(world):
    case = open_case(world)
    with pytest.raises(ValidationFailed, match="cannot be in the future"):
        services.record_iap(
            actor=world.officer, case=case, plan="x", recorded_at=START + timedelta(minutes=5)
        )
    with pytest.raises(ValidationFailed, match="Enter the plan"):
        services.record_iap(actor=world.officer, case=case, plan=" ")
    assert ImmediateActionPlan.objects.count() == 0


# --- Assessment --------------------------------------------------------------------------------


def test_a_trained_assessor_records_the_assessment(world):
    case = open_case(world)
    world.traveller.move_to(london(2026, 11, 28, 15, 0))
    interview = services.record_assessment(
        actor=world.nurse, case=case, summary="Low mood after news of a bereavement"
    )
    assert interview.training_record.course == ASSESSOR_COURSE
    assert interview.interviewed_at == london(2026, 11, 28, 15, 0)
    assert due(world, DueKind.ASSESSMENT) is None


def test_assessment_without_training_is_refused_and_changes_nothing(world):
    case = open_case(world)
    with pytest.raises(PermissionDenied, match="no current ACCT assessor training"):
        services.record_assessment(actor=world.officer, case=case, summary="x")
    TrainingRecord.objects.create(
        user=world.officer,
        course=ASSESSOR_COURSE,
        completed_on=date(2024, 1, 1),
        expires_on=date(2026, 11, 27),
    )
    with pytest.raises(PermissionDenied, match="expired on 27/11/2026"):
        services.record_assessment(actor=world.officer, case=case, summary="x")
    assert AssessmentInterview.objects.count() == 0
    # Valid through its expiry date (inclusive).
    TrainingRecord.objects.filter(user=world.officer).update(expires_on=date(2026, 11, 28))
    services.record_assessment(actor=world.officer, case=case, summary="x")
    assert AssessmentInterview.objects.count() == 1


def test_training_is_checked_on_the_day_of_the_interview(world):
    case = open_case(world)
    TrainingRecord.objects.filter(user=world.nurse).update(completed_on=date(2026, 11, 28))
    with pytest.raises(PermissionDenied):
        services.record_assessment(
            actor=world.nurse,
            case=case,
            summary="x",
            interviewed_at=START - timedelta(hours=10),  # 27 November, before the course
        )


def test_current_for_and_latest_for():
    # Pure queries on the model; no user means no record.
    assert TrainingRecord.current_for(None, ASSESSOR_COURSE, date(2026, 1, 1)) is None
    assert TrainingRecord.latest_for(None, ASSESSOR_COURSE) is None


# --- Case reviews ------------------------------------------------------------------------------


def test_first_review_sets_the_plan_roles_caremap_and_next_review(world):
    case = open_case(world)
    world.traveller.move_to(london(2026, 11, 28, 16, 0))
    review = first_review(world, case, next_review_at=london(2026, 12, 1, 10, 0))
    assert (review.kind, review.outcome, review.case_manager, review.case_coordinator) == (
        ReviewKind.FIRST,
        ReviewOutcome.CONTINUE,
        world.manager,
        world.officer,
    )
    assert [a.discipline for a in review.attendees.all()] == ["MANAGER", "HEALTHCARE"]
    assert fresh(case).version == case.version + 1
    summary = selectors.case_summary_for(world.manager, "A1234BC")
    assert summary.risk_level == "RAISED" and summary.case_manager == world.manager
    assert [(c.need, c.status) for c in summary.caremap] == [("Contact with family", "OPEN")]
    assert clock.local(summary.due(DueKind.SCHEDULED_REVIEW).due_at) == london(2026, 12, 1, 10)
    assert summary.due(DueKind.FIRST_REVIEW) is None
    assert clock.local(summary.due(DueKind.OBSERVATION).due_at) == london(2026, 11, 28, 17, 0)
    # Two conversations by day (every 6 hours): 4 hours of day left, then 2 more from 08:00.
    assert clock.local(summary.due(DueKind.CONVERSATION).due_at) == london(2026, 11, 29, 10, 0)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"case_manager": "band3"}, ValidationFailed, "band 4 or above"),
        ({"case_manager": "south"}, ValidationFailed, "who works at HMP Northfold"),
        ({"attendees": "manager only"}, ValidationFailed, "one other discipline"),
        ({"attendees": "no manager"}, ValidationFailed, "needs a manager"),
        ({"attendees": "family"}, ValidationFailed, "consent"),
        ({"risk_level": "EXTREME"}, ValidationFailed, "risk level"),
        ({"next_review_at": "past"}, ValidationFailed, "must be in the future"),
        ({"next_review_at": None}, ValidationFailed, "next review"),
        ({"supervision": None}, ValidationFailed, "supervision plan"),
        ({"triggers": ""}, ValidationFailed, "triggers and warning signs"),
        ({"expected_version": 99}, Conflict, "changed this ACCT"),
        ({"actor": "officer"}, PermissionDenied, "cannot hold"),
    ],
)
def test_bad_reviews_are_refused_and_change_nothing(world, change, error, message):
    case = open_case(world)
    values = {
        "band3": world.band3_manager,
        "south": world.south_manager,
        "manager only": [services.Attendee(Discipline.MANAGER, user=world.manager)],
        "no manager": [
            services.Attendee(Discipline.HEALTHCARE, user=world.nurse),
            services.Attendee(Discipline.WING_OFFICER, user=world.officer),
        ],
        "family": attendees(world) + [services.Attendee(Discipline.FAMILY, name="His sister")],
        "past": START - timedelta(minutes=1),
        "officer": world.officer,
    }
    overrides = {k: values.get(v, v) if isinstance(v, str) else v for k, v in change.items()}
    if change.get("risk_level"):
        overrides["risk_level"] = change["risk_level"]
    with pytest.raises(error, match=message):
        first_review(world, case, **overrides)
    assert CaseReview.objects.count() == 0 and CaremapItem.objects.count() == 0
    assert SupervisionPlan.objects.count() == 0
    assert fresh(case).version == case.version


def test_family_attend_with_consent_and_nhs_band_5_may_be_case_manager(world):
    case = open_case(world)
    review = first_review(
        world,
        case,
        attendees=attendees(world) + [services.Attendee(Discipline.FAMILY, name="His sister")],
        family_consent=True,
        case_manager=world.nurse,  # "NHS 5"
    )
    assert review.case_manager == world.nurse and review.family_consent


def test_psychologist_and_healthcare_may_hold_reviews_wing_officers_may_not(world):
    case = open_case(world)
    first_review(world, case, actor=world.psychologist)
    later = services.hold_review(
        actor=world.nurse,
        case=case,
        expected_version=fresh(case).version,
        attendees=attendees(world),
        risk_level="LOW",
        next_review_at=START + timedelta(days=5),
    )
    assert later.kind == ReviewKind.SCHEDULED
    # Later reviews keep the case manager, coordinator, triggers and plan.
    assert (later.case_manager, later.case_coordinator, later.triggers) == (
        world.manager,
        world.officer,
        "Bad news from home; anniversaries",
    )
    assert SupervisionPlan.objects.count() == 1


def test_reviews_update_caremap_items_and_stale_versions_conflict(world):
    case = open_case(world)
    first_review(world, case)
    item = CaremapItem.objects.get()
    version = fresh(case).version
    services.hold_review(
        actor=world.manager,
        case=case,
        expected_version=version,
        attendees=attendees(world),
        risk_level="LOW",
        next_review_at=START + timedelta(days=3),
        caremap_updates={item.public_id: CaremapStatus.DONE},
    )
    item.refresh_from_db()
    assert item.status == CaremapStatus.DONE and item.updated_in is not None
    # A second officer submits a form built from the old version: refused.
    with pytest.raises(Conflict, match="Reload it"):
        services.hold_review(
            actor=world.governor,
            case=case,
            expected_version=version,
            attendees=attendees(world),
            risk_level="HIGH",
            next_review_at=START + timedelta(days=1),
        )
    assert CaseReview.objects.count() == 2
    with pytest.raises(Conflict):
        services.update_caremap_item(
            actor=world.manager, item=item, expected_version=version, status="DROPPED"
        )
    services.update_caremap_item(
        actor=world.manager, item=item, expected_version=fresh(case).version, status="DROPPED"
    )
    item.refresh_from_db()
    assert item.status == "DROPPED"


# --- Closure and post-closure ------------------------------------------------------------------


def test_closure_at_a_review_then_post_closure_review_closes(world):
    case = open_case(world)
    first_review(world, case)
    world.traveller.move_to(london(2026, 11, 30, 11, 0))
    review = close_at_review(world, case)
    case = fresh(case)
    assert (case.status, case.closed_at) == (CaseStatus.POST_CLOSURE, london(2026, 11, 30, 11))
    assert review.outcome == ReviewOutcome.CLOSE and review.closure_reason
    assert alerts(world.person) == {"HA1"}
    summary = selectors.case_summary_for(world.manager, "A1234BC")
    assert [(i.kind, clock.local(i.due_at)) for i in summary.items] == [
        (DueKind.POST_CLOSURE_REVIEW, london(2026, 12, 7, 11, 0))
    ]
    world.traveller.move_to(london(2026, 12, 7, 10, 0))
    post = services.complete_post_closure_review(
        actor=world.manager, case=case, expected_version=case.version, notes="Settled, working"
    )
    assert (post.kind, post.outcome) == (ReviewKind.POST_CLOSURE, ReviewOutcome.COMPLETE)
    assert fresh(case).status == CaseStatus.CLOSED
    assert alerts(world.person) == {"HA2"}
    assert selectors.case_summary_for(world.manager, "A1234BC").items == []
    # Repeating is a no-op.
    assert (
        services.complete_post_closure_review(
            actor=world.manager, case=case, expected_version=0, notes="again"
        )
        is None
    )
    assert CaseReview.objects.filter(kind=ReviewKind.POST_CLOSURE).count() == 1


def test_closure_needs_a_reason_and_sets_no_next_review(world):
    case = open_case(world)
    first_review(world, case)
    with pytest.raises(ValidationFailed, match="reason for closing"):
        close_at_review(world, case, reason="")
    with pytest.raises(ValidationFailed, match="sets no next review"):
        services.hold_review(
            actor=world.manager,
            case=case,
            expected_version=fresh(case).version,
            attendees=attendees(world),
            risk_level="LOW",
            close=True,
            closure_reason="Better",
            next_review_at=START + timedelta(days=1),
        )
    assert fresh(case).status == CaseStatus.OPEN and alerts(world.person) == {"HA"}


def test_closure_outside_a_review_is_refused(world):
    case = open_case(world)
    first_review(world, case)
    with pytest.raises(ValidationFailed, match="only be closed at a case review"):
        services.transition_case(
            actor=world.manager, case=case, to_status=CaseStatus.POST_CLOSURE, reason="Fine now"
        )
    review = CaseReview.objects.get()  # a review, but one that continued the ACCT
    with pytest.raises(ValidationFailed, match="only be closed at a case review"):
        services.transition_case(
            actor=world.manager, case=case, to_status=CaseStatus.POST_CLOSURE, review=review
        )
    assert fresh(case).status == CaseStatus.OPEN and alerts(world.person) == {"HA"}
    assert CaseTransition.objects.count() == 1


def test_post_closure_review_of_an_open_case_is_a_conflict(world):
    case = open_case(world)
    with pytest.raises(Conflict, match="cannot be closed outright"):
        services.complete_post_closure_review(
            actor=world.manager, case=case, expected_version=case.version, notes="x"
        )
    assert fresh(case).status == CaseStatus.OPEN


def test_no_reviews_entries_or_demands_on_a_case_in_post_closure(world):
    case = open_case(world)
    first_review(world, case)
    close_at_review(world, case)
    with pytest.raises(Conflict, match="post-closure"):
        close_at_review(world, case)
    with pytest.raises(Conflict):
        services.record_entry(
            actor=world.officer,
            case=case,
            kind="OBSERVATION",
            occurred_at=clock.now(),
            seen_or_spoken_to=True,
            presentation="Fine",
        )
    with pytest.raises(Conflict):
        services.demand_review(actor=world.officer, case=case, reason="STAFF_REQUEST")


def test_manager_reopens_and_reopen_needs_a_reason(world):
    case = open_case(world)
    first_review(world, case)
    close_at_review(world, case)
    with pytest.raises(ValidationFailed, match="why the ACCT is reopened"):
        services.reopen_case(actor=world.manager, case=case, reason="")
    with pytest.raises(PermissionDenied):
        services.reopen_case(actor=world.officer, case=case, reason="Worried")
    world.traveller.shift(timedelta(days=1))
    services.reopen_case(actor=world.manager, case=case, reason="Low mood again")
    case = fresh(case)
    assert case.status == CaseStatus.OPEN and alerts(world.person) == {"HA"}
    # The new period needs a new IAP, assessment and first review.
    assert {i.kind for i in selectors.case_summary_for(world.manager, "A1234BC").items} == {
        DueKind.IAP,
        DueKind.ASSESSMENT,
        DueKind.FIRST_REVIEW,
    }
    # Reopening an open case is a no-op.
    services.reopen_case(actor=world.manager, case=case, reason="Again")
    assert CaseTransition.objects.filter(to_status=CaseStatus.OPEN).count() == 2


def test_reopened_at_the_instant_of_the_post_closure_review_a_first_review_is_due(world):
    """The post-closure review is held, then the case reopened in the same instant (frozen
    clock): that review belongs to the closed period and is not the new period's first review."""
    case = open_case(world)
    settle(world, case)
    first_review(world, case)
    close_at_review(world, case)
    world.traveller.shift(timedelta(days=3))
    services.complete_post_closure_review(
        actor=world.manager, case=case, expected_version=fresh(case).version, notes="Doing well"
    )
    reopened_at = clock.now()
    services.reopen_case(actor=world.manager, case=case, reason="Low mood again")
    due = {i.kind: i.due_at for i in selectors.case_summary_for(world.manager, "A1234BC").items}
    assert due[DueKind.FIRST_REVIEW] == reopened_at + timedelta(hours=24)
    assert DueKind.SCHEDULED_REVIEW not in due


def test_another_prisons_manager_finds_nothing(world):
    case = open_case(world)
    with pytest.raises(NotFound):
        services.reopen_case(actor=world.south_manager, case=case, reason="x")
    with pytest.raises(NotFound):
        first_review(world, case, actor=world.south_manager)
    assert CaseReview.objects.count() == 0


# --- Every (from, to) pair through the service -------------------------------------------------


def case_in(world, status: str) -> AcctCase:
    case = open_case(world)
    if status == CaseStatus.OPEN:
        return case
    first_review(world, case)
    close_at_review(world, case)
    if status == CaseStatus.CLOSED:
        services.complete_post_closure_review(
            actor=world.manager, case=case, expected_version=fresh(case).version, notes="ok"
        )
    return fresh(case)


def move(world, case, target):
    closing = CaseReview.objects.filter(case=case, outcome=ReviewOutcome.CLOSE).first()
    post = CaseReview.objects.filter(case=case, kind=ReviewKind.POST_CLOSURE).first()
    if target == CaseStatus.POST_CLOSURE and closing is None:
        # An open case closes through a review; the review itself makes the transition.
        first_review(world, case)
        close_at_review(world, case)
        return
    review = {CaseStatus.POST_CLOSURE: closing, CaseStatus.CLOSED: post}.get(target)
    if target == CaseStatus.CLOSED and post is None:
        services.complete_post_closure_review(
            actor=world.manager, case=case, expected_version=fresh(case).version, notes="ok"
        )
        return
    services.transition_case(
        actor=world.manager, case=case, to_status=target, reason="Reason", review=review
    )


OUTCOMES = {
    (CaseStatus.OPEN, CaseStatus.OPEN): "no-op",
    (CaseStatus.OPEN, CaseStatus.POST_CLOSURE): CaseStatus.POST_CLOSURE,
    (CaseStatus.OPEN, CaseStatus.CLOSED): "conflict",
    (CaseStatus.POST_CLOSURE, CaseStatus.OPEN): CaseStatus.OPEN,
    (CaseStatus.POST_CLOSURE, CaseStatus.POST_CLOSURE): "no-op",
    (CaseStatus.POST_CLOSURE, CaseStatus.CLOSED): CaseStatus.CLOSED,
    (CaseStatus.CLOSED, CaseStatus.OPEN): CaseStatus.OPEN,
    (CaseStatus.CLOSED, CaseStatus.POST_CLOSURE): "conflict",
    (CaseStatus.CLOSED, CaseStatus.CLOSED): "no-op",
}

EXPECTED_ALERTS = {
    CaseStatus.OPEN: {"HA"},
    CaseStatus.POST_CLOSURE: {"HA1"},
    CaseStatus.CLOSED: {"HA2"},
}


@pytest.mark.parametrize(("source", "target"), list(OUTCOMES))
def test_every_transition_pair(world, source, target):
    case = case_in(world, source)
    transitions = CaseTransition.objects.count()
    version = fresh(case).version
    expected = OUTCOMES[(source, target)]
    if expected == "conflict":
        with pytest.raises(Conflict):
            move(world, case, target)
    else:
        move(world, case, target)
    case = fresh(case)
    if expected in ("conflict", "no-op"):
        assert case.status == source
        assert CaseTransition.objects.count() == transitions
        assert case.version == version
        assert alerts(world.person) == EXPECTED_ALERTS[source]
    else:
        assert case.status == expected
        last = CaseTransition.objects.latest("id")
        assert (last.from_status, last.to_status) == (source, target)
        assert alerts(world.person) == EXPECTED_ALERTS[target]


def test_status_constraints_hold_in_the_database(world):
    from django.db import IntegrityError, transaction

    case = open_case(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        AcctCase.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED)  # no closed_at
    other = make_user("x", ["WING_OFFICER"], [world.north])
    assert other  # a second live case for the same person is refused by the database
    with pytest.raises(IntegrityError), transaction.atomic():
        AcctCase.objects.create(
            prisoner=world.person,
            prison=world.north,
            log_number="ZNA-2026-9999",
            status=CaseStatus.OPEN,
            opened_at=START,
            opened_by_label="x",
            period_started_at=START,
        )


def test_deadlines_in_british_summer_time(world):
    world.traveller.move_to(london(2026, 7, 1, 9, 0))  # 08:00 UTC
    open_case(world)
    summary = selectors.case_summary_for(world.officer, "A1234BC")
    assert [(i.kind, clock.local(i.due_at)) for i in summary.items] == [
        (DueKind.IAP, london(2026, 7, 1, 10, 0)),
        (DueKind.ASSESSMENT, london(2026, 7, 2, 9, 0)),
        (DueKind.FIRST_REVIEW, london(2026, 7, 2, 9, 0)),
    ]
