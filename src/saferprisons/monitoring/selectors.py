"""Every monitoring read that leaves the app, scoped to the principal's prisons.

Out-of-scope records are NotFound (the same as missing). Spot pulse and breathing figures in
rollups are returned only to principals with ``monitoring.view_vital_signs``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db.models import (
    Case,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
    When,
)

from saferprisons.audit.constants import Action
from saferprisons.audit.services import record
from saferprisons.core import clock
from saferprisons.core.errors import NotFound
from saferprisons.core.permissions import has_permission, principal_prison_ids
from saferprisons.estate.constants import LocationLevel
from saferprisons.estate.models import Location

from . import permissions as perms
from .constants import RULE_ORDER, VITAL_RULES, EscalationStatus, Priority
from .models import (
    Alert,
    AlertEscalation,
    AlertReading,
    DeadLetter,
    Device,
    Enrolment,
    EscalationStep,
    Gateway,
    IngestCounter,
    MinuteRollup,
    Notification,
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


@dataclass(frozen=True)
class PersonMonitoring:
    """What a person's profile shows about the pilot: the enrolment in force (if any), the next
    one planned, and every earlier one, newest first."""

    current: Enrolment | None
    planned: Enrolment | None
    history: list[Enrolment]


def person_monitoring(principal, prisoner, at: datetime | None = None) -> PersonMonitoring | None:
    """The person's enrolments, for staff who see monitoring in the person's prison (else None).
    The person's profile view that includes this is already audited."""
    if prisoner.prison_id is None or prisoner.prison_id not in _prisons(
        principal, perms.VIEW_ALERTS
    ):
        return None
    at = at or clock.now()
    enrolments = list(
        Enrolment.objects.filter(prisoner=prisoner).select_related("decided_by", "ended_early_by")
    )
    current = next((e for e in enrolments if e.starts_at <= at < e.ends_at), None)
    planned = min(
        (e for e in enrolments if e.starts_at > at), key=lambda e: e.starts_at, default=None
    )
    history = [e for e in enrolments if e.ends_at <= at]
    return PersonMonitoring(current, planned, history)


def gateways(principal, prison) -> QuerySet[Gateway]:
    """A prison's gateways, in service first, for the people who manage them."""
    return (
        Gateway.objects.filter(
            prison_id__in=_prisons(principal, perms.MANAGE_DEVICES), prison=prison
        )
        .select_related("api_token")
        .order_by(F("retired_at").asc(nulls_first=True), "code")
    )


def gateway_to_manage(principal, public_id: UUID | str) -> Gateway:
    gateway = (
        Gateway.objects.filter(prison_id__in=_prisons(principal, perms.MANAGE_DEVICES))
        .select_related("prison")
        .filter(public_id=public_id)
        .first()
    )
    if gateway is None:
        raise NotFound("No such gateway in your prisons")
    return gateway


def device_to_manage(principal, public_id: UUID | str) -> Device:
    device = (
        Device.objects.filter(gateway__prison_id__in=_prisons(principal, perms.MANAGE_DEVICES))
        .select_related("gateway__prison", "cell")
        .filter(public_id=public_id)
        .first()
    )
    if device is None:
        raise NotFound("No such device in your prisons")
    return device


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


def own_rule_configs(principal, prison) -> dict[str, RuleConfig]:
    """The prison's own prison-wide settings by rule kind (the others use the built-in
    default)."""
    if prison.pk not in _prisons(principal, perms.CONFIGURE_RULES):
        raise NotFound("No such prison in your prisons")
    configs = RuleConfig.objects.filter(prison=prison, location__isnull=True)
    return {config.kind: config for config in configs.select_related("updated_by")}


def configured_rule_kinds(principal, prison) -> set[str]:
    """The rules a prison has set for itself, prison-wide (the others use the built-in default)."""
    return set(own_rule_configs(principal, prison))


def _require_rules_prison(principal, prison) -> None:
    if prison.pk not in _prisons(principal, perms.CONFIGURE_RULES):
        raise NotFound("No such prison in your prisons")


def rule_units(principal, prison) -> QuerySet[Location]:
    """The wings and landings in use in a prison, by path: where a rule can be overridden."""
    _require_rules_prison(principal, prison)
    return Location.objects.filter(
        prison=prison,
        level__in=(LocationLevel.WING, LocationLevel.LANDING),
        deactivated_at__isnull=True,
    ).order_by("path")


