"""Subscriptions to other capabilities' events (connected in AcctConfig.ready)."""

from django.dispatch import receiver

from saferprisons.core import clock
from saferprisons.people.events import prisoner_released, prisoner_transferred


@receiver(prisoner_transferred, dispatch_uid="acct.move_case_with_person")
def move_case_with_person(sender, *, prisoner, to_prison, movement=None, occurred_at=None, **kw):
    from . import services

    key = f"transfer:{movement.public_id}" if movement is not None else ""
    services.move_case_on_transfer(
        prisoner=prisoner,
        to_prison=to_prison,
        arrived_at=occurred_at or clock.now(),
        source_key=key,
    )


@receiver(prisoner_released, dispatch_uid="acct.close_case_on_release")
def close_case_on_release(sender, *, prisoner, from_prison, occurred_at=None, **kw):
    from . import services

    services.close_case_on_release(
        prisoner=prisoner, from_prison=from_prison, released_at=occurred_at or clock.now()
    )
