"""Unscheduled reviews demanded by events, scheduled review reminders, and transfers."""

from datetime import timedelta

import pytest

from saferprisons.acct import events, rules, selectors, services
from saferprisons.acct.constants import (
    JOB_REVIEW_DUE,
    CaseStatus,
    DemandReason,
    DueKind,
    ReviewKind,
    TaskKind,
)
from saferprisons.acct.models import ReviewDemand, StaffTask
from saferprisons.acct.receivers import move_case_with_person
from saferprisons.core import clock
from saferprisons.core.errors import NotFound, ValidationFailed
from saferprisons.jobs import worker
from saferprisons.jobs.models import Job
from saferprisons.people import services as people_services
from saferprisons.people.models import Movement

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


def demand(world, case, reason, actor=None, **kwargs):
    return services.demand_review(actor=actor or world.officer, case=case, reason=reason, **kwargs)


def test_staff_request_demands_a_review_within_24_hours(
    world, django_capture_on_commit_callbacks, heard
):
    heard_due = heard(events.review_due)
    case = open_case(world)
    first_review(world, case)
    world.traveller.move_to(london(2026, 11, 28, 14, 5))
    with django_capture_on_commit_callbacks(execute=True):
        made = demand(world, case, DemandReason.STAFF_REQUEST, details="Refused meals today")
    assert (made.demanded_at, clock.local(made.due_at)) == (
        london(2026, 11, 28, 14, 5),
        london(2026, 11, 29, 14, 5),
    )
    task = StaffTask.objects.get(kind=TaskKind.REVIEW_DUE)
    assert task.due_at == made.due_at
    assert [(c["due_at"], c["reason"]) for c in heard_due.calls] == [
        (made.due_at, DemandReason.STAFF_REQUEST)
    ]
    item = selectors.case_summary_for(world.manager, "A1234BC").due(DueKind.DEMANDED_REVIEW)
    assert clock.local(item.due_at) == london(2026, 11, 29, 14, 5)


def test_self_harm_on_an_open_acct_demands_a_review_at_once(world):
    case = open_case(world)
    first_review(world, case)
    world.traveller.move_to(london(2026, 11, 28, 22, 10))
    settle(world, case)
    world.traveller.move_to(london(2026, 11, 28, 22, 15))
    made = demand(world, case, DemandReason.SELF_HARM, details="Superficial cuts to forearm")
    assert made.due_at == made.demanded_at == london(2026, 11, 28, 22, 15)
    world.traveller.move_to(london(2026, 11, 28, 22, 16))
    row = selectors.wing_board(world.manager, world.north).rows[0]
    assert [i.kind for i in row.overdue] == [DueKind.DEMANDED_REVIEW]
    assert row.urgency == rules.Urgency.REVIEW_DUE


def test_a_review_satisfies_the_outstanding_demands(world):
    case = open_case(world)
    first_review(world, case)
    world.traveller.move_to(london(2026, 11, 28, 12, 0))
    demand(world, case, DemandReason.TRIGGER, details="Bad news from court")
    demand(world, case, DemandReason.STAFF_REQUEST)
    world.traveller.move_to(london(2026, 11, 28, 15, 0))
    review = services.hold_review(
        actor=world.manager,
        case=case,
        expected_version=fresh(case).version,
        attendees=attendees(world),
        risk_level="HIGH",
        next_review_at=london(2026, 11, 29, 15, 0),
    )
    assert review.kind == ReviewKind.UNSCHEDULED
    assert set(ReviewDemand.objects.values_list("satisfied_by", flat=True)) == {review.pk}
    assert selectors.case_summary_for(world.manager, "A1234BC").due(DueKind.DEMANDED_REVIEW) is None
    # A demand after the review stays outstanding.
    world.traveller.move_to(london(2026, 11, 28, 16, 0))
    demand(world, case, DemandReason.STAFF_REQUEST)
    assert len(selectors.case_summary_for(world.manager, "A1234BC").demands) == 1


def test_bad_demands_are_refused_and_change_nothing(world):
    case = open_case(world)
    with pytest.raises(ValidationFailed, match="why a review is needed"):
        demand(world, case, "BORED")
    with pytest.raises(ValidationFailed, match="cannot be in the future"):
        demand(world, case, DemandReason.SELF_HARM, occurred_at=START + timedelta(hours=1))
    with pytest.raises(NotFound):
        demand(world, case, DemandReason.STAFF_REQUEST, actor=world.south_manager)
    assert ReviewDemand.objects.count() == 0 and StaffTask.objects.count() == 1  # the opening


