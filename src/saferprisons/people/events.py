"""Events other capabilities subscribe to. Sent only after the change has committed.

- ``prisoner_transferred``: prisoner, from_prison, to_prison, movement (the TRANSFER_IN Movement),
  occurred_at. Receivers must be idempotent (key on ``movement.public_id``): a receiver that fails
  is logged and the transfer stands.
- ``prisoner_released``: prisoner, from_prison, movement (the RELEASE Movement), occurred_at.
  The same rules: idempotent receivers; a failure is logged and the release stands.
"""

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

prisoner_transferred = Signal()
prisoner_released = Signal()


def announce_transfer(*, prisoner, from_prison, to_prison) -> None:
    """Call inside the transfer's transaction: the signal goes out after it commits."""
    from .constants import MovementKind
    from .models import Movement

    movement = (
        Movement.objects.filter(prisoner=prisoner, kind=MovementKind.TRANSFER_IN)
        .order_by("-occurred_at", "-id")
        .first()
    )

    def send() -> None:
        for receiver, result in prisoner_transferred.send_robust(
            sender=type(prisoner),
            prisoner=prisoner,
            from_prison=from_prison,
            to_prison=to_prison,
            movement=movement,
            occurred_at=movement.occurred_at if movement else None,
        ):
            if isinstance(result, Exception):
                logger.error(
                    "prisoner_transferred receiver %r failed",
                    receiver,
                    exc_info=(type(result), result, None),
                )

    transaction.on_commit(send)


def announce_release(*, prisoner, from_prison) -> None:
    """Call inside the release's transaction: the signal goes out after it commits."""
    from .constants import MovementKind
    from .models import Movement

    movement = (
        Movement.objects.filter(prisoner=prisoner, kind=MovementKind.RELEASE)
        .order_by("-occurred_at", "-id")
        .first()
    )

    def send() -> None:
        for receiver, result in prisoner_released.send_robust(
            sender=type(prisoner),
            prisoner=prisoner,
            from_prison=from_prison,
            movement=movement,
            occurred_at=movement.occurred_at if movement else None,
        ):
            if isinstance(result, Exception):
                logger.error(
                    "prisoner_released receiver %r failed",
                    receiver,
                    exc_info=(type(result), result, None),
                )

    transaction.on_commit(send)
