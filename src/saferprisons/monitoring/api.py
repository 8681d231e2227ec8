"""The HTTP ingest endpoint, for gateways that cannot speak MQTT, and the console's alerts (open
alerts for a prison; acknowledge, reset, resolve). Thin: the pipeline, selectors and services do
the work.

``POST /api/monitoring/readings`` with the gateway's token (scope ``sensors:write``) and a message
in the docs/schemas/reading-v1.json format. The body is read raw (orjson, no per-reading
pydantic): a message answers 202 with what happened to its readings, bad readings included
(they are dead-lettered and counted); only a message that cannot be read at all is a 4xx.
"""

import logging
from uuid import UUID

from django.db import DatabaseError
from ninja import Path, Router
from ninja.responses import Status

from saferprisons.core.api_support import (
    WRITE_ERRORS,
    api_permission,
    error_response,
    responses,
)
from saferprisons.core.errors import NotFound
from saferprisons.estate.selectors import prison_in_scope

from . import conf, selectors, services
from . import permissions as perms
from .constants import WIRE_NAME_BY_ZONE, DeadLetterReason
from .ingest import GatewayRef, default_pipeline
from .models import Alert
from .schemas import IngestResultOut, MonitoringAlertOut, MonitoringResolveIn
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
    try:
        prison = prison_in_scope(request.auth, code)
    except NotFound:
        raise NotFound("No such prison among yours") from None
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
