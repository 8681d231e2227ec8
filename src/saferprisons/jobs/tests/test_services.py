from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from saferprisons.audit.models import AuditEvent
from saferprisons.core.errors import Conflict
from saferprisons.jobs import services
from saferprisons.jobs.constants import JobStatus
from saferprisons.jobs.errors import UnknownJobKind
from saferprisons.jobs.models import Job

from .conftest import START

pytestmark = pytest.mark.django_db


def test_enqueue_defaults_to_due_now_with_the_configured_attempts(calls, clock_at_start, settings):
    settings.JOB_DEFAULT_MAX_ATTEMPTS = 3
    job = services.enqueue(kind="test.ok", payload={"n": 1})
    job.refresh_from_db()
    assert (job.status, job.due_at, job.created_at) == (JobStatus.QUEUED, START, START)
    assert (job.attempts, job.max_attempts, job.payload) == (0, 3, {"n": 1})


def test_enqueue_with_the_same_dedupe_key_returns_the_queued_job(calls, clock_at_start):
    first = services.enqueue(kind="test.ok", payload={"n": 1}, dedupe_key="acct:42:review")
    again = services.enqueue(
        kind="test.ok",
        payload={"n": 2},
        dedupe_key="acct:42:review",
        due_at=START + timedelta(hours=1),
    )
    assert again.pk == first.pk
    assert (again.payload, again.due_at) == ({"n": 1}, START)
    assert Job.objects.count() == 1


def test_enqueue_with_the_dedupe_key_of_a_running_job_returns_it(calls, clock_at_start):
    first = services.enqueue(kind="test.ok", dedupe_key="k")
    Job.objects.filter(pk=first.pk).update(
        status=JobStatus.RUNNING, claimed_by="w", claimed_at=START, attempts=1
    )
    assert services.enqueue(kind="test.ok", dedupe_key="k").pk == first.pk


@pytest.mark.parametrize("finished", [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED])
def test_a_finished_job_does_not_block_its_dedupe_key(calls, clock_at_start, finished):
    first = services.enqueue(kind="test.ok", dedupe_key="k")
    Job.objects.filter(pk=first.pk).update(status=finished)
    second = services.enqueue(kind="test.ok", dedupe_key="k")
    assert second.pk != first.pk
    assert second.status == JobStatus.QUEUED


def test_jobs_without_a_dedupe_key_are_never_merged(calls, clock_at_start):
    services.enqueue(kind="test.ok")
    services.enqueue(kind="test.ok")
    assert Job.objects.count() == 2


def test_the_database_refuses_a_second_active_job_with_the_same_key(calls, clock_at_start):
    services.enqueue(kind="test.ok", dedupe_key="k")
    with pytest.raises(IntegrityError), transaction.atomic():
        Job.objects.create(kind="test.ok", dedupe_key="k", max_attempts=5)


def test_enqueue_refuses_an_unknown_kind(calls):
    with pytest.raises(UnknownJobKind, match="'test.typo'"):
        services.enqueue(kind="test.typo")
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"due_at": START.replace(tzinfo=None)}, "timezone-aware"),
        ({"max_attempts": 0}, "at least 1"),
        ({"dedupe_key": "k" * 201}, "longer than 200"),
    ],
)
def test_enqueue_refuses_bad_arguments(calls, arguments, message):
    with pytest.raises(ValueError, match=message):
        services.enqueue(kind="test.ok", **arguments)
    assert not Job.objects.exists()


def test_a_job_queued_in_a_rolled_back_transaction_is_gone_too(calls):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.enqueue(kind="test.ok")
        raise RuntimeError("the caller's change failed")
    assert not Job.objects.exists()


def test_cancel_a_queued_job_is_audited(calls, clock_at_start):
    job = services.enqueue(kind="test.ok")
    cancelled = services.cancel(job=job)
    job.refresh_from_db()
    assert (job.status, job.finished_at) == (JobStatus.CANCELLED, START)
    assert cancelled.status == JobStatus.CANCELLED
    event = AuditEvent.objects.get(object_type="jobs.job", object_id=str(job.public_id))
    assert (event.before, event.after) == ({"status": "queued"}, {"status": "cancelled"})
    assert event.actor_label == "system"


def test_cancelling_twice_changes_nothing_more(calls, clock_at_start):
    job = services.enqueue(kind="test.ok")
    services.cancel(job=job)
    services.cancel(job=job)
    assert AuditEvent.objects.filter(object_type="jobs.job").count() == 1


def test_a_finished_job_cannot_be_cancelled(calls, clock_at_start):
    job = services.enqueue(kind="test.ok")
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED)
    with pytest.raises(Conflict, match="already succeeded"):
        services.cancel(job=job)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
