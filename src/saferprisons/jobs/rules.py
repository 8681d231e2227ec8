"""Pure timing rules for the worker: no database, no clock reads (the caller passes ``now``)."""

from datetime import datetime, timedelta

from .constants import LAST_ERROR_MAX_CHARS, RETRY_BASE_SECONDS, RETRY_CAP_SECONDS

# 2**20 * 5 s is far past the cap; stopping the exponent here keeps huge attempt counts cheap.
_MAX_EXPONENT = 20


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after failed attempt number ``attempts`` (1-based): 5 s, 10 s, 20 s, ...

    capped at 10 minutes.
    """
    if attempts < 1:
        raise ValueError(f"attempts counts from 1, got {attempts}")
    exponent = min(attempts - 1, _MAX_EXPONENT)
    return min(
        timedelta(seconds=RETRY_BASE_SECONDS * 2**exponent), timedelta(seconds=RETRY_CAP_SECONDS)
    )


def can_retry(attempts: int, max_attempts: int) -> bool:
    return attempts < max_attempts


def stale_cutoff(now: datetime, stale_after_seconds: float) -> datetime:
    """Anything last confirmed before this moment is stale (shared by the sweeper and status)."""
    return now - timedelta(seconds=stale_after_seconds)


def is_stale(moment: datetime, now: datetime, stale_after_seconds: float) -> bool:
    """True when ``moment`` (a claim or a heartbeat) is more than the given seconds before now."""
    return moment < stale_cutoff(now, stale_after_seconds)


def clip_error(text: str) -> str:
    """Keep the start of an error report (the summary line comes first) to the stored length."""
    return text[:LAST_ERROR_MAX_CHARS]
