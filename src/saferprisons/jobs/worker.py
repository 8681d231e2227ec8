"""The worker: claim due jobs under row locks, run each handler outside any transaction, and
record the result only if our claim (the row's token) still stands.

A claim is a lease: the worker renews it while a handler runs, and the sweeper puts a RUNNING job
whose claim has not been renewed for WORKER_STALE_AFTER_SECONDS back in the queue. The old runner's
finish is then a no-op, because the job is no longer RUNNING with its token.
See docs/adr/0005-durable-worker.md.
"""

import logging
import os
import signal
import socket
import threading
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, connections, transaction
from django.db.models import F

from saferprisons.audit.actors import SYSTEM
from saferprisons.audit.constants import Action
from saferprisons.audit.services import record
from saferprisons.core import clock

from . import rules
from .constants import CLAIM_BATCH_SIZE, JobStatus, RunOutcome
from .errors import PermanentFailure, UnknownJobKind
from .models import Job, WorkerHeartbeat
from .registry import get_handler
from .services import AUDIT_OBJECT_TYPE

logger = logging.getLogger(__name__)


def default_worker_name() -> str:
    # host:pid is unique per process, so two workers never share one heartbeat row by accident.
    return f"{socket.gethostname()}:{os.getpid()}"


# --- Claiming ----------------------------------------------------------------------------------


def claim_due_jobs(worker_name: str, limit: int = CLAIM_BATCH_SIZE) -> list[Job]:
    """Take up to ``limit`` due queued jobs, earliest first, and mark them RUNNING for us."""
    now = clock.now()
    with transaction.atomic():
        # skip_locked: rows a peer is claiming stay theirs; we take the next due ones instead of
        # waiting. (SQLite has no row locks; its IMMEDIATE transactions serialise claims.)
        jobs = list(
            Job.objects.select_for_update(skip_locked=True)
            .filter(status=JobStatus.QUEUED, due_at__lte=now)
            .order_by("due_at", "pk")[:limit]
        )
        for job in jobs:
            job.status = JobStatus.RUNNING
            job.token = uuid.uuid4()
            job.attempts += 1
            job.claimed_by = worker_name
            job.claimed_at = now
        Job.objects.bulk_update(jobs, ["status", "token", "attempts", "claimed_by", "claimed_at"])
    return jobs


def renew_claim(job_id: int, token: uuid.UUID) -> bool:
    """Tell the sweeper a long-running job is still in hand. False if the claim is gone."""
    renewed = Job.objects.filter(pk=job_id, token=token, status=JobStatus.RUNNING).update(
        claimed_at=clock.now()
    )
    return renewed == 1


def release_claim(job_id: int, token: uuid.UUID) -> bool:
    """Hand back a claimed job that was never started (the worker is stopping)."""
    released = Job.objects.filter(pk=job_id, token=token, status=JobStatus.RUNNING).update(
        status=JobStatus.QUEUED, attempts=F("attempts") - 1
    )
    return released == 1


# --- Running one job ---------------------------------------------------------------------------


def run_job(job_id: int, token: uuid.UUID) -> RunOutcome:
    """Run a claimed job's handler, then record the result if the claim is still ours."""
    job = Job.objects.filter(pk=job_id, token=token, status=JobStatus.RUNNING).first()
    if job is None:
        return RunOutcome.SKIPPED
    try:
        handle = get_handler(job.kind)
    except UnknownJobKind as exc:
        logger.error("Job %s failed: %s", job.public_id, exc)
        return _finish(job_id, token, error=str(exc), retry=False)
    try:
        handle(job.payload, job)
    except PermanentFailure as exc:
        logger.error("Job %s (%s) failed for good: %s", job.public_id, job.kind, exc)
        return _finish(job_id, token, error=_describe(exc), retry=False)
    except Exception as exc:
        logger.exception(
            "Job %s (%s) failed on attempt %s of %s",
            job.public_id,
            job.kind,
            job.attempts,
            job.max_attempts,
        )
        return _finish(job_id, token, error=_describe(exc), retry=True)
    return _finish(job_id, token, error=None)


def _describe(exc: BaseException) -> str:
    summary = f"{type(exc).__name__}: {exc}"
    trace = "".join(traceback.format_exception(exc))
    return rules.clip_error(f"{summary}\n\n{trace}")


