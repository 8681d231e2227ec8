from datetime import timedelta

import pytest

from saferprisons.audit.models import AuditEvent
from saferprisons.jobs import services, worker
from saferprisons.jobs.constants import JobStatus, RunOutcome
from saferprisons.jobs.errors import PermanentFailure
from saferprisons.jobs.models import Job

from .conftest import START

pytestmark = pytest.mark.django_db


def claim_one(worker_name="w1") -> Job:
    (job,) = worker.claim_due_jobs(worker_name, limit=1)
    return job


def audit_events_for(job) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(object_type="jobs.job", object_id=str(job.public_id)).order_by(
            "sequence"
        )
    )


# --- Claiming ----------------------------------------------------------------------------------


def test_claim_takes_due_jobs_in_due_order_and_marks_them_running(calls, clock_at_start):
    later = services.enqueue(kind="test.ok", due_at=START)
    earlier = services.enqueue(kind="test.ok", due_at=START - timedelta(seconds=10))
    future = services.enqueue(kind="test.ok", due_at=START + timedelta(seconds=1))
    queued_tokens = {later.pk: later.token, earlier.pk: earlier.token}

    claimed = worker.claim_due_jobs("w1", limit=10)

    assert [job.pk for job in claimed] == [earlier.pk, later.pk]
    for job in claimed:
        job.refresh_from_db()
        assert (job.status, job.attempts, job.claimed_by, job.claimed_at) == (
            JobStatus.RUNNING,
            1,
            "w1",
            START,
        )
        assert job.token != queued_tokens[job.pk]
    future.refresh_from_db()
    assert (future.status, future.attempts) == (JobStatus.QUEUED, 0)


def test_claim_respects_the_limit_and_never_claims_a_job_twice(calls, clock_at_start):
    for _ in range(3):
        services.enqueue(kind="test.ok")
    assert len(worker.claim_due_jobs("w1", limit=2)) == 2
    assert len(worker.claim_due_jobs("w2", limit=2)) == 1
    assert worker.claim_due_jobs("w3", limit=2) == []


def test_release_claim_hands_an_unstarted_job_back(calls, clock_at_start):
    services.enqueue(kind="test.ok")
    job = claim_one()
    assert worker.release_claim(job.pk, job.token)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.QUEUED, 0)
    assert not worker.release_claim(job.pk, job.token)


# --- Running -----------------------------------------------------------------------------------


def test_run_job_runs_the_handler_and_records_success(calls, clock_at_start):
    services.enqueue(kind="test.ok", payload={"prisoner": "A1234BC"})
    job = claim_one()
    clock_at_start.move_to(START + timedelta(seconds=2))

    assert worker.run_job(job.pk, job.token) is RunOutcome.SUCCEEDED

    job.refresh_from_db()
    assert (job.status, job.finished_at) == (JobStatus.SUCCEEDED, START + timedelta(seconds=2))
    assert calls.payloads == [{"prisoner": "A1234BC"}]


def test_a_finish_with_a_stale_token_is_a_no_op(calls, clock_at_start):
    services.enqueue(kind="test.ok")
    job = claim_one("w1")

    def reclaimed_by_another_worker_meanwhile(_job):
        clock_at_start.move_to(START + timedelta(seconds=31))
        worker.sweep_stale()
        claim_one("w2")

    calls.during_run = reclaimed_by_another_worker_meanwhile

    assert worker.run_job(job.pk, job.token) is RunOutcome.SKIPPED

    job.refresh_from_db()
    assert (job.status, job.claimed_by, job.attempts) == (JobStatus.RUNNING, "w2", 2)
    assert job.finished_at is None


def test_run_job_with_an_old_token_does_not_run_the_handler(calls, clock_at_start):
    services.enqueue(kind="test.ok")
    first_claim = claim_one("w1")
    worker.release_claim(first_claim.pk, first_claim.token)
    claim_one("w2")

    assert worker.run_job(first_claim.pk, first_claim.token) is RunOutcome.SKIPPED
    assert calls.payloads == []


def test_retries_back_off_to_exact_due_times_then_succeed(calls, clock_at_start):
    calls.failures_left = 3
    job = services.enqueue(kind="test.flaky", max_attempts=5)
    expected_due = [START + timedelta(seconds=s) for s in (5, 15, 35)]

    for attempt, due in enumerate(expected_due, start=1):
        claimed = claim_one()
        assert worker.run_job(claimed.pk, claimed.token) is RunOutcome.RETRY_SCHEDULED
        job.refresh_from_db()
        assert (job.status, job.attempts, job.due_at) == (JobStatus.QUEUED, attempt, due)
        assert job.last_error.startswith("RuntimeError: boom\n")
        clock_at_start.move_to(due - timedelta(microseconds=1))
        assert worker.claim_due_jobs("w1", limit=1) == []  # not before its due time
        clock_at_start.move_to(due)

    claimed = claim_one()
    assert worker.run_job(claimed.pk, claimed.token) is RunOutcome.SUCCEEDED
    job.refresh_from_db()
    assert (job.status, job.attempts, job.finished_at) == (
        JobStatus.SUCCEEDED,
        4,
        START + timedelta(seconds=35),
    )
    assert len(calls.payloads) == 4


