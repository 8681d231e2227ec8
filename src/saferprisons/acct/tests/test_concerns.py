"""Concern and Keep Safe: opening, recording on an open case, reopening, and refusals."""

from datetime import timedelta

import pytest
from django.core import mail

from saferprisons.acct import events, selectors, services
from saferprisons.acct.constants import CaseStatus, ConcernEffect, TaskAudience, TaskKind
from saferprisons.acct.models import AcctCase, CaseTransition, Concern, StaffTask
from saferprisons.audit.models import AuditEvent
from saferprisons.conftest import admit
from saferprisons.core.errors import NotFound, PermissionDenied, ValidationFailed
from saferprisons.people.models import CaseNote, PersonAlert

from .conftest import START, close_at_review, first_review, fresh, london, raise_concern


def active_alerts(person) -> set[str]:
    return set(
        PersonAlert.objects.filter(prisoner=person, ended_at__isnull=True).values_list(
            "alert_code__code", flat=True
        )
    )


def test_a_wing_officer_opens_an_acct(world, settings, django_capture_on_commit_callbacks, heard):
    settings.ACCT_SAFER_CUSTODY_EMAILS = {"ZNA": ["safer.custody@northfold.example"]}
    opened = heard(events.acct_opened)
    with django_capture_on_commit_callbacks(execute=True):
        concern = raise_concern(world.officer, world.person, source="PERSONS_OWN_WORDS")

    case = fresh(concern.case)
    assert concern.effect == ConcernEffect.OPENED
    assert (case.log_number, case.status, case.prison, case.opened_at) == (
        "ZNA-2026-0001",
        CaseStatus.OPEN,
        world.north,
        START,
    )
    assert case.period_started_at == START and case.closed_at is None
    transition = CaseTransition.objects.get(case=case)
    assert (transition.from_status, transition.to_status, transition.concern) == (
        "",
        CaseStatus.OPEN,
        concern,
    )
    note = CaseNote.objects.get(prisoner=world.person, note_type="SAFER")
    assert "ZNA-2026-0001" in note.text and note.author == world.officer
    assert active_alerts(world.person) == {"HA"}
    task = StaffTask.objects.get(case=case)
    assert (task.kind, task.audience, task.prison, task.due_at) == (
        TaskKind.ACCT_OPENED,
        TaskAudience.SAFER_CUSTODY,
        world.north,
        START,
    )
    assert task.wing_path == "A"
    (email,) = mail.outbox
    assert email.to == ["safer.custody@northfold.example"]
    assert "ZNA-2026-0001" in email.subject
    # Data minimisation: the e-mail names neither the person nor their number.
    assert "Brightwater" not in email.body and "A1234BC" not in email.body
    assert [call["case"].pk for call in opened.calls] == [case.pk]
    assert AuditEvent.objects.filter(
        object_type="acct_case", object_id=str(case.public_id)
    ).exists()


def test_nothing_is_sent_before_commit(world, settings, heard):
    settings.ACCT_SAFER_CUSTODY_EMAILS = {"ZNA": ["safer.custody@northfold.example"]}
    opened = heard(events.acct_opened)
    raise_concern(world.officer, world.person)  # the test's transaction never commits
    assert mail.outbox == [] and opened.calls == []


