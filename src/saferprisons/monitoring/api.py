"""The HTTP ingest endpoint, for gateways that cannot speak MQTT, the console's alerts (open
alerts for a prison; acknowledge, reset, resolve), and managing the pilot (enrolments, rule
settings for a prison and its wings and landings, gateways and devices, the escalation chain).
Thin: the pipeline, selectors and services do the work.

Managing the pilot takes the same permission as the page that does the same thing (managers:
``monitoring.manage_enrolment``, ``monitoring.configure_rules``; system administrators:
``monitoring.manage_devices``); no token scope grants them, so these are for staff sessions.
Records outside the caller's prisons answer 404, the same as missing.

``POST /api/monitoring/readings`` with the gateway's token (scope ``sensors:write``) and a message
in the docs/schemas/reading-v1.json format. The body is read raw (orjson, no per-reading
pydantic): a message answers 202 with what happened to its readings, bad readings included
(they are dead-lettered and counted); only a message that cannot be read at all is a 4xx.
"""

import logging
from datetime import time
from uuid import UUID

from django.db import DatabaseError
from ninja import Path, Router
from ninja.pagination import paginate
from ninja.responses import Status

from saferprisons.core.api_support import (
    WRITE_ERRORS,
    Pagination,
    api_permission,
    error_response,
    responses,
)
from saferprisons.core.errors import NotFound, ValidationFailed
from saferprisons.estate.selectors import cell_in_prison, prison_in_scope
from saferprisons.people.schemas import PRISON_NUMBER_PARAM
from saferprisons.people.selectors import get_prisoner

from . import conf, selectors, services
from . import permissions as perms
from .constants import WIRE_NAME_BY_ZONE, DeadLetterReason, RuleKind
from .escalation import DEFAULT_CHAIN
from .ingest import GatewayRef, default_pipeline
from .models import Alert, Device, Enrolment, Gateway, RuleConfig
from .roster import setting_from_config
from .rules import RuleSetting
from .schemas import (
    IngestResultOut,
    MonitoringAlertOut,
    MonitoringChainOut,
    MonitoringDeviceIn,
    MonitoringDeviceOut,
    MonitoringEndEnrolmentIn,
    MonitoringEnrolIn,
    MonitoringEnrolmentOut,
    MonitoringFirmwareIn,
    MonitoringGatewayOut,
    MonitoringResolveIn,
    MonitoringRuleIn,
    MonitoringRuleOut,
    MonitoringRuleSettingsOut,
)
from .selectors import gateway_for_token

logger = logging.getLogger(__name__)
router = Router(tags=["monitoring"])

# The body is read raw, so ninja cannot describe it: the published schema is the reference.
REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": 'One reading, or a batch {"schema_version": 1, '
                    '"readings": [...]}: see docs/schemas/reading-v1.json',
                }
            }
        },
    }
}


@router.post(
    "/readings",
    response=responses(202, IngestResultOut, errors=(400, 401, 403, 413, 422, 503)),
    url_name="monitoring-readings",
    openapi_extra=REQUEST_BODY,
)
@api_permission(perms.INGEST)
def send_readings(request):
    gateway = gateway_for_token(request.auth)
    if gateway is None:
        return error_response(
            403, "forbidden", "This token does not belong to a monitoring gateway in service"
        )
    body = request.body
    if len(body) > conf.value("MONITORING_MAX_MESSAGE_BYTES"):
        return error_response(413, "too_large", "The message is too large")
    pipeline = default_pipeline()
    try:
        result = pipeline.ingest(body, gateway=GatewayRef.of(gateway))
    except DatabaseError:
        logger.exception("Monitoring ingest could not write to the database")
        return error_response(503, "unavailable", "Readings cannot be stored now: send again")
    _tick(pipeline)
    if result.message_problem == DeadLetterReason.MALFORMED_JSON:
        return error_response(400, "malformed_json", "The request body is not valid JSON")
    if result.message_problem is not None:
        return error_response(
            422,
            "bad_envelope",
            result.message_detail,
            [{"field": "body", "message": result.message_detail}],
        )
    return Status(202, result.counts())


