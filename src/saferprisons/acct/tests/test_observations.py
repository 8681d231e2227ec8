"""Observations and conversations, corrections, health entries, and the overdue reminder."""

from datetime import timedelta

import pytest

from saferprisons.acct import events, rules, selectors, services
from saferprisons.acct.constants import (
    JOB_OBSERVATION_OVERDUE,
    DueKind,
    EntryKind,
    TaskAudience,
    TaskKind,
)
from saferprisons.acct.models import CaseEntry, StaffTask
from saferprisons.acct.rules import Supervision
from saferprisons.acct.tasks import observation_overdue_check
from saferprisons.core import clock
from saferprisons.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from saferprisons.jobs import worker
from saferprisons.jobs.constants import JobStatus, RunOutcome
from saferprisons.jobs.models import Job

from .conftest import START, first_review, fresh, london, open_case


def observe(world, case, at, actor=None, seen=True, **kwargs):
    return services.record_entry(
        actor=actor or world.officer,
        case=case,
        kind=kwargs.pop("kind", EntryKind.OBSERVATION),
        occurred_at=at,
        seen_or_spoken_to=seen,
        presentation=kwargs.pop("presentation", "Lying on bed, awake, said he was OK"),
        **kwargs,
    )


def due(world, kind, actor=None):
    return selectors.case_summary_for(actor or world.officer, "A1234BC").due(kind)


def overdue_jobs():
    return Job.objects.filter(kind=JOB_OBSERVATION_OVERDUE).order_by("due_at")


def test_observations_move_the_due_time_and_queue_a_check_each_time(world):
    case = open_case(world)
    first_review(world, case)  # hourly from 09:00
    assert [(clock.local(j.due_at), j.status) for j in overdue_jobs()] == [
        (london(2026, 11, 28, 10, 1), JobStatus.QUEUED)
    ]
    world.traveller.move_to(london(2026, 11, 28, 9, 50))
    observe(world, case, london(2026, 11, 28, 9, 45))
    assert clock.local(due(world, DueKind.OBSERVATION).due_at) == london(2026, 11, 28, 10, 45)
    assert [clock.local(j.due_at) for j in overdue_jobs()] == [
        london(2026, 11, 28, 10, 1),
        london(2026, 11, 28, 10, 46),
    ]
    job = overdue_jobs().last()
    assert str(case.public_id) in job.dedupe_key and "10:45" in job.dedupe_key
    # Recording one more observation for the same minute queues nothing new (dedupe).
    observe(world, case, london(2026, 11, 28, 9, 45))
    assert overdue_jobs().count() == 2


def test_a_conversation_and_an_unseen_check_do_not_count_as_an_observation(world):
    case = open_case(world)
    first_review(world, case)
    world.traveller.move_to(london(2026, 11, 28, 9, 30))
    observe(world, case, clock.now(), kind=EntryKind.CONVERSATION)
    observe(world, case, clock.now(), seen=False, concerns="Curtain across the door")
    assert clock.local(due(world, DueKind.OBSERVATION).due_at) == london(2026, 11, 28, 10, 0)
    assert clock.local(due(world, DueKind.CONVERSATION).due_at) == london(2026, 11, 28, 15, 30)


def test_observation_in_the_future_is_refused_and_changes_nothing(world):
    case = open_case(world)
    first_review(world, case)
    jobs = Job.objects.count()
    with pytest.raises(ValidationFailed, match="observation cannot be in the future"):
        observe(world, case, START + timedelta(minutes=1))
    with pytest.raises(ValidationFailed, match="before the ACCT was opened"):
        observe(world, case, START - timedelta(minutes=1))
    with pytest.raises(ValidationFailed, match="how the person presented"):
        observe(world, case, START, presentation="")
    with pytest.raises(ValidationFailed, match="observation or conversation"):
        observe(world, case, START, kind="GLANCE")
    assert CaseEntry.objects.count() == 0 and Job.objects.count() == jobs


def test_another_prisons_staff_cannot_record_entries(world):
    case = open_case(world)
    with pytest.raises(NotFound):
        observe(world, case, START, actor=world.south_manager)
    with pytest.raises(PermissionDenied):
        observe(world, case, START, actor=world.auditor)
    assert CaseEntry.objects.count() == 0


