"""Monitoring jobs run by the worker (registered at start-up by JobsConfig). Idempotent: delivery
is at least once. Deleting what is already deleted does nothing; an escalation step fires only
while it waits with the job's token (escalation.py); a delivery is sent only while queued."""

from saferprisons.jobs.registry import handler

from .constants import (
    JOB_DELIVER_NOTIFICATION,
    JOB_ESCALATE,
    JOB_PURGE_RAW_READINGS,
    JOB_SWEEP_ESCALATIONS,
)


@handler(JOB_PURGE_RAW_READINGS)
def purge_raw_readings(payload: dict, job) -> None:
    from . import services

    services.purge_raw_readings()


@handler(JOB_ESCALATE)
def escalate(payload: dict, job) -> None:
    from . import escalation

    escalation.fire_step(payload["escalation"], payload["token"])


@handler(JOB_SWEEP_ESCALATIONS)
def sweep_escalations(payload: dict, job) -> None:
    from . import escalation

    escalation.sweep_and_schedule()


@handler(JOB_DELIVER_NOTIFICATION)
def deliver_notification(payload: dict, job) -> None:
    from . import notifications

    notifications.deliver(payload["delivery"])
