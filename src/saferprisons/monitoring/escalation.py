"""Escalation: who is told about an alert nobody has answered, and when (docs/adr/0011).

When alerts open, ``start_escalations`` (called by ingest, inside the transaction that creates
them) copies the prison's chain onto each alert as ``AlertEscalation`` rows with their due times,
and queues one worker job per step carrying the step's token. ``fire_step`` (the job) locks the
alert, then the step, and tells the step's roles only if the step is still waiting with that
token and nobody has acknowledged the alert. ``cancel_pending`` (called by the staff responses,
under the same alert lock) stops the rest of the chain. ``sweep_late_steps`` gives a step that is
more than MONITORING_ESCALATION_LATE_SECONDS late, and whose job will not run by itself, a fresh
job and token.

Lock order everywhere: the alert, then its steps, then their jobs. Every write here is the
system's (actor SYSTEM) except cancellation, which is the responder's.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Min

from saferprisons.audit.actors import SYSTEM
from saferprisons.audit.constants import Action
from saferprisons.audit.services import record
from saferprisons.core import clock
from saferprisons.core.errors import Conflict
from saferprisons.jobs import services as jobs
from saferprisons.jobs.constants import ACTIVE_STATUSES, JobStatus
from saferprisons.jobs.models import Job

from . import conf, events
from .constants import (
    DEFAULT_ESCALATION,
    JOB_ESCALATE,
    JOB_SWEEP_ESCALATIONS,
    EscalationStatus,
)
from .models import Alert, AlertEscalation, EscalationStep, Notification

logger = logging.getLogger(__name__)

# A step re-kicked this many times is left to the job's own retries (a fault that a fresh job
# cannot cure must not write an audit event every few seconds for ever).
MAX_REKICKS = 10
# Late steps looked at per sweep; the next sweep comes within seconds.
SWEEP_BATCH = 500


@dataclass(frozen=True)
class StepSpec:
    """One step of a chain as configured (or the built-in default)."""

    delay_seconds: int
    roles: tuple[str, ...]
    priorities: tuple[str, ...]
    email_address: str = ""
    phone_number: str = ""

    @classmethod
    def of(cls, step: EscalationStep) -> StepSpec:
        return cls(
            delay_seconds=step.delay_seconds,
            roles=tuple(step.roles),
            priorities=tuple(step.priorities),
            email_address=step.email_address,
            phone_number=step.phone_number,
        )


DEFAULT_CHAIN = tuple(
    StepSpec(
        delay_seconds=step["delay_seconds"],
        roles=tuple(step["roles"]),
        priorities=tuple(str(p) for p in step["priorities"]),
    )
    for step in DEFAULT_ESCALATION
)


def chains_for(prison_ids) -> dict[int, tuple[StepSpec, ...]]:
    """Each prison's chain in force (its own, else the default), in one query."""
    wanted = set(prison_ids)
    chains: dict[int, list[StepSpec]] = {}
    for step in EscalationStep.objects.filter(prison_id__in=wanted).order_by("prison_id", "number"):
        chains.setdefault(step.prison_id, []).append(StepSpec.of(step))
    return {pk: tuple(chains.get(pk, DEFAULT_CHAIN)) for pk in wanted}


def _late_seconds() -> float:
    return conf.value("MONITORING_ESCALATION_LATE_SECONDS")


def _job_for(step: AlertEscalation) -> Job:
    # The key names the token, so a re-kicked step can queue its new job while the old one is
    # still RUNNING on a stuck worker.
    return jobs.enqueue(
        kind=JOB_ESCALATE,
        payload={"escalation": step.pk, "token": str(step.token)},
        due_at=step.due_at,
        dedupe_key=f"{JOB_ESCALATE}:{step.pk}:{step.token}",
    )


# --- Opening ----------------------------------------------------------------------------------


def start_escalations(alert_ids: list[int]) -> list[AlertEscalation]:
    """Copy each alert's prison chain onto it and queue a job per step. Call inside the
    transaction that opened the alerts (the steps commit with them, or not at all)."""
    alerts = list(
        Alert.objects.filter(pk__in=alert_ids).only("pk", "prison_id", "priority", "opened_at")
    )
    if not alerts:
        return []
    chains = chains_for(alert.prison_id for alert in alerts)
    steps = [
        AlertEscalation(
            alert=alert,
            number=number,
            delay_seconds=spec.delay_seconds,
            roles=list(spec.roles),
            email_address=spec.email_address,
            phone_number=spec.phone_number,
            due_at=alert.opened_at + timedelta(seconds=spec.delay_seconds),
        )
        for alert in alerts
        for number, spec in enumerate(chains[alert.prison_id], start=1)
        if alert.priority in spec.priorities
    ]
    if not steps:
        return []
    AlertEscalation.objects.bulk_create(steps)
    for step in steps:
        step.job = _job_for(step)
    AlertEscalation.objects.bulk_update(steps, ["job"])
    ensure_sweep(min(step.due_at for step in steps) + timedelta(seconds=_late_seconds()))
    return steps