def test_corrections_are_new_entries_pointing_at_the_old_one(world):
    case = open_case(world)
    first_review(world, case)
    world.traveller.move_to(london(2026, 11, 28, 9, 30))
    original = observe(world, case, london(2026, 11, 28, 9, 20), presentation="Asleep")
    world.traveller.move_to(london(2026, 11, 28, 9, 40))
    correction = services.correct_entry(
        actor=world.manager, entry=original, presentation="Awake, reading"
    )
    original.refresh_from_db()
    assert original.presentation == "Asleep"
    assert (correction.corrects, correction.kind, correction.occurred_at) == (
        original,
        EntryKind.OBSERVATION,
        london(2026, 11, 28, 9, 20),
    )
    assert correction.recorded_at == london(2026, 11, 28, 9, 40)
    timeline = selectors.case_timeline(world.officer, "A1234BC")
    assert [i.title for i in timeline if i.kind == "entry"] == [
        "Observation",
        "Observation (correction)",
    ]
    # The due time is unchanged: a correction does not add an observation.
    assert clock.local(due(world, DueKind.OBSERVATION).due_at) == london(2026, 11, 28, 10, 20)


def test_health_entries_are_for_healthcare_only(world):
    case = open_case(world)
    first_review(world, case)
    with pytest.raises(PermissionDenied, match="healthcare"):
        observe(world, case, START, health=True)
    entry = observe(world, case, START, actor=world.nurse, health=True, concerns="Medication")
    observe(world, case, START, presentation="Calm")
    for_officer = selectors.case_timeline(world.officer, "A1234BC")
    for_nurse = selectors.case_timeline(world.nurse, "A1234BC")
    assert len([i for i in for_officer if i.kind == "entry"]) == 1
    assert len([i for i in for_nurse if i.kind == "entry"]) == 2
    with pytest.raises(NotFound):
        selectors.get_entry(world.officer, case, entry.public_id)
    assert selectors.get_entry(world.nurse, case, entry.public_id) == entry
    with pytest.raises(NotFound):
        services.correct_entry(actor=world.officer, entry=entry, presentation="x")


def test_entries_only_on_an_open_case(world):
    case = open_case(world)
    first_review(world, case)
    services.hold_review(
        actor=world.manager,
        case=case,
        expected_version=fresh(case).version,
        attendees=[
            services.Attendee("MANAGER", user=world.manager),
            services.Attendee("PSYCHOLOGY", user=world.psychologist),
        ],
        risk_level="LOW",
        close=True,
        closure_reason="Better",
    )
    with pytest.raises(Conflict, match="post-closure"):
        observe(world, case, START)


# --- The overdue reminder ----------------------------------------------------------------------


def test_no_reminder_when_an_observation_came_in_time(world):
    case = open_case(world)
    first_review(world, case)
    world.traveller.move_to(london(2026, 11, 28, 10, 0))
    observe(world, case, clock.now())  # in the due minute: on time
    world.traveller.move_to(london(2026, 11, 28, 10, 2))
    (first_job,) = worker.claim_due_jobs("w1")
    assert worker.run_job(first_job.pk, first_job.token) == RunOutcome.SUCCEEDED
    assert StaffTask.objects.filter(kind=TaskKind.OBSERVATION_OVERDUE).count() == 0


def test_constant_supervision_queues_no_reminder(world):
    case = open_case(world)
    first_review(world, case, supervision=Supervision(constant=True, day_conversations=0))
    assert overdue_jobs().count() == 0
    item = due(world, DueKind.OBSERVATION)
    assert item.always and not item.overdue


