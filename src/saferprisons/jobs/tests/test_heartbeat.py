from datetime import timedelta

import pytest

from saferprisons.jobs import services, worker
from saferprisons.jobs.constants import JobStatus
from saferprisons.jobs.models import Job, WorkerHeartbeat
from saferprisons.jobs.selectors import WorkerStatus, worker_status

from .conftest import START

pytestmark = pytest.mark.django_db


def test_no_worker_ever_seen_is_not_alive(clock_at_start):
    assert worker_status() == WorkerStatus(
        alive=False, last_beat_at=None, queued=0, running=0, failed=0, overdue=0
    )


def test_a_worker_is_alive_until_its_beat_is_older_than_the_stale_limit(clock_at_start):
    worker.beat("w1")
    assert worker_status().alive
    clock_at_start.move_to(START + timedelta(seconds=30))
    assert worker_status().alive
    clock_at_start.move_to(START + timedelta(seconds=30, microseconds=1))
    status = worker_status()
    assert (status.alive, status.last_beat_at) == (False, START)


def test_a_stopped_worker_is_not_alive_even_with_a_fresh_beat(clock_at_start):
    worker.beat("w1")
    worker.mark_stopped("w1")
    status = worker_status()
    assert (status.alive, status.last_beat_at) == (False, START)


def test_one_live_worker_among_dead_ones_is_enough(clock_at_start):
    worker.beat("old")
    clock_at_start.move_to(START + timedelta(minutes=5))
    worker.beat("new")
    status = worker_status()
    assert (status.alive, status.last_beat_at) == (True, START + timedelta(minutes=5))


def test_beat_counts_jobs_and_a_restart_starts_a_fresh_count(clock_at_start):
    worker.beat("w1", jobs_done=2)
    clock_at_start.move_to(START + timedelta(seconds=5))
    worker.beat("w1", jobs_done=3)
    heartbeat = WorkerHeartbeat.objects.get(worker_name="w1")
    assert (heartbeat.started_at, heartbeat.last_beat_at, heartbeat.jobs_done) == (
        START,
        START + timedelta(seconds=5),
        5,
    )

    worker.mark_stopped("w1")
    clock_at_start.move_to(START + timedelta(minutes=1))
    worker.start_worker("w1")
    heartbeat.refresh_from_db()
    assert (heartbeat.started_at, heartbeat.jobs_done, heartbeat.stopped_at) == (
        START + timedelta(minutes=1),
        0,
        None,
    )


def test_status_counts_queued_running_failed_and_overdue_jobs(calls, clock_at_start):
    for seconds_ago in (61, 60, -3600):  # due 61 s ago, 60 s ago, and in an hour
        services.enqueue(kind="test.ok", due_at=START - timedelta(seconds=seconds_ago))
    running = services.enqueue(kind="test.ok", due_at=START - timedelta(hours=1))
    Job.objects.filter(pk=running.pk).update(
        status=JobStatus.RUNNING, claimed_by="w", claimed_at=START, attempts=1
    )
    failed = services.enqueue(kind="test.ok", due_at=START - timedelta(hours=1))
    Job.objects.filter(pk=failed.pk).update(status=JobStatus.FAILED)

    status = worker_status()

    assert (status.queued, status.running, status.failed, status.overdue) == (3, 1, 1, 1)
