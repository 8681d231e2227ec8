"""Helpers for the alert and escalation tests: open an alert as ingest does, and run due jobs as
the worker does (claim, run, record), without its loop or heartbeat thread."""

from datetime import timedelta

from django.db import transaction

from saferprisons.acct import services as acct_services
from saferprisons.core import clock
from saferprisons.jobs import worker
from saferprisons.monitoring import escalation
from saferprisons.monitoring.constants import Priority, RuleKind
from saferprisons.monitoring.models import Alert
from saferprisons.monitoring.rules import to_ms

from .conftest import batch


def open_alert(world, *, rule=RuleKind.NO_ACTIVITY, priority=Priority.HIGH, cell=None, **fields):
    """An alert opened now in the north wing, its escalation started in the same transaction
    (what ingest's _open_alerts does)."""
    now = clock.now()
    with transaction.atomic():
        alert = Alert.objects.create(
            prison=world.north,
            cell=cell or world.north_cells[0],
            prisoner=fields.pop("prisoner", world.north_person),
            device=fields.pop("device", world.devices[0]),
            rule=rule,
            priority=priority,
            threshold_seconds=fields.pop("threshold_seconds", 1200),
            opened_at=now,
            first_reading_at=now - timedelta(minutes=20),
            triggered_at=now,
            **fields,
        )
        escalation.start_escalations([alert.pk])
    return alert


def run_due_jobs(name: str = "test-worker", kind: str | None = None) -> list[tuple[str, str]]:
    """Claim and run every due job, as worker passes do; returns (kind, outcome) in order."""
    ran = []
    while claimed := worker.claim_due_jobs(name):
        for job in claimed:
            ran.append((job.kind, str(worker.run_job(job.pk, job.token))))
    return [item for item in ran if kind is None or item[0] == kind]


def put_on_acct(world):
    """Open an ACCT for the north person (a concern from the wing)."""
    return acct_services.raise_concern(
        actor=world.officer,
        prisoner=world.north_person,
        source="STAFF_OBSERVATION",
        seen_or_heard="Said he could not see the point any more",
        immediate_risk="Low mood after a phone call",
        action_taken="Stayed with him and told the manager",
    ).case


def now_ms() -> int:
    return to_ms(clock.now())


def ingest(pipeline, world, *readings):
    return pipeline.ingest(batch(*readings), gateway=world.gateway_ref)
