"""Durable background work: one row per job or timer, and one heartbeat row per worker process.

Invariants the database keeps (not only Python):
- at most one QUEUED or RUNNING job per non-blank dedupe key, so a timer is never queued twice;
- a job never has more attempts than it allows, and allows at least one;
- a RUNNING job always says who claimed it and when.
"""

import uuid

from django.db import models
from django.db.models import F, Q

from saferprisons.core import clock
from saferprisons.core.models import PublicIdModel

from .constants import (
    ACTIVE_STATUSES,
    DEDUPE_KEY_MAX_LENGTH,
    KIND_MAX_LENGTH,
    WORKER_NAME_MAX_LENGTH,
    JobStatus,
)


class Job(PublicIdModel):
    kind = models.CharField(max_length=KIND_MAX_LENGTH, db_index=True)
    payload = models.JSONField(default=dict, blank=True)
    due_at = models.DateTimeField(default=clock.now, db_index=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField()
    token = models.UUIDField(
        default=uuid.uuid4,
        help_text="Replaced on every claim; a runner whose token no longer matches "
        "changes nothing.",
    )
    claimed_by = models.CharField(max_length=WORKER_NAME_MAX_LENGTH, blank=True)
    claimed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the current claim was taken or last renewed by its worker. A RUNNING job "
        "whose claim is older than WORKER_STALE_AFTER_SECONDS goes back to the queue.",
    )
    last_error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=DEDUPE_KEY_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [
            # The claim query: due queued jobs in due order.
            models.Index(fields=["status", "due_at"], name="jobs_job_status_due_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=Q(status__in=ACTIVE_STATUSES) & ~Q(dedupe_key=""),
                name="jobs_job_one_active_per_dedupe_key",
            ),
            models.CheckConstraint(
                condition=Q(max_attempts__gte=1), name="jobs_job_max_attempts_at_least_one"
            ),
            models.CheckConstraint(
                condition=Q(attempts__lte=F("max_attempts")),
                name="jobs_job_attempts_within_max",
            ),
            models.CheckConstraint(
                condition=~Q(status=JobStatus.RUNNING)
                | (Q(claimed_at__isnull=False) & ~Q(claimed_by="")),
                name="jobs_job_running_is_claimed",
            ),
        ]

    def __str__(self) -> str:
        due = clock.local(self.due_at)  # stored in UTC, shown in London time
        return f"{self.kind} ({self.get_status_display()}, due {due:%Y-%m-%d %H:%M:%S})"


class WorkerHeartbeat(models.Model):
    """One row per worker name, refreshed while the worker runs; the status page reads it."""

    worker_name = models.CharField(max_length=WORKER_NAME_MAX_LENGTH, unique=True)
    pid = models.PositiveIntegerField()
    hostname = models.CharField(max_length=255)
    started_at = models.DateTimeField()
    last_beat_at = models.DateTimeField()
    jobs_done = models.PositiveIntegerField(default=0)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_beat_at"]

    def __str__(self) -> str:
        return f"{self.worker_name} (last beat {clock.local(self.last_beat_at):%Y-%m-%d %H:%M:%S})"