def _tick(pipeline) -> None:
    # Silence checks and rollup writes ride on requests here (the consumer has its own timer).
    # The readings are already taken in, so a failure here must not fail the request.
    try:
        pipeline.tick()
    except DatabaseError:
        logger.exception("Monitoring tick failed; rollups stay in memory until the next one")


# --- Alerts -----------------------------------------------------------------------------------

PrisonCode = Path[str, {"min_length": 2, "max_length": 5, "pattern": r"^[A-Za-z0-9]+$"}]


def _reading_out(reading, show_vitals: bool) -> dict | None:
    if reading is None:
        return None
    out = {
        "recorded_at": reading.recorded_at,
        "persons_present": reading.persons_present,
        "activity_level": reading.activity_level,
        "zone": WIRE_NAME_BY_ZONE.get(reading.zone),
        "tampered": reading.tampered,
        "battery_percent": reading.battery_percent,
    }
    if show_vitals:
        out |= {
            "pulse_bpm": reading.pulse_bpm,
            "pulse_quality": reading.pulse_quality,
            "breathing_rate": reading.breathing_rate,
            "breathing_quality": reading.breathing_quality,
        }
    return out


def _alert_out(row: selectors.ConsoleAlert) -> dict:
    alert = row.alert
    return {
        "id": alert.public_id,
        "prison": alert.prison.code,
        "cell": alert.cell.path,
        "prison_number": alert.prisoner.prison_number if alert.prisoner else None,
        "rule": alert.rule,
        "rule_label": alert.get_rule_display(),
        "priority": alert.priority,
        "status": alert.status,
        "threshold_seconds": alert.threshold_seconds,
        "first_reading_at": alert.first_reading_at,
        "triggered_at": alert.triggered_at,
        "opened_at": alert.opened_at,
        "measured_value": alert.measured_value if row.show_vitals else None,
        "measured_quality": alert.measured_quality if row.show_vitals else None,
        "acknowledged_at": alert.acknowledged_at,
        "acknowledged_by": alert.acknowledged_by.username if alert.acknowledged_by else None,
        "reset_at": alert.reset_at,
        "resolved_at": alert.resolved_at,
        "outcome": alert.outcome or None,
        "note": alert.resolution_note,
        "incident_pending": alert.incident_pending,
        "acct_review_demanded": alert.acct_review_demand_id is not None,
        "escalation": [
            {
                "number": step.number,
                "roles": step.roles,
                "due_at": step.due_at,
                "status": step.status,
                "fired_at": step.fired_at,
            }
            for step in row.steps
        ],
        "reading_at_alert": _reading_out(row.at_trigger, row.show_vitals),
    }


def _alert(request, alert_id: UUID) -> Alert:
    alert = selectors.alerts_visible_to(request.auth).filter(public_id=alert_id).first()
    if alert is None:
        raise NotFound("No such alert in your prisons")
    return alert


def _answer(request, alert: Alert) -> dict:
    return _alert_out(selectors.console_alert(request.auth, alert.public_id))


@router.get(
    "/prisons/{code}/alerts",
    response=responses(200, list[MonitoringAlertOut]),
    url_name="monitoring-open-alerts",
)
@api_permission(perms.VIEW_ALERTS)
def list_open_alerts(request, code: PrisonCode):
    """The prison's open alerts, high priority first, then the longest waiting, each with its
    escalation and the reading at the alert (spot pulse and breathing only for healthcare).
    Audited as a view of the console."""
    prison = _prison(request, code)
    rows = selectors.console_alerts(request.auth, prison)
    selectors.record_console_view(request.auth, prison, rows)
    return [_alert_out(row) for row in rows]


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response=responses(200, MonitoringAlertOut, errors=WRITE_ERRORS),
    url_name="monitoring-acknowledge",
)
@api_permission(perms.RESPOND)
def acknowledge_alert(request, alert_id: UUID):
    """I have seen it and I am going: stops the escalation. Again: no change."""
    alert = services.acknowledge_alert(actor=request.auth, alert=_alert(request, alert_id))
    return _answer(request, alert)


