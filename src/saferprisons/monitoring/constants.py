"""In-cell monitoring pilot: choices, wire codes and the built-in rule defaults.

The rule kinds have a fixed order (``RULE_ORDER``): the numpy engine keeps one column per rule in
that order, so adding a rule means appending it here and to both engines.
"""

from django.db import models

# --- Devices, gateways and enrolment --------------------------------------------------------------


class DeviceKind(models.TextChoices):
    VISION = "VISION", "Contactless vision sensor"
    WEARABLE = "WEARABLE", "Wearable"
    DOOR = "DOOR", "Door sensor"


class EnrolmentBasis(models.TextChoices):
    CONSENT = "CONSENT", "The person gave consent"
    MANAGER_DECISION = "MANAGER_DECISION", "A manager's documented decision"


# Ids devices and gateways put on the wire (and in MQTT topics): letters, digits, . _ : -
EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
GATEWAY_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$"
EXTERNAL_ID_MAX_LENGTH = 64
GATEWAY_CODE_MAX_LENGTH = 32
REASON_MAX_LENGTH = 1000

# The token scope (core.permissions.TOKEN_SCOPE_PERMISSIONS) a gateway's token carries.
GATEWAY_TOKEN_SCOPE = "sensors:write"

# --- The wire format (docs/schemas/reading-v1.json) -----------------------------------------------

SCHEMA_VERSION = 1
TOPIC_PREFIX = "saferprisons"
TOPIC_TEMPLATE = TOPIC_PREFIX + "/{prison}/{gateway}/readings"


class Zone(models.IntegerChoices):
    """Where in the cell the sensor places the person. 0: nobody located (zone absent or null)."""

    NONE = 0, "Nobody located"
    BED = 1, "Bed"
    BATHROOM = 2, "Bathroom"
    DOOR = 3, "Door"
    ELSEWHERE = 4, "Elsewhere in the cell"


ZONE_BY_WIRE_NAME = {
    None: Zone.NONE,
    "bed": Zone.BED,
    "bathroom": Zone.BATHROOM,
    "door": Zone.DOOR,
    "elsewhere": Zone.ELSEWHERE,
}
WIRE_NAME_BY_ZONE = {code: name for name, code in ZONE_BY_WIRE_NAME.items()}


class DeadLetterReason(models.TextChoices):
    MALFORMED_JSON = "MALFORMED_JSON", "The message is not valid JSON"
    BAD_ENVELOPE = "BAD_ENVELOPE", "The message is not a reading or a batch of readings"
    NOT_AN_OBJECT = "NOT_AN_OBJECT", "A reading is not a JSON object"
    MISSING_FIELD = "MISSING_FIELD", "A required field is missing"
    WRONG_TYPE = "WRONG_TYPE", "A field has the wrong type"
    OUT_OF_RANGE = "OUT_OF_RANGE", "A field's value is outside its range"
    UNKNOWN_DEVICE = "UNKNOWN_DEVICE", "No installed device has this id"
    WRONG_GATEWAY = "WRONG_GATEWAY", "The device belongs to another gateway"
    FUTURE_TIMESTAMP = "FUTURE_TIMESTAMP", "The timestamp is further ahead than the allowed skew"
    TOO_OLD = "TOO_OLD", "The timestamp is older than the oldest reading accepted"
    OUT_OF_ORDER = "OUT_OF_ORDER", "Older than a reading already accepted from the device"


# --- Rules and alerts -----------------------------------------------------------------------------


class RuleKind(models.TextChoices):
    NO_ACTIVITY = "NO_ACTIVITY", "No activity in an occupied cell"
    BATHROOM_OCCUPANCY = "BATHROOM_OCCUPANCY", "Long bathroom occupancy"
    SECOND_PERSON = "SECOND_PERSON", "Second person in a single-occupancy cell"
    LEFT_DETECTABLE_AREA = "LEFT_DETECTABLE_AREA", "Person left the detectable area"
    TAMPERED = "TAMPERED", "Device tampered with or obstructed"
    PULSE_OUT_OF_RANGE = "PULSE_OUT_OF_RANGE", "Spot pulse rate outside the set range"
    BREATHING_OUT_OF_RANGE = "BREATHING_OUT_OF_RANGE", "Spot breathing rate outside the set range"
    DEVICE_SILENT = "DEVICE_SILENT", "Device silent"