# --- Firing one step --------------------------------------------------------------------------


def fire_step(escalation_id: int, token: str) -> bool:
    """Tell the step's roles (in the app, and by any configured channel). True if it fired;
    False, changing nothing, for a repeated, superseded or cancelled step, or an answered alert."""
    from . import notifications

    with transaction.atomic():
        # The alert first (found through its step), then the step: the order every writer uses.
        alert = (
            Alert.objects.select_for_update(of=("self",))
            .select_related("prison", "cell")
            .filter(escalations__pk=escalation_id)
            .first()
        )
        if alert is None:
            return False
        step = AlertEscalation.objects.select_for_update().get(pk=escalation_id)
        if step.status != EscalationStatus.PENDING or str(step.token) != str(token):
            return False
        now = clock.now()
        if alert.acknowledged_at is not None or alert.resolved_at is not None:
            # Answering cancels waiting steps in the same lock, so this is only a safety net.
            _cancel(step, now)
            step.save(update_fields=["status", "cancelled_at", "token"])
            return False
        step.status = EscalationStatus.FIRED
        step.fired_at = now
        step.save(update_fields=["status", "fired_at"])
        Notification.objects.bulk_create(
            [
                Notification(
                    prison_id=alert.prison_id,
                    alert=alert,
                    escalation=step,
                    role=role,
                    created_at=now,
                )
                for role in step.roles
            ]
        )
        deliveries = notifications.queue_deliveries(step, alert)
        record(
            actor=SYSTEM,
            action=Action.UPDATE,
            object_type="monitoring_alert",
            object_id=alert.public_id,
            prison_code=alert.prison.code,
            details={
                "event": "escalated",
                "step": step.number,
                "roles": step.roles,
                "due_at": step.due_at,
                "late_ms": round((now - step.due_at).total_seconds() * 1000),
                "channels": sorted({d.channel for d in deliveries}),
            },
        )
        events.announce(events.alert_escalated, alert=alert, escalation=step)
    return True


# --- Answering --------------------------------------------------------------------------------


def _cancel(step: AlertEscalation, now: datetime) -> None:
    step.status = EscalationStatus.CANCELLED
    step.cancelled_at = now
    step.token = uuid.uuid4()  # whatever job still carries the old token does nothing


@dataclass
class Pending:
    """An alert's waiting steps and their active jobs, locked (``lock_pending``)."""

    steps: list[AlertEscalation]
    jobs: list[Job]


def lock_pending(alert: Alert) -> Pending:
    """Lock the waiting steps of an alert whose row the caller has locked, then their active
    jobs. Call before anything in the transaction writes to the audit trail."""
    steps = list(
        AlertEscalation.objects.select_for_update()
        .filter(alert=alert, status=EscalationStatus.PENDING)
        .order_by("number")
    )
    job_ids = [step.job_id for step in steps if step.job_id]
    active = list(
        Job.objects.select_for_update()
        .filter(pk__in=job_ids, status__in=ACTIVE_STATUSES)
        .order_by("pk")
    )
    return Pending(steps, active)


def cancel_locked(pending: Pending, *, actor, now: datetime) -> int:
    """Stop the rest of the chain: the steps are cancelled with new tokens and their jobs
    cancelled, so a job already running finds nothing to do."""
    for step in pending.steps:
        _cancel(step, now)
    AlertEscalation.objects.bulk_update(pending.steps, ["status", "cancelled_at", "token"])
    for job in pending.jobs:
        _cancel_job(job, actor)
    return len(pending.steps)


def cancel_pending(*, alert: Alert, actor, now: datetime) -> int:
    """``lock_pending`` then ``cancel_locked``, for a caller with the alert row locked."""
    return cancel_locked(lock_pending(alert), actor=actor, now=now)