def _finish(job_id: int, token: uuid.UUID, *, error: str | None, retry: bool = True) -> RunOutcome:
    with transaction.atomic():
        job = (
            Job.objects.select_for_update()
            .filter(pk=job_id, token=token, status=JobStatus.RUNNING)
            .first()
        )
        if job is None:
            # Swept, cancelled or re-claimed while the handler ran: the newer claim owns the row.
            logger.warning("Job id %s: claim no longer ours, result not recorded", job_id)
            return RunOutcome.SKIPPED
        now = clock.now()
        if error is None:
            return _mark_succeeded(job, now)
        if retry and rules.can_retry(job.attempts, job.max_attempts):
            return _schedule_retry(job, now, error)
        return _mark_failed(job, now, error)


def _mark_succeeded(job: Job, now: datetime) -> RunOutcome:
    job.status = JobStatus.SUCCEEDED
    job.finished_at = now
    job.save(update_fields=["status", "finished_at"])
    return RunOutcome.SUCCEEDED


def _schedule_retry(job: Job, now: datetime, error: str) -> RunOutcome:
    job.status = JobStatus.QUEUED
    job.due_at = now + rules.retry_delay(job.attempts)
    job.last_error = rules.clip_error(error)
    job.save(update_fields=["status", "due_at", "last_error"])
    return RunOutcome.RETRY_SCHEDULED


def _mark_failed(job: Job, now: datetime, error: str) -> RunOutcome:
    job.status = JobStatus.FAILED
    job.finished_at = now
    job.last_error = rules.clip_error(error)
    job.save(update_fields=["status", "finished_at", "last_error"])
    # Safety-relevant work that gave up must be visible in the audit trail, not only the admin.
    # The error text stays on the job row: it may quote personal data.
    _audit_transition(job, before=JobStatus.RUNNING, event="failed")
    return RunOutcome.FAILED


def _audit_transition(job: Job, *, before: str, event: str, **details) -> None:
    record(
        actor=SYSTEM,
        action=Action.UPDATE,
        object_type=AUDIT_OBJECT_TYPE,
        object_id=str(job.public_id),
        before={"status": before},
        after={"status": job.status},
        details={
            "kind": job.kind,
            "event": event,
            "attempts": job.attempts,
            "max_attempts": job.max_attempts,
            **details,
        },
    )


# --- Sweeping ----------------------------------------------------------------------------------


def sweep_stale(now: datetime | None = None) -> int:
    """Re-queue RUNNING jobs whose claim went stale (their worker died or hung); returns how many.

    A job that has used all its attempts fails instead, so a job that kills its worker every time
    cannot loop forever.
    """
    now = now or clock.now()
    cutoff = rules.stale_cutoff(now, settings.WORKER_STALE_AFTER_SECONDS)
    with transaction.atomic():
        stale = list(
            Job.objects.select_for_update(skip_locked=True).filter(
                status=JobStatus.RUNNING, claimed_at__lt=cutoff
            )
        )
        for job in stale:
            _recover_stale(job, now)
    return len(stale)


def _recover_stale(job: Job, now: datetime) -> None:
    error = (
        f"Worker {job.claimed_by!r} stopped responding during attempt "
        f"{job.attempts} of {job.max_attempts}."
    )
    logger.warning("Job %s (%s): %s", job.public_id, job.kind, error)
    if rules.can_retry(job.attempts, job.max_attempts):
        # Keep the original due time: it was due first, so it is claimed first.
        job.status = JobStatus.QUEUED
        job.last_error = error
        job.save(update_fields=["status", "last_error"])
        _audit_transition(
            job, before=JobStatus.RUNNING, event="requeued_stale", claimed_by=job.claimed_by
        )
    else:
        _mark_failed(job, now, error)


# --- Heartbeat ---------------------------------------------------------------------------------


def _process_identity() -> dict:
    return {"pid": os.getpid(), "hostname": socket.gethostname()[:255]}


def start_worker(worker_name: str) -> None:
    """Record a (re)start: a worker name reused after a restart begins a fresh count."""
    now = clock.now()
    WorkerHeartbeat.objects.update_or_create(
        worker_name=worker_name,
        defaults={
            "started_at": now,
            "last_beat_at": now,
            "jobs_done": 0,
            "stopped_at": None,
            **_process_identity(),
        },
    )


def beat(worker_name: str, *, jobs_done: int = 0) -> None:
    """Say the worker is alive, adding ``jobs_done`` to its count."""
    now = clock.now()
    fields = {"last_beat_at": now, "stopped_at": None, **_process_identity()}
    updated = WorkerHeartbeat.objects.filter(worker_name=worker_name).update(
        jobs_done=F("jobs_done") + jobs_done, **fields
    )
    if not updated:
        WorkerHeartbeat.objects.create(
            worker_name=worker_name, started_at=now, jobs_done=jobs_done, **fields
        )


