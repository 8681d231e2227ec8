"""AcctCase.next_due_at: the earliest due time of anything outstanding, written by every service
in its own transaction, recomputed by ``acct_recompute_due``; and the estate query that finds
overdue cases by it, checked against the full computation over every live case."""

from datetime import timedelta
from io import StringIO

from django.core.management import call_command

from saferprisons.acct import services
from saferprisons.acct.constants import CaseStatus, DemandReason, EntryKind
from saferprisons.acct.models import AcctCase, CaseEntry
from saferprisons.acct.rules import Supervision
from saferprisons.core import clock
from saferprisons.people import services as people_services

from .conftest import (
    DEFAULT_PLAN,
    START,
    close_at_review,
    first_review,
    fresh,
    london,
    open_case,
    raise_concern,
    settle,
)
from .reference import (
    estate_overdue_reference,
    estate_overdue_selector,
)


def next_due(case):
    value = AcctCase.objects.values_list("next_due_at", flat=True).get(pk=case.pk)
    return None if value is None else clock.local(value)


def observe(world, case, at, *, kind=EntryKind.OBSERVATION, seen=True):
    return services.record_entry(
        actor=world.officer,
        case=case,
        kind=kind,
        occurred_at=at,
        seen_or_spoken_to=seen,
        presentation="Calm",
    )


def test_next_due_at_after_each_kind_of_action(world):
    w = world
    # Opened at 09:00: the IAP is due within the hour.
    case = open_case(w)
    assert next_due(case) == london(2026, 11, 28, 10, 0)

    # The IAP at 09:20 (no interim plan): next, the assessment and first review, 24 h after.
    w.traveller.move_to(london(2026, 11, 28, 9, 20))
    services.record_iap(actor=w.officer, case=case, plan="Keep safe")
    assert next_due(case) == london(2026, 11, 29, 9, 0)
    w.traveller.move_to(london(2026, 11, 28, 9, 30))
    services.record_assessment(actor=w.nurse, case=case, summary="Assessed")
    assert next_due(case) == london(2026, 11, 29, 9, 0)  # the first review is still due then

    # The first review at 10:00 sets hourly observations: the first is due at 11:00 (two
    # conversations by day, every 6 hours: 16:00; the next review on the 30th).
    w.traveller.move_to(london(2026, 11, 28, 10, 0))
    first_review(w, case, supervision=DEFAULT_PLAN)
    assert next_due(case) == london(2026, 11, 28, 11, 0)

    # An observation at 10:40: the next is due at 11:40. One where he was not seen moves nothing.
    w.traveller.move_to(london(2026, 11, 28, 10, 55))
    observe(w, case, london(2026, 11, 28, 10, 40))
    assert next_due(case) == london(2026, 11, 28, 11, 40)
    unseen = observe(w, case, london(2026, 11, 28, 10, 50), seen=False)
    assert next_due(case) == london(2026, 11, 28, 11, 40)
    # A correction saying he was seen after all moves it to 11:50.
    services.correct_entry(
        actor=w.officer, entry=unseen, presentation="Seen, asleep", seen_or_spoken_to=True
    )
    assert CaseEntry.objects.filter(corrects=unseen).exists()
    assert next_due(case) == london(2026, 11, 28, 11, 50)

    # Self-harm on an open ACCT demands a review at once.
    w.traveller.move_to(london(2026, 11, 28, 11, 5))
    services.demand_review(actor=w.officer, case=case, reason=DemandReason.SELF_HARM)
    assert next_due(case) == london(2026, 11, 28, 11, 5)

    # Closed at a review at 11:30: the post-closure review is due 7 days later.
    w.traveller.move_to(london(2026, 11, 28, 11, 30))
    close_at_review(w, case)
    assert fresh(case).status == CaseStatus.POST_CLOSURE
    assert next_due(case) == london(2026, 12, 5, 11, 30)

    # The post-closure review completed: nothing is due.
    w.traveller.move_to(london(2026, 11, 28, 12, 0))
    services.complete_post_closure_review(
        actor=w.manager, case=case, expected_version=fresh(case).version, notes="Settled"
    )
    assert fresh(case).status == CaseStatus.CLOSED
    assert next_due(case) is None

    # Reopened at 13:00: a new period, whose IAP is due at 14:00 (the old plan is not in force).
    w.traveller.move_to(london(2026, 11, 28, 13, 0))
    services.reopen_case(actor=w.manager, case=case, reason="Low mood again")
    assert next_due(case) == london(2026, 11, 28, 14, 0)
    # A concern recorded on the open case moves nothing.
    w.traveller.move_to(london(2026, 11, 28, 13, 10))
    raise_concern(w.officer, w.person)
    assert next_due(case) == london(2026, 11, 28, 14, 0)