def test_overdue_reminder_is_created_exactly_once_across_a_worker_restart(
    world, settings, django_capture_on_commit_callbacks, heard
):
    overdue = heard(events.observation_overdue)
    case = open_case(world)
    first_review(world, case)  # hourly from 09:00: due by 10:00, checked at 10:01
    (job,) = overdue_jobs()
    assert clock.local(job.due_at) == london(2026, 11, 28, 10, 1)

    world.traveller.move_to(london(2026, 11, 28, 10, 5))
    with django_capture_on_commit_callbacks(execute=True):
        # Worker 1 claims the job and does the work, then dies before recording the result.
        (claimed,) = worker.claim_due_jobs("w1")
        observation_overdue_check(claimed.payload, claimed)
        assert StaffTask.objects.filter(kind=TaskKind.OBSERVATION_OVERDUE).count() == 1

        # The sweeper notices the stale claim and puts the job back; worker 2 runs it again.
        world.traveller.shift(timedelta(seconds=settings.WORKER_STALE_AFTER_SECONDS + 1))
        assert worker.sweep_stale() == 1
        (again,) = worker.claim_due_jobs("w2")
        assert again.pk == claimed.pk and again.token != claimed.token
        assert worker.run_job(again.pk, again.token) == RunOutcome.SUCCEEDED

        # Worker 1 comes back with its old claim: its run changes nothing.
        assert worker.run_job(claimed.pk, claimed.token) == RunOutcome.SKIPPED
        # A duplicate delivery of the same job is a no-op too.
        observation_overdue_check(again.payload, again)

    (task,) = StaffTask.objects.filter(kind=TaskKind.OBSERVATION_OVERDUE)
    assert (task.case, task.audience, task.wing_path, task.prison) == (
        fresh(case),
        TaskAudience.WING_MANAGER,
        "A",
        world.north,
    )
    assert clock.local(task.due_at) == london(2026, 11, 28, 10, 0)
    assert "A1234BC" in task.title and "10:00" in task.title
    assert len(overdue.calls) == 1 and overdue.calls[0]["task"] == task
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED

    # The board shows it overdue, and a task for the manager is open.
    row = selectors.wing_board(world.manager, world.north).rows[0]
    assert [i.kind for i in row.overdue] == [DueKind.IAP, DueKind.OBSERVATION]
    assert row.urgency == rules.Urgency.OBSERVATION_OVERDUE
    assert selectors.open_tasks(world.manager, world.north, audience="WING_MANAGER") == [task]

    # Completing the task twice is a no-op; an officer cannot complete it.
    with pytest.raises(PermissionDenied):
        services.complete_task(actor=world.officer, task=task)
    services.complete_task(actor=world.manager, task=task)
    services.complete_task(actor=world.manager, task=task)
    task.refresh_from_db()
    assert task.done_by == world.manager


def test_a_later_overdue_period_gets_its_own_reminder(world):
    case = open_case(world)
    first_review(world, case)
    world.traveller.move_to(london(2026, 11, 28, 10, 5))
    services.check_observation_overdue(case_id=case.public_id)
    observe(world, case, clock.now())  # seen at 10:05: next due 11:05
    world.traveller.move_to(london(2026, 11, 28, 11, 10))
    services.check_observation_overdue(case_id=case.public_id)
    services.check_observation_overdue(case_id=case.public_id)
    assert [
        clock.local(t.due_at)
        for t in StaffTask.objects.filter(kind=TaskKind.OBSERVATION_OVERDUE).order_by("due_at")
    ] == [london(2026, 11, 28, 10, 0), london(2026, 11, 28, 11, 5)]


def test_bad_payload_fails_for_good(world):
    from saferprisons.jobs.errors import PermanentFailure

    with pytest.raises(PermanentFailure):
        observation_overdue_check({"case": "nonsense"}, None)


def test_the_check_is_a_no_op_for_a_released_person_or_an_unknown_case(world):
    import uuid

    from saferprisons.people import services as people_services

    case = open_case(world)
    first_review(world, case)
    people_services.release_prisoner(actor=world.manager, prisoner=world.person)
    world.traveller.move_to(london(2026, 11, 28, 11, 0))
    assert services.check_observation_overdue(case_id=case.public_id) is None
    assert services.check_observation_overdue(case_id=uuid.uuid4()) is None
    assert StaffTask.objects.filter(kind=TaskKind.OBSERVATION_OVERDUE).count() == 0


def test_a_time_typed_to_the_minute_of_opening_counts_in_the_acct(world):
    # Opened at 09:00:30; the form sends 09:00 (times are typed to the minute).
    world.traveller.move_to(START + timedelta(seconds=30))
    case = open_case(world)
    world.traveller.move_to(START + timedelta(minutes=2))
    entry = observe(world, case, START)
    assert entry.occurred_at == START + timedelta(seconds=30)
    plan = services.record_iap(actor=world.officer, case=case, plan="Keep safe", recorded_at=START)
    assert plan.recorded_at == START + timedelta(seconds=30)
    assert due(world, DueKind.IAP) is None  # the IAP counts in this ACCT
    # A minute earlier is still refused, and nothing is written.
    entries = CaseEntry.objects.count()
    with pytest.raises(ValidationFailed, match="cannot be before the ACCT was opened"):
        observe(world, case, START - timedelta(minutes=1))
    assert CaseEntry.objects.count() == entries
