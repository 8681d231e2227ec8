"""ACCT timers run by the worker (registered at start-up by JobsConfig). Each is idempotent:
delivery is at least once."""

from datetime import datetime
from uuid import UUID

from saferprisons.jobs.errors import PermanentFailure
from saferprisons.jobs.registry import handler

from .constants import JOB_OBSERVATION_OVERDUE, JOB_REVIEW_DUE


def _case_id(payload: dict) -> UUID:
    try:
        return UUID(str(payload["case"]))
    except (KeyError, ValueError) as error:
        raise PermanentFailure(f"Bad ACCT job payload: {payload!r}") from error


@handler(JOB_OBSERVATION_OVERDUE)
def observation_overdue_check(payload: dict, job) -> None:
    from . import services

    services.check_observation_overdue(case_id=_case_id(payload))


@handler(JOB_REVIEW_DUE)
def review_due_check(payload: dict, job) -> None:
    from . import services

    try:
        due_at = datetime.fromisoformat(payload["due_at"])
    except (KeyError, TypeError, ValueError) as error:
        raise PermanentFailure(f"Bad ACCT job payload: {payload!r}") from error
    services.check_review_due(case_id=_case_id(payload), due_at=due_at)