def test_scheduled_review_reminder_at_the_review_time(world):
    case = open_case(world)
    first_review(world, case, next_review_at=london(2026, 11, 30, 10, 0))
    (job,) = Job.objects.filter(kind=JOB_REVIEW_DUE)
    assert clock.local(job.due_at) == london(2026, 11, 30, 10, 0)
    world.traveller.move_to(london(2026, 11, 30, 10, 0, 5))
    (claimed,) = [j for j in worker.claim_due_jobs("w1", limit=10) if j.kind == JOB_REVIEW_DUE]
    worker.run_job(claimed.pk, claimed.token)
    services.check_review_due(case_id=case.public_id, due_at=london(2026, 11, 30, 10, 0))
    (task,) = StaffTask.objects.filter(kind=TaskKind.REVIEW_DUE)
    assert clock.local(task.due_at) == london(2026, 11, 30, 10, 0)


def test_scheduled_review_reminder_is_dropped_when_a_later_review_moved_it(world):
    case = open_case(world)
    first_review(world, case, next_review_at=london(2026, 11, 30, 10, 0))
    world.traveller.move_to(london(2026, 11, 29, 10, 0))
    services.hold_review(
        actor=world.manager,
        case=case,
        expected_version=fresh(case).version,
        attendees=attendees(world),
        risk_level="LOW",
        next_review_at=london(2026, 12, 3, 10, 0),
    )
    world.traveller.move_to(london(2026, 11, 30, 10, 1))
    assert (
        services.check_review_due(case_id=case.public_id, due_at=london(2026, 11, 30, 10)) is None
    )
    assert StaffTask.objects.filter(kind=TaskKind.REVIEW_DUE).count() == 0


# --- Transfers ---------------------------------------------------------------------------------


def transfer(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        people_services.transfer_prisoner(
            actor=world.manager, prisoner=world.person, to_prison=world.south, reason="Court"
        )


def test_an_open_case_moves_with_the_person_and_demands_a_review(
    world, django_capture_on_commit_callbacks
):
    case = open_case(world)
    first_review(world, case)
    world.traveller.move_to(london(2026, 11, 29, 11, 30))
    transfer(world, django_capture_on_commit_callbacks)
    case = fresh(case)
    assert case.prison == world.south and case.status == CaseStatus.OPEN
    (made,) = ReviewDemand.objects.filter(case=case)
    assert (made.reason, clock.local(made.demanded_at), clock.local(made.due_at)) == (
        DemandReason.TRANSFER_IN,
        london(2026, 11, 29, 11, 30),
        london(2026, 11, 30, 11, 30),
    )
    assert StaffTask.objects.filter(kind=TaskKind.REVIEW_DUE, prison=world.south).count() == 1
    # The receiving prison sees the case; the sending prison no longer does.
    summary = selectors.case_summary_for(world.south_manager, "A1234BC")
    assert summary.case == case and summary.due(DueKind.DEMANDED_REVIEW) is not None
    with pytest.raises(NotFound):
        selectors.case_summary_for(world.manager, "A1234BC")
    # The event delivered again (at least once) changes nothing.
    movement = Movement.objects.filter(prisoner=world.person, kind="TRN_IN").get()
    move_case_with_person(
        sender=None,
        prisoner=world.person,
        from_prison=world.north,
        to_prison=world.south,
        movement=movement,
        occurred_at=movement.occurred_at,
    )
    assert ReviewDemand.objects.filter(case=case).count() == 1


def test_a_case_in_post_closure_moves_without_a_review_demand(
    world, django_capture_on_commit_callbacks
):
    case = open_case(world)
    first_review(world, case)
    close_at_review(world, case)
    transfer(world, django_capture_on_commit_callbacks)
    case = fresh(case)
    assert (case.prison, case.status) == (world.south, CaseStatus.POST_CLOSURE)
    assert ReviewDemand.objects.count() == 0


def test_transfer_without_an_acct_changes_nothing(world, django_capture_on_commit_callbacks):
    transfer(world, django_capture_on_commit_callbacks)
    assert ReviewDemand.objects.count() == 0