def test_a_job_fails_for_good_after_max_attempts(calls, clock_at_start):
    calls.failures_left = 99
    job = services.enqueue(kind="test.flaky", max_attempts=3)
    outcomes = []
    for _ in range(3):
        claimed = claim_one()
        outcomes.append(worker.run_job(claimed.pk, claimed.token))
        clock_at_start.shift(timedelta(minutes=10))

    assert outcomes == [RunOutcome.RETRY_SCHEDULED, RunOutcome.RETRY_SCHEDULED, RunOutcome.FAILED]
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.FAILED, 3)
    assert job.finished_at == START + timedelta(minutes=20)
    assert job.last_error.startswith("RuntimeError: boom\n")
    assert worker.claim_due_jobs("w1", limit=1) == []
    (event,) = audit_events_for(job)
    assert (event.after, event.details["event"]) == ({"status": "failed"}, "failed")
    assert "boom" not in str(event.details)  # error text may quote personal data


def test_last_error_is_kept_to_2000_characters(register, clock_at_start):
    def shouts(payload, job):
        raise RuntimeError("x" * 10_000)

    register("test.shouts", shouts)
    services.enqueue(kind="test.shouts")
    job = claim_one()
    worker.run_job(job.pk, job.token)
    job.refresh_from_db()
    assert len(job.last_error) == 2000
    assert job.last_error.startswith("RuntimeError: xxx")


def test_a_permanent_failure_is_not_retried(register, clock_at_start):
    def refuses(payload, job):
        raise PermanentFailure("prisoner record no longer exists")

    register("test.refuses", refuses)
    job = services.enqueue(kind="test.refuses", max_attempts=5)
    claimed = claim_one()
    assert worker.run_job(claimed.pk, claimed.token) is RunOutcome.FAILED
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    assert job.last_error.startswith("PermanentFailure: prisoner record no longer exists")


def test_an_unknown_kind_fails_cleanly(clock_at_start):
    # Created directly: enqueue refuses unknown kinds, but a deploy can remove a handler.
    job = Job.objects.create(kind="gone.away", max_attempts=5)
    claimed = claim_one()

    assert worker.run_job(claimed.pk, claimed.token) is RunOutcome.FAILED

    job.refresh_from_db()
    assert (job.status, job.attempts, job.finished_at) == (JobStatus.FAILED, 1, START)
    assert job.last_error == "No handler is registered for job kind 'gone.away'; nothing was run."


# --- Sweeping ----------------------------------------------------------------------------------


def test_sweeper_requeues_a_stale_job_and_the_old_runners_finish_does_nothing(
    calls, clock_at_start
):
    job = services.enqueue(kind="test.ok")
    claimed = claim_one("w1")

    def swept_while_running(_job):
        clock_at_start.move_to(START + timedelta(seconds=30))
        assert worker.sweep_stale() == 0  # exactly the limit is not yet stale
        clock_at_start.move_to(START + timedelta(seconds=31))
        assert worker.sweep_stale() == 1

    calls.during_run = swept_while_running
    assert worker.run_job(claimed.pk, claimed.token) is RunOutcome.SKIPPED

    job.refresh_from_db()
    assert (job.status, job.attempts, job.due_at) == (JobStatus.QUEUED, 1, START)
    assert job.last_error == "Worker 'w1' stopped responding during attempt 1 of 5."
    assert job.finished_at is None
    (event,) = audit_events_for(job)
    assert (event.after, event.details["event"]) == ({"status": "queued"}, "requeued_stale")

    calls.during_run = None
    again = claim_one("w2")
    assert worker.run_job(again.pk, again.token) is RunOutcome.SUCCEEDED
    assert len(calls.payloads) == 2


def test_a_renewed_claim_is_not_swept(calls, clock_at_start):
    services.enqueue(kind="test.ok")
    job = claim_one()
    clock_at_start.move_to(START + timedelta(seconds=25))
    assert worker.renew_claim(job.pk, job.token)
    clock_at_start.move_to(START + timedelta(seconds=55))
    assert worker.sweep_stale() == 0
    clock_at_start.move_to(START + timedelta(seconds=56))
    assert worker.sweep_stale() == 1


def test_a_stale_job_with_no_attempts_left_fails(calls, clock_at_start):
    job = services.enqueue(kind="test.ok", max_attempts=1)
    claim_one("w1")
    clock_at_start.move_to(START + timedelta(seconds=31))

    assert worker.sweep_stale() == 1

    job.refresh_from_db()
    assert (job.status, job.finished_at) == (JobStatus.FAILED, START + timedelta(seconds=31))
    assert job.last_error == "Worker 'w1' stopped responding during attempt 1 of 1."


def test_a_job_survives_a_worker_dying_and_runs_exactly_once(calls, clock_at_start):
    job = services.enqueue(kind="test.ok", payload={"n": 1})
    claim_one("worker-a")  # ... and worker-a dies before running it
    clock_at_start.move_to(START + timedelta(seconds=31))

    assert worker.run_worker("worker-b", once=True) == 1
    assert worker.run_worker("worker-b", once=True) == 0

    job.refresh_from_db()
    assert (job.status, job.attempts, job.claimed_by) == (JobStatus.SUCCEEDED, 2, "worker-b")
    assert calls.payloads == [{"n": 1}]
