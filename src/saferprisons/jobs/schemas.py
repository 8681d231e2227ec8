"""API shape for the background worker's status."""

from datetime import datetime

from ninja import Schema


class WorkerStatusOut(Schema):
    alive: bool
    last_beat_at: datetime | None
    queued: int
    running: int
    failed: int
    overdue: int
