"""Tests with real threads and real time: each thread has its own database connection."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, connections

from saferprisons.core import clock
from saferprisons.jobs import services, worker
from saferprisons.jobs.constants import JobStatus
from saferprisons.jobs.models import Job

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks"
)


def in_thread(target):
    """Run target in a thread with its own connection, closed afterwards."""

    def run():
        try:
            target()
        finally:
            connections.close_all()

    return threading.Thread(target=run)


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_claimers_never_claim_the_same_job(calls):
    for n in range(20):
        services.enqueue(
            kind="test.ok", payload={"n": n}, due_at=clock.now() - timedelta(seconds=1)
        )
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    start_together = threading.Barrier(2)

    def claimer(name):
        def claim_until_empty():
            start_together.wait()
            while jobs := worker.claim_due_jobs(name, limit=3):
                claimed[name].extend(job.pk for job in jobs)

        return claim_until_empty

    threads = [in_thread(claimer(name)) for name in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    counts = Counter(claimed["a"] + claimed["b"])
    assert set(counts) == set(Job.objects.values_list("pk", flat=True))
    assert set(counts.values()) == {1}
    assert set(Job.objects.values_list("status", "attempts")) == {(JobStatus.RUNNING, 1)}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_renews_the_claim_while_a_long_handler_runs(register, settings):
    settings.WORKER_HEARTBEAT_SECONDS = 0.05
    renewed = threading.Event()

    def long_handler(payload, job):
        # Wait (in real time) until the keeper thread has renewed this job's claim.
        for _ in range(200):
            if Job.objects.filter(pk=job.pk, claimed_at__gt=job.claimed_at).exists():
                renewed.set()
                return
            threading.Event().wait(0.025)

    register("test.long", long_handler)
    services.enqueue(kind="test.long")

    worker.run_worker("w1", once=True)

    assert renewed.is_set()
    assert Job.objects.get().status == JobStatus.SUCCEEDED