def test_a_concern_reopens_a_case_in_post_closure_with_its_own_deadlines(world):
    case = open_case(world)
    first_review(world, case)
    close_at_review(world, case)
    assert next_due(case) == london(2026, 12, 5, 9, 0)
    world.traveller.move_to(london(2026, 11, 30, 16, 45))
    raise_concern(world.officer, world.person)
    assert fresh(case).status == CaseStatus.OPEN
    assert next_due(case) == london(2026, 11, 30, 17, 45)


def test_a_transfer_demands_a_review_and_moves_the_next_due_time(
    world, django_capture_on_commit_callbacks
):
    case = open_case(world)
    settle(world, case)
    # Constant supervision (always due, never overdue), no conversations: only the next review.
    first_review(
        world,
        case,
        supervision=Supervision(constant=True),
        next_review_at=START + timedelta(days=3),
    )
    assert next_due(case) == london(2026, 12, 1, 9, 0)
    world.traveller.move_to(london(2026, 11, 29, 11, 30))
    with django_capture_on_commit_callbacks(execute=True):
        people_services.transfer_prisoner(
            actor=world.manager, prisoner=world.person, to_prison=world.south, reason="Court"
        )
    assert fresh(case).prison == world.south
    # The review demanded on arrival is due within 24 hours.
    assert next_due(case) == london(2026, 11, 30, 11, 30)


def test_interim_supervision_with_the_iap(world):
    case = open_case(world)
    world.traveller.move_to(london(2026, 11, 28, 9, 20))
    services.record_iap(actor=world.officer, case=case, plan="Keep safe", supervision=DEFAULT_PLAN)
    assert next_due(case) == london(2026, 11, 28, 10, 20)  # the first observation of the plan


def test_the_recompute_command_fixes_stored_values_and_follows_the_timings(world, settings):
    case = open_case(world)  # IAP due 10:00
    other = fresh(raise_concern(world.south_manager, world.south_person).case)
    AcctCase.objects.filter(pk=case.pk).update(next_due_at=START + timedelta(days=30))
    # A case no longer live with a value left over is cleared.
    AcctCase.objects.filter(pk=other.pk).update(
        status=CaseStatus.CLOSED, closed_at=START, next_due_at=START
    )
    out = StringIO()
    call_command("acct_recompute_due", stdout=out)
    assert next_due(case) == london(2026, 11, 28, 10, 0)
    assert next_due(other) is None
    assert "Checked 1 live ACCTs: 1 next due times changed, 1 cleared" in out.getvalue()
    call_command("acct_recompute_due", stdout=out)
    assert "Checked 1 live ACCTs: 0 next due times changed, 0 cleared" in out.getvalue()

    # A shorter IAP timing: until recomputed, the estate query misses the IAP now overdue
    # (a longer one would do no harm: the rules run again on every case the query reads).
    settings.ACCT_IAP_HOURS = 0.5
    moment = london(2026, 11, 28, 9, 45)
    assert estate_overdue_selector(moment)[0] == []
    call_command("acct_recompute_due", "--batch-size", "1", stdout=StringIO())
    assert next_due(case) == london(2026, 11, 28, 9, 30)
    assert estate_overdue_selector(moment) == estate_overdue_reference(moment)
    assert [row[3] for row in estate_overdue_reference(moment)[0]] == ["IAP"]