@router.post(
    "/alerts/{alert_id}/reset",
    response=responses(200, MonitoringAlertOut, errors=WRITE_ERRORS),
    url_name="monitoring-reset",
)
@api_permission(perms.RESPOND)
def reset_alert(request, alert_id: UUID):
    """A high-priority alert's explicit reset at the cell (also acknowledges). 409 for
    another priority."""
    alert = services.reset_alert(actor=request.auth, alert=_alert(request, alert_id))
    return _answer(request, alert)


@router.post(
    "/alerts/{alert_id}/resolve",
    response=responses(200, MonitoringAlertOut, errors=WRITE_ERRORS),
    url_name="monitoring-resolve",
)
@api_permission(perms.RESPOND)
def resolve_alert(request, alert_id: UUID, payload: MonitoringResolveIn):
    """Close the alert with what was found. A high-priority alert must be reset first (409).
    SELF_HARM_FOUND demands an ACCT review if the person is on an open ACCT and marks that an
    incident must be reported."""
    alert = services.resolve_alert(
        actor=request.auth,
        alert=_alert(request, alert_id),
        outcome=payload.outcome,
        note=payload.note,
    )
    return _answer(request, alert)


# --- Managing the pilot: common pieces ----------------------------------------------------------

PrisonNumber = Path[str, PRISON_NUMBER_PARAM]
RuleKindParam = Path[str, {"min_length": 1, "max_length": 30, "pattern": r"^[A-Z_]+$"}]
UnitPath = Path[str, {"min_length": 1, "max_length": 40, "pattern": r"^[A-Za-z0-9-]+$"}]


def _prison(request, code: str):
    try:
        return prison_in_scope(request.auth, code)
    except NotFound:
        raise NotFound("No such prison among yours") from None


def _kind(kind: str) -> str:
    if kind not in RuleKind.values:
        raise NotFound(f"No rule {kind}: the rules are {', '.join(RuleKind.values)}")
    return kind