def test_no_email_without_configured_addresses(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        raise_concern(world.officer, world.person)
    assert mail.outbox == []
    assert StaffTask.objects.count() == 1  # in-app always


def test_a_second_concern_is_recorded_on_the_open_case(world):
    case = fresh(raise_concern(world.officer, world.person).case)
    world.traveller.shift(timedelta(hours=3))
    second = raise_concern(world.nurse, world.person, source="FAMILY")
    assert second.case_id == case.pk and second.effect == ConcernEffect.RECORDED
    assert AcctCase.objects.count() == 1
    assert fresh(case).log_number == "ZNA-2026-0001"
    assert StaffTask.objects.count() == 1
    assert CaseNote.objects.filter(prisoner=world.person).count() == 1


def test_log_numbers_count_per_prison_and_per_year(world, traveller):
    second = admit(world.manager, world.north, "C3456DE")
    assert fresh(raise_concern(world.officer, world.person).case).log_number == "ZNA-2026-0001"
    assert fresh(raise_concern(world.officer, second).case).log_number == "ZNA-2026-0002"
    south = fresh(raise_concern(world.south_manager, world.south_person).case)
    assert south.log_number == "ZSO-2026-0001"
    traveller.move_to(london(2027, 1, 1, 0, 10))
    third = admit(world.manager, world.north, "D4567EF")
    assert fresh(raise_concern(world.officer, third).case).log_number == "ZNA-2027-0001"


def test_london_new_year_decides_the_year(world, traveller):
    traveller.move_to(london(2026, 12, 31, 23, 59))
    assert fresh(raise_concern(world.officer, world.person).case).log_number == "ZNA-2026-0001"


def test_reopening_keeps_one_case_and_its_log_number(
    world, django_capture_on_commit_callbacks, heard
):
    case = fresh(raise_concern(world.officer, world.person).case)
    first_review(world, case)
    world.traveller.shift(timedelta(days=2))
    close_at_review(world, case)
    assert active_alerts(world.person) == {"HA1"}
    world.traveller.shift(timedelta(days=2))
    reopened = heard(events.acct_reopened)
    with django_capture_on_commit_callbacks(execute=True):
        concern = raise_concern(world.officer, world.person)
    case = fresh(case)
    assert concern.effect == ConcernEffect.REOPENED and concern.case_id == case.pk
    assert (case.status, case.log_number, case.closed_at) == (
        CaseStatus.OPEN,
        "ZNA-2026-0001",
        None,
    )
    assert case.period_started_at == START + timedelta(days=4)
    assert AcctCase.objects.count() == 1
    assert active_alerts(world.person) == {"HA"}
    assert [t.to_status for t in CaseTransition.objects.filter(case=case)] == [
        CaseStatus.OPEN,
        CaseStatus.POST_CLOSURE,
        CaseStatus.OPEN,
    ]
    assert StaffTask.objects.filter(case=case, kind=TaskKind.ACCT_REOPENED).count() == 1
    assert [call["concern"] for call in reopened.calls] == [concern]


def test_a_closed_case_reopens_too(world):
    case = fresh(raise_concern(world.officer, world.person).case)
    first_review(world, case)
    close_at_review(world, case)
    services.complete_post_closure_review(
        actor=world.manager, case=case, expected_version=fresh(case).version, notes="Doing well"
    )
    assert fresh(case).status == CaseStatus.CLOSED and active_alerts(world.person) == {"HA2"}
    concern = raise_concern(world.security, world.person)
    assert concern.effect == ConcernEffect.REOPENED
    assert fresh(case).status == CaseStatus.OPEN and active_alerts(world.person) == {"HA"}
    assert AcctCase.objects.count() == 1


def test_another_prisons_person_is_not_found_and_nothing_changes(world):
    with pytest.raises(NotFound):
        raise_concern(world.officer, world.south_person)
    assert (AcctCase.objects.count(), Concern.objects.count(), StaffTask.objects.count()) == (
        0,
        0,
        0,
    )


@pytest.mark.parametrize("who", ["auditor", "analyst", "admin"])
def test_staff_who_do_not_see_people_cannot_raise_concerns(world, who):
    with pytest.raises(PermissionDenied):
        raise_concern(getattr(world, who), world.person)
    assert AcctCase.objects.count() == 0


def test_bad_concerns_are_refused_and_change_nothing(world):
    base = {
        "actor": world.officer,
        "prisoner": world.person,
        "source": "STAFF_OBSERVATION",
        "seen_or_heard": "Seen",
        "immediate_risk": "Risk",
        "action_taken": "Action",
    }
    for change, message in [
        ({"source": "RUMOUR"}, "where the concern came from"),
        ({"seen_or_heard": "   "}, "Enter what was seen or heard"),
        ({"immediate_risk": "x" * 1001}, "1000 characters or fewer"),
        ({"action_taken": ""}, "Enter what was done"),
    ]:
        with pytest.raises(ValidationFailed, match=message):
            services.raise_concern(**{**base, **change})
    assert AcctCase.objects.count() == 0 and PersonAlert.objects.count() == 0


def test_every_grade_may_raise_a_concern(world):
    for actor in (world.officer, world.security, world.psychologist, world.governor):
        raise_concern(actor, world.person)
    assert Concern.objects.count() == 4 and AcctCase.objects.count() == 1


def test_opening_is_visible_in_the_summary(world):
    raise_concern(world.officer, world.person)
    summary = selectors.case_summary_for(world.officer, "A1234BC")
    assert summary.case.log_number == "ZNA-2026-0001"
