"""A person released with a live ACCT: the case closes at the release, no post-closure review is
due, HA or HA1 becomes HA2, the releasing prison's safer custody team is told to pass on the risk
information, and no timer fires for the case afterwards. Frozen clock, exact values."""

from saferprisons.acct import events, services
from saferprisons.acct.constants import CaseStatus, TaskKind
from saferprisons.acct.models import CaseTransition, StaffTask
from saferprisons.acct.selectors import estate_overdue_now
from saferprisons.people import services as people_services
from saferprisons.people.models import PersonAlert

from .conftest import close_at_review, first_review, fresh, london, open_case, settle


def release(world, capture):
    with capture(execute=True):
        people_services.release_prisoner(actor=world.manager, prisoner=world.person)


def active_codes(person) -> list[str]:
    return sorted(
        PersonAlert.objects.filter(prisoner=person, ended_at__isnull=True).values_list(
            "alert_code__code", flat=True
        )
    )


def test_an_open_acct_closes_when_the_person_is_released(
    world, django_capture_on_commit_callbacks, heard
):
    case = open_case(world)
    settle(world, case)
    first_review(world, case)
    closed = heard(events.acct_closed)
    world.traveller.move_to(london(2026, 11, 29, 10, 15))
    release(world, django_capture_on_commit_callbacks)

    case = fresh(case)
    assert case.status == CaseStatus.CLOSED
    assert case.closed_at == london(2026, 11, 29, 10, 15)
    assert case.next_due_at is None
    transition = CaseTransition.objects.filter(case=case).latest("at")
    assert (transition.from_status, transition.to_status, transition.reason) == (
        CaseStatus.OPEN,
        CaseStatus.CLOSED,
        "Released from custody",
    )
    assert active_codes(world.person) == ["HA2"]
    task = StaffTask.objects.get(case=case, kind=TaskKind.CLOSED_ON_RELEASE)
    assert task.prison == world.north and task.due_at == london(2026, 11, 29, 10, 15)
    assert task.title.startswith(f"ACCT {case.log_number} (A1234BC) closed on release from HMP")
    assert [call["status"] for call in closed.calls] == [CaseStatus.CLOSED]
    # The receiver running again (a retried delivery) changes nothing.
    again = services.close_case_on_release(
        prisoner=world.person, from_prison=world.north, released_at=london(2026, 11, 29, 10, 20)
    )
    assert again is None and StaffTask.objects.filter(kind=TaskKind.CLOSED_ON_RELEASE).count() == 1
    # Nothing is due for a released person, now or later.
    world.traveller.move_to(london(2026, 12, 15, 10, 0))
    assert [row for row in estate_overdue_now().rows if row.log_number == case.log_number] == []
    assert services.check_observation_overdue(case_id=case.public_id) is None


def test_a_case_in_post_closure_closes_on_release_keeping_its_closing_time(
    world, django_capture_on_commit_callbacks
):
    case = open_case(world)
    settle(world, case)
    first_review(world, case)
    world.traveller.move_to(london(2026, 11, 29, 9, 0))
    close_at_review(world, case)
    world.traveller.move_to(london(2026, 11, 30, 14, 0))
    release(world, django_capture_on_commit_callbacks)
    case = fresh(case)
    assert case.status == CaseStatus.CLOSED
    assert case.closed_at == london(2026, 11, 29, 9, 0)
    assert active_codes(world.person) == ["HA2"]


def test_releasing_someone_never_on_an_acct_or_twice_changes_nothing_more(
    world, django_capture_on_commit_callbacks
):
    release(world, django_capture_on_commit_callbacks)
    assert not StaffTask.objects.exists()
    case_person = world.south_person
    assert (
        services.close_case_on_release(
            prisoner=case_person, from_prison=world.south, released_at=london(2026, 11, 28, 9, 0)
        )
        is None
    )  # still in prison: nothing to do
