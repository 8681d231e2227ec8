"""Write audit events. Called inside the caller's transaction so the event and the change commit
together (or not at all)."""

import json

from django.db import transaction
from django.forms.models import model_to_dict

from saferprisons.core import clock
from saferprisons.core.context import client_ip_var, request_id_var

from .actors import describe_actor
from .constants import MASK, SENSITIVE_FIELDS
from .models import AuditChainHead, AuditEvent


def _jsonable(value):
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str, sort_keys=True))


def masked(values: dict | None) -> dict | None:
    if values is None:
        return None
    return {
        k: (MASK if k in SENSITIVE_FIELDS and v not in (None, "") else v) for k, v in values.items()
    }


def snapshot(instance, fields: list[str] | None = None) -> dict:
    """A model's field values for before/after, with sensitive values masked."""
    return masked(_jsonable(model_to_dict(instance, fields=fields)))


def record(
    *,
    actor,
    action: str,
    object_type: str,
    object_id: str = "",
    prison_code: str = "",
    before: dict | None = None,
    after: dict | None = None,
    details: dict | None = None,
) -> AuditEvent:
    kind, user, label = describe_actor(actor)
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            sequence=head.last_sequence + 1,
            occurred_at=clock.now(),
            actor_kind=kind,
            actor_user=user,
            actor_label=label[:200],
            action=action,
            object_type=object_type,
            object_id=str(object_id)[:64],
            prison_code=prison_code or "",
            before=_jsonable(masked(before)),
            after=_jsonable(masked(after)),
            details=_jsonable(details or {}),
            request_id=request_id_var.get(),
            client_ip=client_ip_var.get(),
            previous_hash=head.last_hash,
        )
        event.hash = event.compute_hash()
        event.save()
        head.last_sequence = event.sequence
        head.last_hash = event.hash
        head.save(update_fields=["last_sequence", "last_hash"])
    return event