def _cancel_job(job: Job, actor) -> None:
    try:
        jobs.cancel(job=job, actor=actor)
    except Conflict:
        pass  # it finished meanwhile: with the step's token replaced, it changed nothing


# --- The sweeper ------------------------------------------------------------------------------


def _will_run_by_itself(step: AlertEscalation, now: datetime) -> bool:
    """Whether the step's current job will run without help: queued to run no later than the
    step (a busy worker gets to it in due order), or running under a claim renewed lately."""
    job = step.job
    if job is None:
        return False
    if job.status == JobStatus.QUEUED:
        return job.due_at <= step.due_at
    if job.status == JobStatus.RUNNING:
        return job.claimed_at is not None and job.claimed_at >= now - timedelta(
            seconds=_late_seconds()
        )
    return False


def sweep_late_steps(now: datetime | None = None) -> int:
    """Give each waiting step more than MONITORING_ESCALATION_LATE_SECONDS late whose job will
    not run by itself (its worker died, it waits to retry, it failed or was cancelled) a fresh
    token and a job due at the step's own time. Returns how many were re-kicked."""
    now = now or clock.now()
    late_before = now - timedelta(seconds=_late_seconds())
    candidates = list(
        AlertEscalation.objects.filter(
            status=EscalationStatus.PENDING, due_at__lt=late_before, rekicks__lt=MAX_REKICKS
        )
        .order_by("due_at")
        .values_list("pk", "alert_id")[:SWEEP_BATCH]
    )
    return sum(_rekick(pk, alert_id, now) for pk, alert_id in candidates)


def _rekick(step_id: int, alert_id: int, now: datetime) -> bool:
    with transaction.atomic():
        # skip_locked: an alert being answered or escalated right now is not late for long.
        alert = (
            Alert.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("prison")
            .filter(pk=alert_id)
            .first()
        )
        if alert is None:
            return False
        step = (
            AlertEscalation.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("job")
            .filter(pk=step_id, status=EscalationStatus.PENDING)
            .first()
        )
        if step is None or _will_run_by_itself(step, now):
            return False
        old_job = step.job
        old_status = old_job.status if old_job else None
        if old_job is not None and old_job.status in ACTIVE_STATUSES:
            old_job = Job.objects.select_for_update().get(pk=old_job.pk)
        step.token = uuid.uuid4()
        step.rekicks += 1
        step.job = _job_for(step)
        step.save(update_fields=["token", "rekicks", "job"])
        if old_job is not None and old_job.status in ACTIVE_STATUSES:
            _cancel_job(old_job, SYSTEM)
        record(
            actor=SYSTEM,
            action=Action.UPDATE,
            object_type="monitoring_alert",
            object_id=alert.public_id,
            prison_code=alert.prison.code,
            details={
                "event": "escalation_rekicked",
                "step": step.number,
                "due_at": step.due_at,
                "previous_job_status": old_status,
                "rekicks": step.rekicks,
            },
        )
    logger.warning("Escalation step %s of alert %s was late: re-kicked", step.number, alert_id)
    return True


def _slot(at: datetime) -> datetime:
    seconds = conf.value("MONITORING_ESCALATION_SWEEP_SECONDS")
    epoch = at.timestamp()
    return datetime.fromtimestamp(math.ceil(epoch / seconds) * seconds, tz=UTC)


def ensure_sweep(at: datetime) -> Job:
    """A sweep at ``at`` (rounded up to the sweep interval): one job per interval at most."""
    due = _slot(at)
    return jobs.enqueue(
        kind=JOB_SWEEP_ESCALATIONS,
        due_at=due,
        dedupe_key=f"{JOB_SWEEP_ESCALATIONS}:{due:%Y%m%dT%H%M%S}",
    )


def sweep_and_schedule(now: datetime | None = None) -> int:
    """The sweep job: re-kick late steps, then queue the next sweep for when the earliest
    waiting step could next be late (no sweeps at all while nothing waits)."""
    now = now or clock.now()
    rekicked = sweep_late_steps(now)
    earliest = AlertEscalation.objects.filter(
        status=EscalationStatus.PENDING, rekicks__lt=MAX_REKICKS
    ).aggregate(earliest=Min("due_at"))["earliest"]
    if earliest is not None:
        interval = timedelta(seconds=conf.value("MONITORING_ESCALATION_SWEEP_SECONDS"))
        with transaction.atomic():
            ensure_sweep(max(earliest + timedelta(seconds=_late_seconds()), now + interval))
    return rekicked