def _clock_time(second_of_day: int) -> time:
    return time(second_of_day // 3600, second_of_day % 3600 // 60, second_of_day % 60)


def _rule_out(setting: RuleSetting, config: RuleConfig | None) -> dict:
    if config is None:
        source, unit = "DEFAULT", None
    elif config.location_id is None:
        source, unit = "PRISON", None
    else:
        source, unit = config.location.level, config.location.path
    return {
        "kind": setting.kind,
        "label": RuleKind(setting.kind).label,
        "source": source,
        "unit": unit,
        "enabled": setting.enabled,
        "priority": setting.priority,
        "day_threshold_seconds": setting.day_threshold_seconds,
        "night_threshold_seconds": setting.night_threshold_seconds,
        "day_starts": _clock_time(setting.day_starts_second),
        "day_ends": _clock_time(setting.day_ends_second),
        "limit_low": setting.limit_low,
        "limit_high": setting.limit_high,
        "min_quality": setting.min_quality,
        "updated_by": config.updated_by.username if config else None,
        "updated_at": config.updated_at if config else None,
    }


def _config_out(config: RuleConfig) -> dict:
    return _rule_out(setting_from_config(config), config)


def _enrolment_out(enrolment: Enrolment) -> dict:
    return {
        "id": enrolment.public_id,
        "prison": enrolment.prison.code,
        "prison_number": enrolment.prisoner.prison_number,
        "basis": enrolment.basis,
        "decision_reason": enrolment.decision_reason,
        "decided_by": enrolment.decided_by.username,
        "decided_at": enrolment.decided_at,
        "review_on": enrolment.review_on,
        "starts_at": enrolment.starts_at,
        "ends_at": enrolment.ends_at,
        "ended_early_by": (
            enrolment.ended_early_by.username if enrolment.ended_early_by_id else None
        ),
        "end_reason": enrolment.end_reason,
    }


def _gateway_out(gateway: Gateway) -> dict:
    token = gateway.api_token if gateway.retired_at is None else None
    return {
        "id": gateway.public_id,
        "prison": gateway.prison.code,
        "code": gateway.code,
        "name": gateway.name,
        "in_service": gateway.retired_at is None,
        "retired_at": gateway.retired_at,
        "token_prefix": token.key_prefix if token else None,
        "token_expires_at": token.expires_at if token else None,
        "token_last_used_at": token.last_used_at if token else None,
    }


def _device_out(device: Device) -> dict:
    return {
        "id": device.public_id,
        "external_id": device.external_id,
        "prison": device.gateway.prison.code,
        "gateway": device.gateway.code,
        "cell": device.cell.path,
        "kind": device.kind,
        "vendor": device.vendor,
        "serial": device.serial,
        "firmware": device.firmware,
        "installed_at": device.installed_at,
        "removed_at": device.removed_at,
    }


# --- Enrolments (managers) ------------------------------------------------------------------------


@router.get(
    "/prisons/{code}/enrolments",
    response=responses(200, list[MonitoringEnrolmentOut]),
    url_name="monitoring-enrolments",
)
@paginate(Pagination)
@api_permission(perms.MANAGE_ENROLMENT)
def list_enrolments(request, code: PrisonCode):
    """Everyone enrolled now in the prison, soonest review first. Audited (with the count),
    as the page is."""
    prison = _prison(request, code)
    rows = selectors.current_enrolments(request.auth, prison).select_related("prison")
    selectors.record_enrolments_view(request.auth, prison, rows.count())
    return [_enrolment_out(enrolment) for enrolment in rows]


@router.post(
    "/people/{prison_number}/enrolments",
    response=responses(201, MonitoringEnrolmentOut, errors=WRITE_ERRORS),
    url_name="monitoring-enrol",
)
@api_permission(perms.MANAGE_ENROLMENT)
def enrol(request, prison_number: PrisonNumber, payload: MonitoringEnrolIn):
    """Enrol a person from now to ``ends_at``: their consent, or a manager's decision with its
    reason. 409 if they are already enrolled for some of that time."""
    person = get_prisoner(request.auth, prison_number, audit_view=False)
    enrolment = services.enrol(
        actor=request.auth,
        prisoner=person,
        basis=payload.basis,
        review_on=payload.review_on,
        ends_at=payload.ends_at,
        decision_reason=payload.decision_reason,
    )
    enrolment = selectors.enrolment_to_manage(request.auth, enrolment.public_id)
    return Status(201, _enrolment_out(enrolment))


@router.post(
    "/enrolments/{enrolment_id}/end",
    response=responses(200, MonitoringEnrolmentOut, errors=WRITE_ERRORS),
    url_name="monitoring-end-enrolment",
)
@api_permission(perms.MANAGE_ENROLMENT)
def end_enrolment(request, enrolment_id: UUID, payload: MonitoringEndEnrolmentIn):
    """End an enrolment now, with the reason. One already ended: no change."""
    enrolment = selectors.enrolment_to_manage(request.auth, enrolment_id)
    services.end_enrolment(actor=request.auth, enrolment=enrolment, reason=payload.reason)
    return _enrolment_out(selectors.enrolment_to_manage(request.auth, enrolment_id))


# --- Rule settings (managers) ---------------------------------------------------------------------


@router.get(
    "/prisons/{code}/rules",
    response=responses(200, MonitoringRuleSettingsOut),
    url_name="monitoring-rules",
)
@api_permission(perms.CONFIGURE_RULES)
def list_rules(request, code: PrisonCode):
    """Every rule in force prison-wide, and each wing's or landing's own settings."""
    prison = _prison(request, code)
    in_force = selectors.rule_settings(request.auth, prison)
    own = selectors.own_rule_configs(request.auth, prison)
    return {
        "prison": [_rule_out(in_force[kind], own.get(kind)) for kind in RuleKind.values],
        "units": [_config_out(c) for c in selectors.rule_overrides(request.auth, prison)],
    }


def _set_rule(request, prison, kind: str, unit, payload: MonitoringRuleIn) -> dict:
    config = services.configure_rule(
        actor=request.auth,
        prison=prison,
        location=unit,
        kind=kind,
        enabled=payload.enabled,
        priority=payload.priority,
        day_threshold_seconds=payload.day_threshold_seconds,
        night_threshold_seconds=payload.night_threshold_seconds,
        day_starts=payload.day_starts,
        day_ends=payload.day_ends,
        limit_low=payload.limit_low,
        limit_high=payload.limit_high,
        min_quality=payload.min_quality,
    )
    config = RuleConfig.objects.select_related("location", "updated_by").get(pk=config.pk)
    return _config_out(config)


@router.put(
    "/prisons/{code}/rules/{kind}",
    response=responses(200, MonitoringRuleOut, errors=WRITE_ERRORS),
    url_name="monitoring-set-rule",
)
@api_permission(perms.CONFIGURE_RULES)
def set_prison_rule(request, code: PrisonCode, kind: RuleKindParam, payload: MonitoringRuleIn):
    """Set one rule for the whole prison, replacing its setting (wings and landings with their
    own setting of it keep theirs). Readings from now are checked with it."""
    return _set_rule(request, _prison(request, code), _kind(kind), None, payload)


@router.delete(
    "/prisons/{code}/rules/{kind}",
    response=responses(204, None, errors=WRITE_ERRORS),
    url_name="monitoring-remove-rule",
)
@api_permission(perms.CONFIGURE_RULES)
def remove_prison_rule(request, code: PrisonCode, kind: RuleKindParam):
    """Remove the prison's own setting of a rule: the built-in default is in force again.
    404 if the prison has none."""
    services.remove_rule_setting(
        actor=request.auth, prison=_prison(request, code), kind=_kind(kind)
    )
    return Status(204, None)


@router.put(
    "/prisons/{code}/units/{unit}/rules/{kind}",
    response=responses(200, MonitoringRuleOut, errors=WRITE_ERRORS),
    url_name="monitoring-set-unit-rule",
)
@api_permission(perms.CONFIGURE_RULES)
def set_unit_rule(
    request, code: PrisonCode, unit: UnitPath, kind: RuleKindParam, payload: MonitoringRuleIn
):
    """Give a wing (``A``) or landing (``A-1``) its own setting of a rule, replacing the
    prison's (and, for a landing, its wing's) there."""
    prison = _prison(request, code)
    location = selectors.rule_unit(request.auth, prison, unit)
    return _set_rule(request, prison, _kind(kind), location, payload)


@router.delete(
    "/prisons/{code}/units/{unit}/rules/{kind}",
    response=responses(204, None, errors=WRITE_ERRORS),
    url_name="monitoring-remove-unit-rule",
)
@api_permission(perms.CONFIGURE_RULES)
def remove_unit_rule(request, code: PrisonCode, unit: UnitPath, kind: RuleKindParam):
    """Remove a wing's or landing's own setting: the setting above it applies there again.
    404 if it has none."""
    prison = _prison(request, code)
    location = selectors.rule_unit(request.auth, prison, unit)
    services.remove_rule_setting(
        actor=request.auth, prison=prison, kind=_kind(kind), location=location
    )
    return Status(204, None)


@router.get(
    "/prisons/{code}/escalation",
    response=responses(200, MonitoringChainOut),
    url_name="monitoring-escalation-chain",
)
@api_permission(perms.CONFIGURE_RULES)
def escalation_chain(request, code: PrisonCode):
    """The prison's escalation chain in force: its own, or the built-in default."""
    configured = selectors.escalation_chain(request.auth, _prison(request, code))
    steps = configured or DEFAULT_CHAIN
    return {
        "is_default": not configured,
        "steps": [
            {
                "number": number,
                "delay_seconds": step.delay_seconds,
                "roles": list(step.roles),
                "priorities": list(step.priorities),
                "email_address": step.email_address,
                "phone_number": step.phone_number,
            }
            for number, step in enumerate(steps, start=1)
        ],
    }


# --- Gateways and devices (system administrators) -------------------------------------------------


@router.get(
    "/prisons/{code}/gateways",
    response=responses(200, list[MonitoringGatewayOut]),
    url_name="monitoring-gateways",
)
@paginate(Pagination)
@api_permission(perms.MANAGE_DEVICES)
def list_gateways(request, code: PrisonCode):
    """The prison's gateways, in service first, with their token's prefix and expiry (never
    the secret)."""
    prison = _prison(request, code)
    gateways = selectors.gateways(request.auth, prison).select_related("prison")
    return [_gateway_out(gateway) for gateway in gateways]


@router.get(
    "/prisons/{code}/devices",
    response=responses(200, list[MonitoringDeviceOut]),
    url_name="monitoring-devices",
)
@paginate(Pagination)
@api_permission(perms.MANAGE_DEVICES)
def list_devices(request, code: PrisonCode):
    """The prison's devices by cell, removed ones included (with when)."""
    prison = _prison(request, code)
    found = selectors.devices(request.auth, prison).select_related("gateway__prison")
    return [_device_out(device) for device in found]


@router.post(
    "/prisons/{code}/devices",
    response=responses(201, MonitoringDeviceOut, errors=WRITE_ERRORS),
    url_name="monitoring-register-device",
)
@api_permission(perms.MANAGE_DEVICES)
def register_device(request, code: PrisonCode, payload: MonitoringDeviceIn):
    """Register a device in a cell, reporting through one of the prison's gateways in service."""
    prison = _prison(request, code)
    gateway = (
        selectors.gateways(request.auth, prison)
        .select_related("prison")
        .filter(code=payload.gateway.strip())
        .first()
    )
    if gateway is None:
        raise ValidationFailed(f"No gateway {payload.gateway} in {prison.name}", field="gateway")
    try:
        cell = cell_in_prison(prison.pk, payload.cell)
    except NotFound:
        raise ValidationFailed(f"No cell {payload.cell} in {prison.name}", field="cell") from None
    device = services.register_device(
        actor=request.auth,
        gateway=gateway,
        cell=cell,
        external_id=payload.external_id,
        kind=payload.kind,
        vendor=payload.vendor,
        serial=payload.serial,
        firmware=payload.firmware,
    )
    return Status(201, _device_out(selectors.device_to_manage(request.auth, device.public_id)))


@router.post(
    "/devices/{device_id}/remove",
    response=responses(200, MonitoringDeviceOut, errors=WRITE_ERRORS),
    url_name="monitoring-remove-device",
)
@api_permission(perms.MANAGE_DEVICES)
def remove_device(request, device_id: UUID):
    """Record that the device was taken out now; its readings are refused from now. Again: no
    change."""
    device = selectors.device_to_manage(request.auth, device_id)
    services.remove_device(actor=request.auth, device=device)
    return _device_out(selectors.device_to_manage(request.auth, device_id))


@router.post(
    "/devices/{device_id}/firmware",
    response=responses(200, MonitoringDeviceOut, errors=WRITE_ERRORS),
    url_name="monitoring-device-firmware",
)
@api_permission(perms.MANAGE_DEVICES)
def update_firmware(request, device_id: UUID, payload: MonitoringFirmwareIn):
    """Record the firmware version now installed on a device (not a removed one). The same
    version again: no change."""
    device = selectors.device_to_manage(request.auth, device_id)
    services.update_device_firmware(actor=request.auth, device=device, firmware=payload.firmware)
    return _device_out(selectors.device_to_manage(request.auth, device_id))
