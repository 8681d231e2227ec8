import io
import os
import signal
from datetime import timedelta

import pytest
from django.core.management import call_command

from saferprisons.jobs import services, worker
from saferprisons.jobs.constants import JobStatus
from saferprisons.jobs.models import WorkerHeartbeat

from .conftest import START

pytestmark = pytest.mark.django_db


def test_worker_once_runs_the_due_job_and_not_the_future_one(calls, clock_at_start):
    due = services.enqueue(kind="test.ok", payload={"n": "due"})
    future = services.enqueue(
        kind="test.ok", payload={"n": "future"}, due_at=START + timedelta(minutes=1)
    )
    out = io.StringIO()

    call_command("worker", "--once", "--name", "cmd-test", stdout=out)

    due.refresh_from_db()
    future.refresh_from_db()
    assert (due.status, due.claimed_by) == (JobStatus.SUCCEEDED, "cmd-test")
    assert (future.status, future.attempts) == (JobStatus.QUEUED, 0)
    assert calls.payloads == [{"n": "due"}]
    heartbeat = WorkerHeartbeat.objects.get(worker_name="cmd-test")
    assert (heartbeat.jobs_done, heartbeat.stopped_at, heartbeat.pid) == (1, START, os.getpid())
    assert "stopped after running 1 job(s)" in out.getvalue()


@pytest.fixture
def safety_net():
    """If the worker failed to catch a signal, this (not pytest's default) would receive it."""
    received = []

    def record(signum, frame):
        received.append(signum)

    previous = {s: signal.signal(s, record) for s in (signal.SIGTERM, signal.SIGINT)}
    yield record, received
    for signum, handler in previous.items():
        signal.signal(signum, handler)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_finishes_the_current_job_then_stops_cleanly(
    calls, clock_at_start, safety_net, signum
):
    record, received = safety_net
    first = services.enqueue(kind="test.ok", payload={"n": 1})
    second = services.enqueue(kind="test.ok", payload={"n": 2})
    calls.during_run = lambda job: os.kill(os.getpid(), signum)

    assert worker.run_worker("w1") == 1  # loop mode: returns only because it was told to stop

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == JobStatus.SUCCEEDED  # the job in hand was finished
    assert (second.status, second.attempts) == (JobStatus.QUEUED, 0)  # the rest handed back
    assert calls.payloads == [{"n": 1}]
    assert WorkerHeartbeat.objects.get(worker_name="w1").stopped_at == START
    assert received == []
    assert signal.getsignal(signum) is record  # our handlers are removed again


def test_a_stop_event_stops_the_loop_between_jobs(calls, clock_at_start):
    import threading

    stop = threading.Event()
    services.enqueue(kind="test.ok", payload={"n": 1})
    services.enqueue(kind="test.ok", payload={"n": 2})
    calls.during_run = lambda job: stop.set()

    assert worker.run_worker("w1", stop_event=stop) == 1
    assert calls.payloads == [{"n": 1}]