def mark_stopped(worker_name: str) -> None:
    now = clock.now()
    WorkerHeartbeat.objects.filter(worker_name=worker_name).update(stopped_at=now, last_beat_at=now)


class _Keeper:
    """A background thread that keeps beating and renews the running job's claim, so a handler
    that takes longer than WORKER_STALE_AFTER_SECONDS is neither swept nor shown as a dead worker.
    """

    def __init__(self, worker_name: str):
        self.worker_name = worker_name
        self.current: tuple[int, uuid.UUID] | None = None  # swapped by the main thread
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"heartbeat {worker_name}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=settings.WORKER_HEARTBEAT_SECONDS + 5)

    def _run(self) -> None:
        try:
            while not self._done.wait(settings.WORKER_HEARTBEAT_SECONDS):
                self._beat_once()
        finally:
            connections.close_all()  # this thread's own connections

    def _beat_once(self) -> None:
        current = self.current
        try:
            beat(self.worker_name)
            if current is not None:
                renew_claim(*current)
        except Exception:  # a missed beat must not kill the thread; the next one may succeed
            logger.exception("Heartbeat failed for worker %s", self.worker_name)


# --- The loop ----------------------------------------------------------------------------------


def run_worker(
    worker_name: str | None = None,
    once: bool = False,
    stop_event: threading.Event | None = None,
) -> int:
    """Run due jobs until stopped (SIGTERM, SIGINT or ``stop_event``); returns how many it ran.

    Each pass: beat, sweep stale claims, claim a batch, run it, then sleep WORKER_POLL_SECONDS
    (no sleep after a full batch). ``once=True`` runs a single pass. A stop request lets the
    current job finish, hands back the rest of the batch, and marks the heartbeat stopped.
    """
    name = worker_name or default_worker_name()
    stop = stop_event or threading.Event()
    keeper = _Keeper(name)
    jobs_run = 0
    start_worker(name)
    keeper.start()
    try:
        with _stop_on_signals(stop):
            while not stop.is_set():
                claimed, ran = _run_pass_or_log(name, stop, keeper, once=once)
                jobs_run += ran
                if once:
                    break
                if claimed < CLAIM_BATCH_SIZE:
                    stop.wait(settings.WORKER_POLL_SECONDS)
    finally:
        keeper.stop()
        mark_stopped(name)
    logger.info("Worker %s stopped after running %s job(s)", name, jobs_run)
    return jobs_run


def _run_pass_or_log(name: str, stop: threading.Event, keeper: _Keeper, *, once: bool):
    try:
        return _run_pass(name, stop, keeper)
    except DatabaseError:
        if once:
            raise
        # A database restart must not end the worker: log, and try again after the poll interval.
        logger.exception("Worker %s: pass failed, retrying", name)
        return 0, 0


def _run_pass(name: str, stop: threading.Event, keeper: _Keeper) -> tuple[int, int]:
    _drop_unusable_connection()
    beat(name)
    sweep_stale(clock.now())
    jobs = claim_due_jobs(name, CLAIM_BATCH_SIZE)
    started = 0
    ran = 0
    try:
        for job in jobs:
            if stop.is_set():
                break
            started += 1
            if _run_tracked(job, keeper) is not RunOutcome.SKIPPED:
                ran += 1
                beat(name, jobs_done=1)
    finally:
        for job in jobs[started:]:
            release_claim(job.pk, job.token)
    return len(jobs), ran


def _run_tracked(job: Job, keeper: _Keeper) -> RunOutcome:
    keeper.current = (job.pk, job.token)
    try:
        return run_job(job.pk, job.token)
    finally:
        keeper.current = None


def _drop_unusable_connection() -> None:
    # As Django does per request: drop a connection that broke or outlived CONN_MAX_AGE. Never
    # inside a transaction (a test's, or a caller's), which closing would destroy.
    if not connection.in_atomic_block:
        close_old_connections()


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may handle signals; the caller stops us via stop_event
        return
    stopping = (signal.SIGTERM, signal.SIGINT)
    previous = {signum: signal.getsignal(signum) or signal.SIG_DFL for signum in stopping}

    def request_stop(signum, frame):
        logger.info(
            "Received %s: finishing the current job, then stopping", signal.Signals(signum).name
        )
        stop.set()
        # A second signal acts at once, for an operator who cannot wait for the job.
        signal.signal(signum, previous[signum])

    for signum in stopping:
        signal.signal(signum, request_stop)
    try:
        yield
    finally:
        for signum, old_handler in previous.items():
            signal.signal(signum, old_handler)
