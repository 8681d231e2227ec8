"""Reads for the worker status panel. Not per-prison data: gate the page on
``jobs.permissions.VIEW_STATUS``."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Q

from saferprisons.core import clock

from . import rules
from .constants import OVERDUE_AFTER_SECONDS, JobStatus
from .models import Job, WorkerHeartbeat


@dataclass(frozen=True)
class WorkerStatus:
    alive: bool  # at least one worker beat recently and has not stopped
    last_beat_at: datetime | None  # the latest beat of any worker, alive or not
    queued: int
    running: int
    failed: int
    overdue: int  # queued and due more than OVERDUE_AFTER_SECONDS ago: nobody is keeping up


def worker_status() -> WorkerStatus:
    now = clock.now()
    counts = Job.objects.aggregate(
        queued=Count("pk", filter=Q(status=JobStatus.QUEUED)),
        running=Count("pk", filter=Q(status=JobStatus.RUNNING)),
        failed=Count("pk", filter=Q(status=JobStatus.FAILED)),
        overdue=Count(
            "pk",
            filter=Q(
                status=JobStatus.QUEUED, due_at__lt=now - timedelta(seconds=OVERDUE_AFTER_SECONDS)
            ),
        ),
    )
    return WorkerStatus(
        alive=_any_worker_alive(now),
        last_beat_at=WorkerHeartbeat.objects.aggregate(last=Max("last_beat_at"))["last"],
        **counts,
    )


def _any_worker_alive(now: datetime) -> bool:
    running_workers = WorkerHeartbeat.objects.filter(stopped_at__isnull=True)
    return any(
        not rules.is_stale(heartbeat.last_beat_at, now, settings.WORKER_STALE_AFTER_SECONDS)
        for heartbeat in running_workers.only("last_beat_at")
    )