def rule_unit(principal, prison, path: str) -> Location:
    """One wing or landing of the prison by its path (A, A-1), open or not (so an override set
    before it closed can still be removed)."""
    _require_rules_prison(principal, prison)
    unit = (
        Location.objects.filter(
            prison=prison,
            level__in=(LocationLevel.WING, LocationLevel.LANDING),
            path=(path or "").strip().upper(),
        )
        .select_related("parent")
        .first()
    )
    if unit is None:
        raise NotFound(f"No wing or landing {path} in {prison.name}")
    return unit


def rule_overrides(principal, prison) -> list[RuleConfig]:
    """Every rule a wing or landing of the prison sets for itself, by unit path then rule."""
    _require_rules_prison(principal, prison)
    order = {kind: number for number, kind in enumerate(RULE_ORDER)}
    overrides = RuleConfig.objects.filter(prison=prison, location__isnull=False).select_related(
        "location", "updated_by"
    )
    return sorted(overrides, key=lambda c: (c.location.path, order.get(c.kind, len(order))))


def inherited_rule_settings(principal, prison, unit) -> dict[str, RuleSetting]:
    """What a wing or landing would have without its own overrides: for a landing, its wing's
    settings in force; for a wing, the prison's."""
    parent = unit.parent if unit.level == LocationLevel.LANDING else None
    return rule_settings(principal, prison, parent)


def enrolment_to_manage(principal, public_id: UUID | str) -> Enrolment:
    enrolment = (
        Enrolment.objects.filter(prison_id__in=_prisons(principal, perms.MANAGE_ENROLMENT))
        .select_related("prisoner", "prison", "decided_by", "ended_early_by")
        .filter(public_id=public_id)
        .first()
    )
    if enrolment is None:
        raise NotFound("No such enrolment in your prisons")
    return enrolment


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


# --- The live console (views/console.py, the API) -------------------------------------------------

