"""Every monitoring read that leaves the app, scoped to the principal's prisons.

Out-of-scope records are NotFound (the same as missing). Spot pulse and breathing figures in
rollups are returned only to principals with ``monitoring.view_vital_signs``.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.db.models import QuerySet

from saferprisons.core import clock
from saferprisons.core.errors import NotFound
from saferprisons.core.permissions import has_permission, principal_prison_ids

from . import permissions as perms
from .models import (
    Alert,
    DeadLetter,
    Device,
    Enrolment,
    Gateway,
    IngestCounter,
    MinuteRollup,
    RuleConfig,
)
from .rules import RuleSetting

VITAL_FIELDS = (
    "pulse_count",
    "pulse_min",
    "pulse_max",
    "pulse_quality_min",
    "breathing_count",
    "breathing_min",
    "breathing_max",
    "breathing_quality_min",
)


def _prisons(principal, permission: str) -> list[int]:
    if not has_permission(principal, permission):
        return []
    return principal_prison_ids(principal)


def gateway_for_token(token) -> Gateway | None:
    """The in-service gateway a token belongs to, if any (the HTTP ingest endpoint)."""
    return (
        Gateway.objects.filter(api_token=token, retired_at__isnull=True)
        .select_related("prison")
        .first()
    )


# --- Alerts ---------------------------------------------------------------------------------------


def alerts_visible_to(principal) -> QuerySet[Alert]:
    return Alert.objects.filter(prison_id__in=_prisons(principal, perms.VIEW_ALERTS))


def open_alerts(principal, prison=None) -> QuerySet[Alert]:
    """Unresolved alerts, newest first, with what a console row shows."""
    alerts = alerts_visible_to(principal).filter(resolved_at__isnull=True)
    if prison is not None:
        alerts = alerts.filter(prison=prison)
    return alerts.select_related("cell", "prisoner", "device").order_by("-opened_at", "-id")


def get_alert(principal, public_id: UUID | str) -> Alert:
    alert = (
        alerts_visible_to(principal)
        .select_related("prison", "cell", "prisoner", "device")
        .filter(public_id=public_id)
        .first()
    )
    if alert is None:
        raise NotFound("No such alert in your prisons")
    return alert


# --- Enrolment, devices and rules -----------------------------------------------------------------


def current_enrolments(principal, prison, at: datetime | None = None) -> QuerySet[Enrolment]:
    at = at or clock.now()
    return (
        Enrolment.objects.filter(
            prison_id__in=_prisons(principal, perms.MANAGE_ENROLMENT),
            prison=prison,
            starts_at__lte=at,
            ends_at__gt=at,
        )
        .select_related("prisoner", "decided_by")
        .order_by("review_on", "id")
    )


def devices(principal, prison) -> QuerySet[Device]:
    allowed = set(_prisons(principal, perms.MANAGE_DEVICES)) | set(
        _prisons(principal, perms.VIEW_OPERATIONS)
    )
    return (
        Device.objects.filter(gateway__prison_id__in=allowed, gateway__prison=prison)
        .select_related("gateway", "cell")
        .order_by("cell__path", "kind")
    )


def rule_settings(principal, prison, location=None) -> dict[str, RuleSetting]:
    """Each rule's setting in force for a prison (or one of its wings or landings)."""
    from .roster import settings_for

    if prison.pk not in _prisons(principal, perms.CONFIGURE_RULES):
        raise NotFound("No such prison in your prisons")
    configs: dict[tuple, dict] = {}
    for config in RuleConfig.objects.filter(prison=prison):
        configs.setdefault((config.prison_id, config.location_id), {})[config.kind] = config
    wing = landing = None
    if location is not None:
        landing = location.pk if location.parent_id else None
        wing = location.parent_id or location.pk
    return settings_for(configs, prison.pk, wing, landing)


# --- Operations -----------------------------------------------------------------------------------


def dead_letters(principal, prison) -> QuerySet[DeadLetter]:
    return DeadLetter.objects.filter(
        prison_id__in=_prisons(principal, perms.VIEW_OPERATIONS), prison=prison
    ).order_by("-received_at", "-id")


def ingest_counters(principal, prison, since: datetime) -> QuerySet[IngestCounter]:
    return IngestCounter.objects.filter(
        prison_id__in=_prisons(principal, perms.VIEW_OPERATIONS), prison=prison, minute__gte=since
    ).order_by("minute")


def rollups(principal, device: Device, start: datetime, end: datetime) -> list[dict]:
    """A device's minutes in [start, end); vital-sign figures only for healthcare."""
    allowed = set(_prisons(principal, perms.VIEW_ALERTS)) | set(
        _prisons(principal, perms.VIEW_OPERATIONS)
    )
    if device.gateway.prison_id not in allowed:
        raise NotFound("No such device in your prisons")
    rows = list(
        MinuteRollup.objects.filter(device=device, minute__gte=start, minute__lt=end)
        .order_by("minute")
        .values()
    )
    if not has_permission(principal, perms.VIEW_VITAL_SIGNS):
        for row in rows:
            for name in VITAL_FIELDS:
                row.pop(name)
    return rows
