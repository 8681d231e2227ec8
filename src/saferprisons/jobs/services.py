"""Queue and cancel background work.

Call ``enqueue`` inside your own service's transaction: the job then commits with the change that
needs it (or not at all), so a timer is never lost between "saved" and "scheduled".
"""

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from saferprisons.audit.actors import SYSTEM
from saferprisons.audit.constants import Action
from saferprisons.audit.services import record
from saferprisons.core import clock
from saferprisons.core.errors import Conflict

from .constants import ACTIVE_STATUSES, DEDUPE_KEY_MAX_LENGTH, JobStatus
from .models import Job
from .registry import get_handler

AUDIT_OBJECT_TYPE = "jobs.job"


def enqueue(
    *,
    kind: str,
    payload: dict | None = None,
    due_at: datetime | None = None,
    dedupe_key: str = "",
    max_attempts: int | None = None,
) -> Job:
    """Queue a job of ``kind`` to run at ``due_at`` (default: now).

    With a ``dedupe_key``, an already queued or running job with that key is returned unchanged
    instead of queueing a second one (its payload and due time are kept). Note that this includes
    the job currently running: a handler that re-schedules itself needs a key that names the next
    occurrence (e.g. include its due date).
    """
    get_handler(kind)  # a typo fails here, in the caller's request, not later in the worker
    _check_arguments(due_at, dedupe_key, max_attempts)
    fields = {
        "kind": kind,
        "payload": payload or {},
        "due_at": due_at or clock.now(),
        "dedupe_key": dedupe_key,
        "max_attempts": max_attempts or settings.JOB_DEFAULT_MAX_ATTEMPTS,
    }
    with transaction.atomic():
        if dedupe_key:
            existing = _active_job_with_key(dedupe_key)
            if existing is not None:
                return existing
        return _create_or_join_winner(fields)


def _check_arguments(due_at: datetime | None, dedupe_key: str, max_attempts: int | None) -> None:
    if due_at is not None and timezone.is_naive(due_at):
        raise ValueError("due_at must be timezone-aware")
    if len(dedupe_key) > DEDUPE_KEY_MAX_LENGTH:
        raise ValueError(f"dedupe_key is longer than {DEDUPE_KEY_MAX_LENGTH} characters")
    if max_attempts is not None and max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")


def _active_job_with_key(dedupe_key: str) -> Job | None:
    return Job.objects.filter(dedupe_key=dedupe_key, status__in=ACTIVE_STATUSES).first()


def _create_or_join_winner(fields: dict) -> Job:
    try:
        # A savepoint, so losing the race on the dedupe constraint leaves the caller's
        # transaction usable and we can hand back the job that won.
        with transaction.atomic():
            return Job.objects.create(**fields)
    except IntegrityError:
        winner = _active_job_with_key(fields["dedupe_key"]) if fields["dedupe_key"] else None
        if winner is None:
            raise
        return winner


def cancel(*, job: Job, actor=SYSTEM) -> Job:
    """Cancel a queued or running job. Cancelling a cancelled job again changes nothing.

    A running handler is not interrupted, but its result is then ignored (its finish is a no-op).
    Finished jobs cannot be cancelled (``Conflict``). This is called by other services, which check
    their own permission; ``actor`` is whoever caused the cancellation.
    """
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if locked.status == JobStatus.CANCELLED:
            return locked
        if locked.status not in ACTIVE_STATUSES:
            raise Conflict(f"This job has already {locked.get_status_display().lower()}.")
        before = locked.status
        locked.status = JobStatus.CANCELLED
        locked.finished_at = clock.now()
        locked.save(update_fields=["status", "finished_at"])
        record(
            actor=actor,
            action=Action.UPDATE,
            object_type=AUDIT_OBJECT_TYPE,
            object_id=str(locked.public_id),
            before={"status": before},
            after={"status": locked.status},
            details={"kind": locked.kind, "event": "cancelled"},
        )
    return locked