# Column order of the engines' arrays. Every rule but the last is evaluated when a reading
# arrives (at the reading's time); DEVICE_SILENT is evaluated on the clock (a tick).
RULE_ORDER = (
    RuleKind.NO_ACTIVITY,
    RuleKind.BATHROOM_OCCUPANCY,
    RuleKind.SECOND_PERSON,
    RuleKind.LEFT_DETECTABLE_AREA,
    RuleKind.TAMPERED,
    RuleKind.PULSE_OUT_OF_RANGE,
    RuleKind.BREATHING_OUT_OF_RANGE,
    RuleKind.DEVICE_SILENT,
)
RULE_INDEX = {kind: index for index, kind in enumerate(RULE_ORDER)}
READING_RULE_COUNT = len(RULE_ORDER) - 1
SILENT_RULE = RULE_INDEX[RuleKind.DEVICE_SILENT]
VITAL_RULES = (RuleKind.PULSE_OUT_OF_RANGE, RuleKind.BREATHING_OUT_OF_RANGE)


class Priority(models.TextChoices):
    """IEC 60601-1-8 style alarm priorities (DOMAIN.md §6)."""

    HIGH = "HIGH", "High (immediate response)"
    MEDIUM = "MEDIUM", "Medium (prompt response)"
    LOW = "LOW", "Low (awareness)"


class AlertOutcome(models.TextChoices):
    FALSE_ALARM = "FALSE_ALARM", "False alarm"
    PERSON_SAFE = "PERSON_SAFE", "Welfare check done, person safe"
    EMERGENCY_RESPONSE = "EMERGENCY_RESPONSE", "Emergency response"
    SELF_HARM_FOUND = "SELF_HARM_FOUND", "Self-harm found"


class AlertStatus(models.TextChoices):
    """Derived from the alert's timestamps (never stored): see ``Alert.status``."""

    OPEN = "OPEN", "Open"
    ACKNOWLEDGED = "ACKNOWLEDGED", "Acknowledged"
    RESET = "RESET", "Reset"
    RESOLVED = "RESOLVED", "Resolved"


# What each rule's limits mean (the same RuleConfig columns serve every rule).
LIMIT_MEANINGS = {
    RuleKind.NO_ACTIVITY: "limit_high: the activity level at or below which someone is still",
    RuleKind.PULSE_OUT_OF_RANGE: "limit_low, limit_high: beats per minute; min_quality 0 to 1",
    RuleKind.BREATHING_OUT_OF_RANGE: "limit_low, limit_high: breaths a minute; min_quality 0 to 1",
}

