"""The reading wire format (version 1) and the API's request and response bodies.

``READING_FIELDS`` is the one description of a reading: ``validation.py`` checks readings against
it and ``reading_json_schema()`` publishes it as docs/schemas/reading-v1.json (a test keeps the
committed file identical).
"""

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated
from uuid import UUID

from ninja import Field, Schema

from saferprisons.acct.schemas import Day, Moment
from saferprisons.core.api_support import Text

from .conf import DEFAULTS
from .constants import (
    EXTERNAL_ID_MAX_LENGTH,
    EXTERNAL_ID_PATTERN,
    REASON_MAX_LENGTH,
    SCHEMA_VERSION,
)
from .forms import MAX_THRESHOLD_SECONDS

STRING, INTEGER, NUMBER, BOOLEAN, ZONE = "string", "integer", "number", "boolean", "zone"
# Timestamps up to the end of year 9999, so every accepted value converts to a datetime.
MAX_TIMESTAMP_MS = 253_402_300_799_999


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str
    required: bool
    description: str
    minimum: float | None = None
    maximum: float | None = None
    # Optional fields that must come together (a measurement and its quality).
    comes_with: str | None = None


READING_FIELDS = (
    FieldSpec("device_id", STRING, True, "The device's id as registered (Device.external_id)"),
    FieldSpec(
        "timestamp_ms",
        INTEGER,
        True,
        "When the reading was taken: milliseconds since 1970-01-01T00:00:00Z (UTC)",
        0,
        MAX_TIMESTAMP_MS,
    ),
    FieldSpec("persons_present", INTEGER, True, "How many people the sensor detects", 0, 20),
    FieldSpec(
        "activity_level", NUMBER, True, "Movement from 0 (none) to 1 (vigorous), derived", 0, 1
    ),
    FieldSpec(
        "zone",
        ZONE,
        False,
        "Where the person is: bed, bathroom, door or elsewhere; null or absent when nobody is "
        "located",
    ),
    FieldSpec(
        "pulse_bpm",
        NUMBER,
        False,
        "A spot pulse rate (beats per minute), only when measured",
        0,
        300,
        comes_with="pulse_quality",
    ),
    FieldSpec(
        "pulse_quality",
        NUMBER,
        False,
        "Confidence in pulse_bpm from 0 to 1",
        0,
        1,
        comes_with="pulse_bpm",
    ),
    FieldSpec(
        "breathing_rate",
        NUMBER,
        False,
        "A spot breathing rate (breaths per minute), only when measured",
        0,
        120,
        comes_with="breathing_quality",
    ),
    FieldSpec(
        "breathing_quality",
        NUMBER,
        False,
        "Confidence in breathing_rate from 0 to 1",
        0,
        1,
        comes_with="breathing_rate",
    ),
    FieldSpec("tampered", BOOLEAN, False, "The device is tampered with or obstructed"),
    FieldSpec("battery_percent", NUMBER, False, "Battery charge, for battery devices", 0, 100),
)
FIELD_BY_NAME = {spec.name: spec for spec in READING_FIELDS}
ZONE_NAMES = ["bed", "bathroom", "door", "elsewhere"]


def _property(spec: FieldSpec) -> dict:
    if spec.kind == ZONE:
        return {"description": spec.description, "enum": [*ZONE_NAMES, None]}
    prop: dict = {"description": spec.description, "type": spec.kind}
    if spec.kind == STRING:
        prop |= {"minLength": 1, "maxLength": EXTERNAL_ID_MAX_LENGTH}
        prop["pattern"] = EXTERNAL_ID_PATTERN
    if spec.minimum is not None:
        prop["minimum"] = spec.minimum
    if spec.maximum is not None:
        prop["maximum"] = spec.maximum
    return prop


