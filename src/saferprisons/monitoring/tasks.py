"""Monitoring jobs run by the worker (registered at start-up by JobsConfig). Idempotent: delivery
is at least once, and deleting what is already deleted does nothing."""

from saferprisons.jobs.registry import handler

from .constants import JOB_PURGE_RAW_READINGS


@handler(JOB_PURGE_RAW_READINGS)
def purge_raw_readings(payload: dict, job) -> None:
    from . import services

    services.purge_raw_readings()
