"""The MQTT consumers' heartbeats (like the worker's): written by each consumer, read by the status
page. Not per-prison data: gate a page showing it as the worker status is gated."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from saferprisons.core import clock

from .models import ConsumerHeartbeat

# A consumer that has not beaten for this long is shown as not running.
STALE_AFTER_SECONDS = 30


def _process_identity() -> dict:
    return {"pid": os.getpid(), "hostname": socket.gethostname()[:255]}


def start_consumer(name: str, *, client_id: str) -> None:
    """Record a (re)start: a name reused after a restart begins fresh counts."""
    now = clock.now()
    ConsumerHeartbeat.objects.update_or_create(
        name=name,
        defaults={
            "client_id": client_id,
            "started_at": now,
            "last_beat_at": now,
            "connected": False,
            "backlog": 0,
            "messages_acknowledged": 0,
            "readings_accepted": 0,
            "messages_refused": 0,
            "database_retries": 0,
            "stopped_at": None,
            **_process_identity(),
        },
    )


def beat(name: str, **figures) -> None:
    """Say the consumer is alive, with its running totals (``connected``, ``backlog``, ...)."""
    ConsumerHeartbeat.objects.filter(name=name).update(
        last_beat_at=clock.now(), stopped_at=None, **figures
    )


def mark_stopped(name: str) -> None:
    now = clock.now()
    ConsumerHeartbeat.objects.filter(name=name).update(
        stopped_at=now, last_beat_at=now, connected=False
    )


@dataclass(frozen=True)
class ConsumerStatus:
    name: str
    alive: bool  # beat recently and has not stopped
    connected: bool  # to the broker, at its last beat
    last_beat_at: datetime
    backlog: int
    messages_acknowledged: int
    readings_accepted: int
    messages_refused: int
    database_retries: int


def consumer_statuses(now: datetime | None = None) -> list[ConsumerStatus]:
    """Every consumer that has run, by name, with whether it is alive now."""
    now = now or clock.now()
    cutoff = now - timedelta(seconds=STALE_AFTER_SECONDS)
    return [
        ConsumerStatus(
            name=row.name,
            alive=row.stopped_at is None and row.last_beat_at >= cutoff,
            connected=row.connected and row.stopped_at is None and row.last_beat_at >= cutoff,
            last_beat_at=row.last_beat_at,
            backlog=row.backlog,
            messages_acknowledged=row.messages_acknowledged,
            readings_accepted=row.readings_accepted,
            messages_refused=row.messages_refused,
            database_retries=row.database_retries,
        )
        for row in ConsumerHeartbeat.objects.order_by("name")
    ]
