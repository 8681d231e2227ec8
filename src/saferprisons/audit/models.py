"""Append-only, hash-chained audit events.

Each row's hash covers its own content and the previous row's hash, so editing or removing a row
breaks the chain at that point; ``manage.py audit_verify`` finds the first broken link.
"""

import hashlib
import json

from django.conf import settings
from django.db import models

from saferprisons.core import clock

from .constants import GENESIS_HASH, ActorKind


class AuditEvent(models.Model):
    sequence = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField(default=clock.now, db_index=True)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    # PROTECT: an audit row must outlive the account it names; users are deactivated, not deleted.
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=30, db_index=True)
    object_type = models.CharField(max_length=60, db_index=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    prison_code = models.CharField(max_length=10, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    client_ip = models.CharField(max_length=64, blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-sequence"]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.actor_label} {self.action} {self.object_type}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Audit events are append-only.")

    def canonical_content(self) -> str:
        return json.dumps(
            {
                "sequence": self.sequence,
                "occurred_at": self.occurred_at.isoformat(),
                "actor_kind": self.actor_kind,
                "actor_user": self.actor_user_id,
                "actor_label": self.actor_label,
                "action": self.action,
                "object_type": self.object_type,
                "object_id": self.object_id,
                "prison_code": self.prison_code,
                "before": self.before,
                "after": self.after,
                "details": self.details,
                "request_id": self.request_id,
                "client_ip": self.client_ip,
            },
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )

    def compute_hash(self) -> str:
        payload = (self.previous_hash + self.canonical_content()).encode()
        return hashlib.sha256(payload).hexdigest()


class AuditChainHead(models.Model):
    """One row, locked while appending, so the chain stays a single line under concurrency."""

    last_sequence = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"audit chain at #{self.last_sequence}"