# Built-in rule settings for a prison that has not configured a rule (local choices, not from a
# primary source; shown with their source on the policy page). Thresholds are how long the
# condition must last, in seconds; None switches the rule off in that period.
DEFAULT_DAY_STARTS = "08:00"
DEFAULT_DAY_ENDS = "20:00"
DEFAULT_RULES = {
    RuleKind.NO_ACTIVITY: {
        "priority": Priority.HIGH,
        "day_threshold_seconds": 1800,
        "night_threshold_seconds": 1200,
        "limit_high": 0.05,
    },
    RuleKind.BATHROOM_OCCUPANCY: {
        "priority": Priority.MEDIUM,
        "day_threshold_seconds": 1200,
        "night_threshold_seconds": 900,
    },
    RuleKind.SECOND_PERSON: {
        # Staff enter cells in the day (welfare checks, unlock): a longer wait before alerting.
        "priority": Priority.MEDIUM,
        "day_threshold_seconds": 120,
        "night_threshold_seconds": 30,
    },
    RuleKind.LEFT_DETECTABLE_AREA: {
        "priority": Priority.HIGH,
        "day_threshold_seconds": None,
        "night_threshold_seconds": 120,
    },
    RuleKind.TAMPERED: {
        "priority": Priority.HIGH,
        "day_threshold_seconds": 10,
        "night_threshold_seconds": 10,
    },
    RuleKind.PULSE_OUT_OF_RANGE: {
        # A warning shown with its quality, never a diagnosis.
        "priority": Priority.LOW,
        "day_threshold_seconds": 0,
        "night_threshold_seconds": 0,
        "limit_low": 40.0,
        "limit_high": 130.0,
        "min_quality": 0.6,
    },
    RuleKind.BREATHING_OUT_OF_RANGE: {
        "priority": Priority.LOW,
        "day_threshold_seconds": 0,
        "night_threshold_seconds": 0,
        "limit_low": 8.0,
        "limit_high": 30.0,
        "min_quality": 0.6,
    },
    RuleKind.DEVICE_SILENT: {
        "priority": Priority.MEDIUM,
        "day_threshold_seconds": 60,
        "night_threshold_seconds": 60,
    },
}

# Worker job that deletes raw readings kept with alerts once they pass the retention period.
JOB_PURGE_RAW_READINGS = "monitoring.purge_raw_readings"

NOT_CONSTANT_SUPERVISION = (
    "Monitoring technology supports staff care. It is not constant supervision and does not "
    "replace ACCT observations."
)

# --- Escalation and notifications (docs/adr/0011) -------------------------------------------------

# What every monitoring screen says plainly (the wording of issue 4).
NOT_SUPERVISION_NOTICE = (
    "Monitoring is not constant supervision and does not replace ACCT observations."
)


class EscalationStatus(models.TextChoices):
    PENDING = "PENDING", "Waiting"
    FIRED = "FIRED", "Sent"
    CANCELLED = "CANCELLED", "Not needed: the alert was answered"


class DeliveryStatus(models.TextChoices):
    QUEUED = "QUEUED", "Waiting to be sent"
    SENT = "SENT", "Sent"
    FAILED = "FAILED", "Could not be sent"


JOB_ESCALATE = "monitoring.escalate"
JOB_SWEEP_ESCALATIONS = "monitoring.sweep_escalations"
JOB_DELIVER_NOTIFICATION = "monitoring.deliver_notification"

# The worker waits WORKER_POLL_SECONDS between passes that find little to do, so a step can be
# that late plus the time to run the pass: for "within 1 s at p99" the poll must be well under a
# second (docs/adr/0011; tests/test_escalation_timing.py measures it).
ESCALATION_WORKER_POLL_SECONDS = 0.25

MAX_ESCALATION_STEPS = 5
MAX_ESCALATION_DELAY_SECONDS = 3600
PHONE_NUMBER_PATTERN = r"^\+?[0-9][0-9 ]{8,18}[0-9]$"

# Who an escalation can reach: the roles that see monitoring alerts. The orderly officer (the
# manager in charge of the prison's routine that shift) holds the custodial manager role.
ESCALATION_ROLES = (
    "WING_OFFICER",
    "CUSTODIAL_MANAGER",
    "HEALTHCARE",
    "DUTY_GOVERNOR",
    "SECURITY",
    "PSYCHOLOGIST",
)

# A prison that has not set its chain gets this one (issue 4's example; a local choice). A
# low-priority alert (awareness) goes only to the wing.
DEFAULT_ESCALATION = (
    {
        "delay_seconds": 0,
        "roles": ("WING_OFFICER",),
        "priorities": (Priority.HIGH, Priority.MEDIUM, Priority.LOW),
    },
    {
        "delay_seconds": 60,
        "roles": ("CUSTODIAL_MANAGER",),
        "priorities": (Priority.HIGH, Priority.MEDIUM),
    },
    {
        "delay_seconds": 180,
        "roles": ("HEALTHCARE", "DUTY_GOVERNOR"),
        "priorities": (Priority.HIGH, Priority.MEDIUM),
    },
)
