"""Events other capabilities subscribe to (console, wing board, escalation, incidents, ACCT).
Sent only after the change has committed; a failing receiver is logged and the change stands.

- ``alert_opened``: alert_ids (the new alerts' primary keys).
- ``alert_acknowledged``, ``alert_reset``: alert.
- ``alert_escalated``: alert, escalation (the step of its chain that was just sent).
- ``alert_resolved``: alert (with its outcome; SELF_HARM_FOUND starts an incident and demands an
  ACCT review in the apps that own those).
"""

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

alert_opened = Signal()
alert_acknowledged = Signal()
alert_reset = Signal()
alert_escalated = Signal()
alert_resolved = Signal()


def announce(signal: Signal, **kwargs) -> None:
    """Call inside the transaction: the signal goes out after it commits."""

    def send() -> None:
        for receiver, result in signal.send_robust(sender=None, **kwargs):
            if isinstance(result, Exception):
                logger.error(
                    "Monitoring event receiver %r failed",
                    receiver,
                    exc_info=(type(result), result, result.__traceback__),
                )

    transaction.on_commit(send)