def reading_json_schema() -> dict:
    """The published JSON Schema (draft 2020-12) for a message: one reading or a batch."""
    reading = {
        "type": "object",
        "description": "One device's report at one moment. Unknown fields are ignored.",
        "required": [spec.name for spec in READING_FIELDS if spec.required],
        "properties": {spec.name: _property(spec) for spec in READING_FIELDS}
        | {"schema_version": {"const": SCHEMA_VERSION}},
        "dependentRequired": {
            spec.name: [spec.comes_with] for spec in READING_FIELDS if spec.comes_with
        },
        "not": {"required": ["readings"]},
    }
    batch = {
        "type": "object",
        "description": "A gateway's batch: one message per wing per second.",
        "required": ["schema_version", "readings"],
        "properties": {
            "schema_version": {"const": SCHEMA_VERSION},
            "readings": {
                "type": "array",
                "maxItems": DEFAULTS["MONITORING_MAX_READINGS_PER_MESSAGE"],
                "items": {"$ref": "#/$defs/reading"},
            },
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:saferprisons:schemas:reading:{SCHEMA_VERSION}",
        "title": f"saferprisons sensor readings, version {SCHEMA_VERSION}",
        "description": (
            "A message from a monitoring gateway: one reading, or a batch of readings. Only "
            "derived signals: never video or images. See docs/monitoring-ingest.md."
        ),
        "oneOf": [{"$ref": "#/$defs/batch"}, {"$ref": "#/$defs/reading"}],
        "$defs": {"reading": reading, "batch": batch},
    }


PUBLISHED_SCHEMA = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "reading-v1.json"


def render_reading_schema() -> str:
    """The text of docs/schemas/reading-v1.json (regenerate the file from this)."""
    return json.dumps(reading_json_schema(), indent=2, ensure_ascii=False) + "\n"


# --- The HTTP endpoint ----------------------------------------------------------------------------


class IngestResultOut(Schema):
    accepted: int
    duplicates: int
    dropped_not_enrolled: int
    dead_lettered: int
    alerts_opened: int


# --- Alerts (the console's API) -------------------------------------------------------------------


class MonitoringEscalationStepOut(Schema):
    number: int
    roles: list[str]
    due_at: datetime
    status: str  # PENDING, FIRED, CANCELLED
    fired_at: datetime | None = None


class MonitoringReadingOut(Schema):
    """One raw reading kept with an alert. Pulse and breathing (spot measurements, never a
    diagnosis) only for principals with monitoring.view_vital_signs; otherwise null."""

    recorded_at: datetime
    persons_present: int
    activity_level: float
    zone: str | None
    tampered: bool
    battery_percent: float | None = None
    pulse_bpm: float | None = None
    pulse_quality: float | None = None
    breathing_rate: float | None = None
    breathing_quality: float | None = None


class MonitoringAlertOut(Schema):
    id: UUID
    prison: str
    cell: str
    prison_number: str | None
    rule: str
    rule_label: str
    priority: str
    status: str  # OPEN, ACKNOWLEDGED, RESET, RESOLVED
    threshold_seconds: int
    first_reading_at: datetime
    triggered_at: datetime
    opened_at: datetime
    measured_value: float | None = None
    measured_quality: float | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    reset_at: datetime | None = None
    resolved_at: datetime | None = None
    outcome: str | None = None
    note: str = ""
    incident_pending: bool = False
    acct_review_demanded: bool = False
    escalation: list[MonitoringEscalationStepOut]
    reading_at_alert: MonitoringReadingOut | None = None


class MonitoringResolveIn(Schema):
    outcome: str = Field(
        description="FALSE_ALARM, PERSON_SAFE, EMERGENCY_RESPONSE or SELF_HARM_FOUND"
    )
    note: str = Field("", max_length=1000)


# --- Managing the pilot (enrolments, rules, gateways and devices, the escalation chain) -----------

_Seconds = Annotated[int, Field(ge=0, le=MAX_THRESHOLD_SECONDS)]
_Finite = Annotated[float, Field(allow_inf_nan=False, ge=-1_000_000, le=1_000_000)]


class MonitoringEnrolmentOut(Schema):
    id: UUID
    prison: str
    prison_number: str
    basis: str  # CONSENT or MANAGER_DECISION
    decision_reason: str
    decided_by: str
    decided_at: datetime
    review_on: date
    starts_at: datetime
    ends_at: datetime
    ended_early_by: str | None = None
    end_reason: str = ""


class MonitoringEnrolIn(Schema):
    basis: str = Field(description="CONSENT, or MANAGER_DECISION with its decision_reason")
    decision_reason: Text(REASON_MAX_LENGTH) = ""
    review_on: Day = Field(description="The review date, between the start and the end")
    ends_at: Moment = Field(description="When monitoring ends; it starts now")


class MonitoringEndEnrolmentIn(Schema):
    reason: Text(REASON_MAX_LENGTH) = Field(description="Why monitoring ends (required)")


class MonitoringRuleOut(Schema):
    kind: str
    label: str
    source: str = Field(description="DEFAULT (built in), PRISON, WING or LANDING: what sets it")
    unit: str | None = Field(None, description="The wing or landing's path for its own setting")
    enabled: bool
    priority: str
    day_threshold_seconds: int | None
    night_threshold_seconds: int | None
    day_starts: time
    day_ends: time
    limit_low: float | None = None
    limit_high: float | None = None
    min_quality: float | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None


class MonitoringRuleSettingsOut(Schema):
    prison: list[MonitoringRuleOut] = Field(
        description="Every rule in force prison-wide (its own setting or the built-in default)"
    )
    units: list[MonitoringRuleOut] = Field(
        description="Each wing's or landing's own setting of a rule, which replaces the "
        "prison's there (landing before wing before prison)"
    )


class MonitoringRuleIn(Schema):
    """A whole rule setting: it replaces what was there. Omitted values take the built-in
    default (limits, the day's start and end), not what was set before."""

    enabled: bool = True
    priority: str = Field(description="HIGH, MEDIUM or LOW")
    day_threshold_seconds: _Seconds | None = Field(
        description="Seconds the condition lasts by day before an alert; null: off by day"
    )
    night_threshold_seconds: _Seconds | None = Field(
        description="Seconds the condition lasts by night before an alert; null: off by night"
    )
    day_starts: time | None = Field(None, description="London time the day starts (08:00)")
    day_ends: time | None = Field(None, description="London time the day ends (20:00)")
    limit_low: _Finite | None = None
    limit_high: _Finite | None = None
    min_quality: _Finite | None = None


class MonitoringGatewayOut(Schema):
    id: UUID
    prison: str
    code: str
    name: str
    in_service: bool
    retired_at: datetime | None = None
    token_prefix: str | None = None
    token_expires_at: datetime | None = None
    token_last_used_at: datetime | None = None


class MonitoringDeviceOut(Schema):
    id: UUID
    external_id: str
    prison: str
    gateway: str
    cell: str
    kind: str
    vendor: str
    serial: str
    firmware: str
    installed_at: datetime
    removed_at: datetime | None = None


class MonitoringDeviceIn(Schema):
    gateway: Text(32, min_length=1) = Field(description="The gateway's code, e.g. A-WING")
    cell: Text(40, min_length=1) = Field(description="The cell's path, e.g. A-1-001")
    external_id: Text(EXTERNAL_ID_MAX_LENGTH, min_length=1) = Field(
        description="The device_id it puts in its readings"
    )
    kind: str = Field(description="VISION, WEARABLE or DOOR")
    vendor: Text(100, min_length=1)
    serial: Text(100, min_length=1)
    firmware: Text(50) = ""


class MonitoringFirmwareIn(Schema):
    firmware: Text(50, min_length=1) = Field(description="The version now installed")


class MonitoringChainStepOut(Schema):
    number: int
    delay_seconds: int
    roles: list[str]
    priorities: list[str]
    email_address: str = ""
    phone_number: str = ""


class MonitoringChainOut(Schema):
    is_default: bool = Field(description="True: the prison has no chain of its own")
    steps: list[MonitoringChainStepOut]
