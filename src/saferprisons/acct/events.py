"""ACCT domain events: Django signals, always sent after the transaction that caused them commits.

Receivers get ``case`` (an ``AcctCase``) and the keyword arguments listed beside each signal. A
receiver that fails is logged and does not undo or break the change (it has already committed).

- ``acct_opened``: case, concern
- ``acct_reopened``: case, concern (None when a manager reopened it without a new concern)
- ``acct_closed``: case, status (POST_CLOSURE at closure; CLOSED once post-closure completes),
  review
- ``review_due``: case, due_at, reason (a DemandReason or "SCHEDULED")
- ``observation_overdue``: case, due_at, task (the StaffTask raised for the wing's manager)
"""

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

acct_opened = Signal()
acct_reopened = Signal()
acct_closed = Signal()
review_due = Signal()
observation_overdue = Signal()


def send_on_commit(signal: Signal, **kwargs) -> None:
    """Send ``signal`` once the current transaction commits (at once if there is none)."""
    from .models import AcctCase

    def send() -> None:
        for receiver, result in signal.send_robust(sender=AcctCase, **kwargs):
            if isinstance(result, Exception):
                logger.error(
                    "ACCT event receiver %r failed", receiver, exc_info=(type(result), result, None)
                )

    transaction.on_commit(send)