PRIORITY_RANK = Case(
    When(priority=Priority.HIGH, then=Value(0)),
    When(priority=Priority.MEDIUM, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


@dataclass
class ConsoleAlert:
    """An open (or just resolved) alert with what the console shows beside it."""

    alert: Alert
    steps: list[AlertEscalation]
    at_trigger: AlertReading | None
    latest: AlertReading | None
    show_vitals: bool  # spot pulse and breathing figures: healthcare only

    @property
    def is_vital_rule(self) -> bool:
        return self.alert.rule in VITAL_RULES

    @property
    def fired(self) -> list[AlertEscalation]:
        return [s for s in self.steps if s.status == EscalationStatus.FIRED]

    @property
    def next_step(self) -> AlertEscalation | None:
        return next((s for s in self.steps if s.status == EscalationStatus.PENDING), None)

    @property
    def stopped(self) -> list[AlertEscalation]:
        return [s for s in self.steps if s.status == EscalationStatus.CANCELLED]


def _require_alerts_prison(principal, prison) -> None:
    if prison is None or prison.pk not in _prisons(principal, perms.VIEW_ALERTS):
        raise NotFound("No such prison in your prisons")


def _with_console_facts(alerts: QuerySet[Alert]) -> QuerySet[Alert]:
    at_trigger = AlertReading.objects.filter(
        alert=OuterRef("pk"), recorded_at__lte=OuterRef("triggered_at")
    ).order_by("-recorded_at")
    latest = AlertReading.objects.filter(alert=OuterRef("pk")).order_by("-recorded_at")
    return (
        alerts.select_related("prison", "cell", "prisoner", "device", "acknowledged_by", "reset_by")
        .prefetch_related(
            Prefetch("escalations", queryset=AlertEscalation.objects.order_by("number"))
        )
        .annotate(
            reading_at_trigger_id=Subquery(at_trigger.values("pk")[:1]),
            latest_reading_id=Subquery(latest.values("pk")[:1]),
        )
    )


def _console_rows(principal, alerts: list[Alert]) -> list[ConsoleAlert]:
    ids = {a.reading_at_trigger_id for a in alerts} | {a.latest_reading_id for a in alerts}
    readings = AlertReading.objects.in_bulk([pk for pk in ids if pk])
    show_vitals = has_permission(principal, perms.VIEW_VITAL_SIGNS)
    return [
        ConsoleAlert(
            alert=a,
            steps=list(a.escalations.all()),
            at_trigger=readings.get(a.reading_at_trigger_id),
            latest=readings.get(a.latest_reading_id),
            show_vitals=show_vitals,
        )
        for a in alerts
    ]


def console_alerts(principal, prison) -> list[ConsoleAlert]:
    """A prison's open alerts, high priority first, then the longest waiting first. Not
    audited: the console records one view per page and per change (``record_console_view``).
    A fixed number of queries whatever the number of alerts."""
    _require_alerts_prison(principal, prison)
    alerts = _with_console_facts(
        Alert.objects.filter(prison=prison, resolved_at__isnull=True)
    ).order_by(PRIORITY_RANK, "opened_at", "id")
    return _console_rows(principal, list(alerts))


def record_enrolments_view(principal, prison, count: int) -> None:
    """One audit event for a view of who is enrolled in a prison (page or API)."""
    record(
        actor=principal,
        action=Action.VIEW,
        object_type="monitoring_enrolments",
        prison_code=prison.code,
        details={"result_count": count},
    )


def record_console_view(principal, prison, rows: list[ConsoleAlert]) -> None:
    """One audit event for a view of the console, listing the alerts shown."""
    record(
        actor=principal,
        action=Action.VIEW,
        object_type="monitoring_console",
        object_id=prison.public_id,
        prison_code=prison.code,
        details={
            "result_count": len(rows),
            "alerts": [str(row.alert.public_id) for row in rows],
        },
    )


def console_alert(principal, public_id: UUID | str) -> ConsoleAlert:
    """One alert as the console shows it, not audited (the API's answer to a response, which
    its service has just audited)."""
    alert = _with_console_facts(alerts_visible_to(principal)).filter(public_id=public_id).first()
    if alert is None:
        raise NotFound("No such alert in your prisons")
    return _console_rows(principal, [alert])[0]


def alert_detail(principal, public_id: UUID | str) -> tuple[ConsoleAlert, list[AlertReading]]:
    """One alert (open or not) with its raw readings, in time order. Audited."""
    alert = _with_console_facts(alerts_visible_to(principal)).filter(public_id=public_id).first()
    if alert is None:
        raise NotFound("No such alert in your prisons")
    row = _console_rows(principal, [alert])[0]
    readings = list(AlertReading.objects.filter(alert=alert).order_by("recorded_at"))
    record(
        actor=principal,
        action=Action.VIEW,
        object_type="monitoring_alert",
        object_id=alert.public_id,
        prison_code=alert.prison.code,
        details={"readings": len(readings), "vital_signs_shown": row.show_vitals},
    )
    return row, readings


def notifications_for(principal, prison, *, limit: int = 100) -> list[Notification]:
    """The in-app notifications for the principal's roles in a prison, newest first."""
    _require_alerts_prison(principal, prison)
    roles = principal.role_codes() if hasattr(principal, "role_codes") else []
    return list(
        Notification.objects.filter(prison=prison, role__in=roles)
        .select_related("alert__cell", "alert__prisoner", "alert__acknowledged_by", "escalation")
        .order_by("-created_at", "-id")[:limit]
    )


def open_alerts_by_person(principal, prison, prisoner_ids) -> dict[int, list[Alert]]:
    """Open monitoring alerts per person (the wing safety board's tags); empty without
    ``monitoring.view_alerts`` in the prison. One query."""
    if prison.pk not in _prisons(principal, perms.VIEW_ALERTS):
        return {}
    found: dict[int, list[Alert]] = {}
    alerts = Alert.objects.filter(
        prison=prison, resolved_at__isnull=True, prisoner_id__in=list(prisoner_ids)
    ).order_by(PRIORITY_RANK, "opened_at", "id")
    for alert in alerts.only("pk", "prisoner_id", "rule", "priority", "opened_at"):
        found.setdefault(alert.prisoner_id, []).append(alert)
    return found


def escalation_chain(principal, prison) -> list[EscalationStep]:
    """The prison's configured chain (empty: the built-in default is in force)."""
    if prison.pk not in _prisons(principal, perms.CONFIGURE_RULES):
        raise NotFound("No such prison in your prisons")
    return list(EscalationStep.objects.filter(prison=prison).order_by("number"))
