"""In-cell monitoring: gateways, devices, enrolment, rules, alerts and what ingest stores.

Only derived signals are ever stored: no video, no images. Raw readings are kept only around an
alert (``AlertReading``) and only for MONITORING_RAW_READING_RETENTION_DAYS; everything else is a
per-device, per-minute rollup. Readings from a cell whose occupants are not all enrolled are
dropped at ingest and only counted.

Invariants the database keeps:
- at most one open alert per cell and rule (a partial unique index: a second "open" is a no-op);
- a resolved alert has an outcome and who resolved it; a high-priority one was reset first;
- a manager's enrolment decision has its reason; an enrolment ends after it starts;
- one rollup per device and minute; one ingest counter per prison and minute;
- an escalation step's status matches its stamps (fired or cancelled when, never both); each
  step of an alert, each role's notification and each delivery exists once; an incident is
  pending only for "self-harm found".
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from saferprisons.core import clock
from saferprisons.core.models import PublicIdModel

from .constants import (
    DEFAULT_DAY_ENDS,
    DEFAULT_DAY_STARTS,
    EXTERNAL_ID_MAX_LENGTH,
    EXTERNAL_ID_PATTERN,
    GATEWAY_CODE_MAX_LENGTH,
    GATEWAY_CODE_PATTERN,
    MAX_ESCALATION_DELAY_SECONDS,
    MAX_ESCALATION_STEPS,
    REASON_MAX_LENGTH,
    AlertOutcome,
    AlertStatus,
    DeadLetterReason,
    DeliveryStatus,
    DeviceKind,
    EnrolmentBasis,
    EscalationStatus,
    Priority,
    RuleKind,
    Zone,
)


class Gateway(PublicIdModel):
    """A wing gateway: sends one message per second for its devices, with its own API token."""

    prison = models.ForeignKey("estate.Prison", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(
        max_length=GATEWAY_CODE_MAX_LENGTH, help_text="In the MQTT topic, e.g. A-WING"
    )
    name = models.CharField(max_length=100)
    api_token = models.OneToOneField(
        "accounts.ApiToken",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gateway",
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)
    updated_at = models.DateTimeField(default=clock.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["prison", "code"]
        constraints = [
            models.UniqueConstraint(fields=["prison", "code"], name="monitoring_gateway_code"),
            models.CheckConstraint(
                condition=Q(code__regex=GATEWAY_CODE_PATTERN), name="monitoring_gateway_code_shape"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


class Device(PublicIdModel):
    """A sensor installed in one cell, reporting through one gateway."""

    external_id = models.CharField(
        max_length=EXTERNAL_ID_MAX_LENGTH, unique=True, help_text="The device_id in its readings"
    )
    gateway = models.ForeignKey(Gateway, on_delete=models.PROTECT, related_name="devices")
    cell = models.ForeignKey("estate.Location", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=DeviceKind.choices)
    vendor = models.CharField(max_length=100)
    serial = models.CharField(max_length=100)
    firmware = models.CharField(max_length=50, blank=True)
    installed_at = models.DateTimeField(default=clock.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["external_id"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "serial"], name="monitoring_device_serial"),
            models.CheckConstraint(
                condition=Q(external_id__regex=EXTERNAL_ID_PATTERN),
                name="monitoring_device_external_id_shape",
            ),
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True) | Q(removed_at__gt=F("installed_at")),
                name="monitoring_device_removed_after_installed",
            ),
            models.UniqueConstraint(
                fields=["cell", "kind"],
                condition=Q(removed_at__isnull=True),
                name="monitoring_one_installed_device_per_cell_and_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} ({self.get_kind_display()})"


class Enrolment(PublicIdModel):
    """A person's time in the pilot, with its basis. Ending early moves ``ends_at`` to then."""

    prisoner = models.ForeignKey(
        "people.Prisoner", on_delete=models.PROTECT, related_name="monitoring_enrolments"
    )
    prison = models.ForeignKey("estate.Prison", on_delete=models.PROTECT, related_name="+")
    basis = models.CharField(max_length=20, choices=EnrolmentBasis.choices)
    decision_reason = models.TextField(
        blank=True, max_length=REASON_MAX_LENGTH, help_text="Required for a manager's decision"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(default=clock.now)
    review_on = models.DateField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    ended_early_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    end_reason = models.TextField(blank=True, max_length=REASON_MAX_LENGTH)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="monitoring_enrolment_ends_after"
            ),
            models.CheckConstraint(
                condition=Q(basis=EnrolmentBasis.CONSENT) | ~Q(decision_reason=""),
                name="monitoring_enrolment_decision_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["prisoner", "ends_at"])]

    def __str__(self) -> str:
        return f"Enrolment of {self.prisoner_id} from {self.starts_at:%Y-%m-%d}"

    def is_current(self, at=None) -> bool:
        at = at or clock.now()
        return self.starts_at <= at < self.ends_at


class RuleConfig(models.Model):
    """One rule's settings for a prison, or for one wing or landing in it (the most specific
    wins). Thresholds are how long the condition lasts before an alert, in seconds; a null
    threshold switches the rule off in that period. Day is [day_starts, day_ends) in London."""

    prison = models.ForeignKey("estate.Prison", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(
        "estate.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="A wing or landing; empty for the whole prison",
    )
    kind = models.CharField(max_length=30, choices=RuleKind.choices)
    enabled = models.BooleanField(default=True)
    priority = models.CharField(max_length=6, choices=Priority.choices)
    day_threshold_seconds = models.PositiveIntegerField(null=True, blank=True)
    night_threshold_seconds = models.PositiveIntegerField(null=True, blank=True)
    day_starts = models.TimeField(default=DEFAULT_DAY_STARTS)
    day_ends = models.TimeField(default=DEFAULT_DAY_ENDS)
    limit_low = models.FloatField(null=True, blank=True)
    limit_high = models.FloatField(null=True, blank=True)
    min_quality = models.FloatField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["prison", "location", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["prison", "kind"],
                condition=Q(location__isnull=True),
                name="monitoring_rule_per_prison",
            ),
            models.UniqueConstraint(
                fields=["location", "kind"],
                condition=Q(location__isnull=False),
                name="monitoring_rule_per_location",
            ),
            models.CheckConstraint(
                condition=Q(day_starts__lt=F("day_ends")), name="monitoring_rule_day_window"
            ),
            models.CheckConstraint(
                condition=Q(limit_low__isnull=True)
                | Q(limit_high__isnull=True)
                | Q(limit_low__lt=F("limit_high")),
                name="monitoring_rule_limits_ordered",
            ),
            models.CheckConstraint(
                condition=Q(min_quality__isnull=True)
                | (Q(min_quality__gte=0) & Q(min_quality__lte=1)),
                name="monitoring_rule_quality_0_to_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.location_id or self.prison_id}"


class RosterVersion(models.Model):
    """One row, counted up by every service that changes who or what is monitored (gateways,
    devices, enrolments, rules), so an ingest process sees a change in one cheap query."""

    number = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Monitoring roster version {self.number}"


class DeadLetter(models.Model):
    """A message or reading that could not be used, kept (an excerpt) with the reason."""

    received_at = models.DateTimeField(default=clock.now)
    prison = models.ForeignKey(
        "estate.Prison", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    gateway = models.ForeignKey(
        Gateway, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    device_external_id = models.CharField(max_length=EXTERNAL_ID_MAX_LENGTH, blank=True)
    reason = models.CharField(max_length=20, choices=DeadLetterReason.choices)
    detail = models.CharField(max_length=200, blank=True)
    payload_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["prison", "-received_at"])]

    def __str__(self) -> str:
        return f"{self.reason} from {self.device_external_id or 'a gateway'}"


class IngestCounter(models.Model):
    """What happened to the readings a prison's gateways sent in one minute."""

    prison = models.ForeignKey("estate.Prison", on_delete=models.PROTECT, related_name="+")
    minute = models.DateTimeField()
    accepted = models.PositiveBigIntegerField(default=0)
    duplicate = models.PositiveBigIntegerField(default=0)
    dropped_not_enrolled = models.PositiveBigIntegerField(default=0)
    dead_lettered = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-minute"]
        constraints = [
            models.UniqueConstraint(fields=["prison", "minute"], name="monitoring_counter_minute")
        ]

    def __str__(self) -> str:
        return f"{self.prison_id} at {self.minute:%Y-%m-%d %H:%M}"


class MinuteRollup(models.Model):
    """One device's readings in one minute. Zone seconds count each reading as
    MONITORING_READING_SECONDS; pulse and breathing figures come with the worst quality behind
    them (spot measurements, never a diagnosis)."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="+")
    minute = models.DateTimeField()
    reading_count = models.PositiveIntegerField()
    activity_mean = models.FloatField()
    activity_max = models.FloatField()
    bed_seconds = models.PositiveIntegerField(default=0)
    bathroom_seconds = models.PositiveIntegerField(default=0)
    door_seconds = models.PositiveIntegerField(default=0)
    elsewhere_seconds = models.PositiveIntegerField(default=0)
    persons_max = models.PositiveSmallIntegerField()
    pulse_count = models.PositiveIntegerField(default=0)
    pulse_min = models.FloatField(null=True, blank=True)
    pulse_max = models.FloatField(null=True, blank=True)
    pulse_quality_min = models.FloatField(null=True, blank=True)
    breathing_count = models.PositiveIntegerField(default=0)
    breathing_min = models.FloatField(null=True, blank=True)
    breathing_max = models.FloatField(null=True, blank=True)
    breathing_quality_min = models.FloatField(null=True, blank=True)
    tamper_count = models.PositiveIntegerField(default=0)
    battery_min = models.FloatField(null=True, blank=True)
    # The newest reading in the row: after a restart, ingest treats anything up to here as
    # already seen (a redelivered message), so a replay never counts twice.
    last_reading_at = models.DateTimeField()

    class Meta:
        ordering = ["device", "minute"]
        constraints = [
            models.UniqueConstraint(fields=["device", "minute"], name="monitoring_rollup_minute")
        ]
        indexes = [models.Index(fields=["minute"], name="monitoring_rollup_by_minute")]

    def __str__(self) -> str:
        return f"{self.device_id} at {self.minute:%Y-%m-%d %H:%M}"


class Alert(PublicIdModel):
    """A rule fired for a cell. Status is derived from the timestamps (see ``status``)."""

    prison = models.ForeignKey("estate.Prison", on_delete=models.PROTECT, related_name="+")
    cell = models.ForeignKey("estate.Location", on_delete=models.PROTECT, related_name="+")
    prisoner = models.ForeignKey(
        "people.Prisoner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="monitoring_alerts",
    )
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="alerts")
    rule = models.CharField(max_length=30, choices=RuleKind.choices)
    priority = models.CharField(max_length=6, choices=Priority.choices)
    threshold_seconds = models.PositiveIntegerField(help_text="The threshold in force")
    opened_at = models.DateTimeField(default=clock.now)
    first_reading_at = models.DateTimeField(help_text="When the condition began (reading time)")
    triggered_at = models.DateTimeField(help_text="The reading (or tick) that crossed the limit")
    measured_value = models.FloatField(null=True, blank=True, help_text="Pulse or breathing rate")
    measured_quality = models.FloatField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    reset_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reset_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=AlertOutcome.choices, blank=True)
    resolution_note = models.TextField(blank=True, max_length=REASON_MAX_LENGTH)
    # "Self-harm found": the ACCT review it demanded (if the person was on an open ACCT), and a
    # placeholder for the incident report, which a later issue links (docs/adr/0011).
    acct_review_demand = models.ForeignKey(
        "acct.ReviewDemand", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    incident_pending = models.BooleanField(
        default=False, help_text="An incident must be reported (the incidents app links it)"
    )
    incident_reference = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cell", "rule"],
                condition=Q(resolved_at__isnull=True),
                name="monitoring_one_open_alert_per_cell_and_rule",
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True, acknowledged_by__isnull=True)
                | Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False),
                name="monitoring_alert_acknowledged_by_someone",
            ),
            models.CheckConstraint(
                condition=Q(reset_at__isnull=True, reset_by__isnull=True)
                | Q(reset_at__isnull=False, reset_by__isnull=False, priority=Priority.HIGH),
                name="monitoring_alert_reset_high_only",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True, resolved_by__isnull=True, outcome="")
                | (
                    Q(resolved_at__isnull=False, resolved_by__isnull=False)
                    & ~Q(outcome="")
                    & (~Q(priority=Priority.HIGH) | Q(reset_at__isnull=False))
                ),
                name="monitoring_alert_resolved_with_outcome",
            ),
            models.CheckConstraint(
                condition=Q(incident_pending=False) | Q(outcome=AlertOutcome.SELF_HARM_FOUND),
                name="monitoring_alert_incident_only_for_self_harm",
            ),
        ]
        indexes = [
            models.Index(
                fields=["prison", "-opened_at"],
                condition=Q(resolved_at__isnull=True),
                name="monitoring_open_alerts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} in {self.cell_id} at {self.opened_at:%H:%M:%S}"

    @property
    def status(self) -> str:
        if self.resolved_at is not None:
            return AlertStatus.RESOLVED
        if self.reset_at is not None:
            return AlertStatus.RESET
        if self.acknowledged_at is not None:
            return AlertStatus.ACKNOWLEDGED
        return AlertStatus.OPEN


class AlertReading(models.Model):
    """A raw reading kept with an alert (its window before and after). Deleted by the retention
    job after MONITORING_RAW_READING_RETENTION_DAYS."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="readings")
    recorded_at = models.DateTimeField()
    persons_present = models.PositiveSmallIntegerField()
    activity_level = models.FloatField()
    zone = models.PositiveSmallIntegerField(choices=Zone.choices, default=Zone.NONE)
    pulse_bpm = models.FloatField(null=True, blank=True)
    pulse_quality = models.FloatField(null=True, blank=True)
    breathing_rate = models.FloatField(null=True, blank=True)
    breathing_quality = models.FloatField(null=True, blank=True)
    tampered = models.BooleanField(default=False)
    battery_percent = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["alert", "recorded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "recorded_at"], name="monitoring_alert_reading_once"
            )
        ]
        indexes = [models.Index(fields=["recorded_at"], name="monitoring_raw_by_time")]

    def __str__(self) -> str:
        return f"Reading for alert {self.alert_id} at {self.recorded_at:%H:%M:%S}"


class EscalationStep(models.Model):
    """One step of a prison's escalation chain: who is told about an alert nobody has
    acknowledged, how long after it opened, for which priorities, and (optionally) a duty e-mail
    address and mobile number for GOV.UK Notify. Set by managers (``services``); each alert keeps
    its own copy (``AlertEscalation``), so a later change never alters an open alert."""

    prison = models.ForeignKey("estate.Prison", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveSmallIntegerField()
    delay_seconds = models.PositiveIntegerField()
    roles = models.JSONField(default=list, help_text="Role codes told in the app")
    priorities = models.JSONField(default=list, help_text="Alert priorities this step is for")
    email_address = models.EmailField(blank=True)
    phone_number = models.CharField(max_length=20, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["prison", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["prison", "number"], name="monitoring_escalation_step_number"
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1, number__lte=MAX_ESCALATION_STEPS),
                name="monitoring_escalation_step_number_range",
            ),
            models.CheckConstraint(
                condition=Q(delay_seconds__lte=MAX_ESCALATION_DELAY_SECONDS),
                name="monitoring_escalation_step_delay_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Step {self.number} for {self.prison_id} after {self.delay_seconds} s"


class AlertEscalation(models.Model):
    """One step of the chain, copied onto an alert when it opened, with its own due time.

    A worker job carries ``token``; firing locks the alert and then this row and does anything
    only if the step is still PENDING with that token and the alert is unanswered. Answering the
    alert cancels its waiting steps and replaces their tokens; the sweeper gives a late step a
    new job and token. So a repeated, superseded or cancelled job does nothing."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="escalations")
    number = models.PositiveSmallIntegerField()
    delay_seconds = models.PositiveIntegerField()
    roles = models.JSONField(default=list)
    email_address = models.EmailField(blank=True)
    phone_number = models.CharField(max_length=20, blank=True)
    due_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=EscalationStatus.choices, default=EscalationStatus.PENDING
    )
    token = models.UUIDField(default=uuid.uuid4)
    job = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    fired_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    rekicks = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["alert", "number"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "number"], name="monitoring_alert_step_once"),
            models.CheckConstraint(
                condition=Q(
                    status=EscalationStatus.PENDING,
                    fired_at__isnull=True,
                    cancelled_at__isnull=True,
                )
                | Q(
                    status=EscalationStatus.FIRED,
                    fired_at__isnull=False,
                    cancelled_at__isnull=True,
                )
                | Q(
                    status=EscalationStatus.CANCELLED,
                    fired_at__isnull=True,
                    cancelled_at__isnull=False,
                ),
                name="monitoring_alert_step_status_stamped",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(status=EscalationStatus.PENDING),
                name="monitoring_pending_steps",
            )
        ]

    def __str__(self) -> str:
        return f"Step {self.number} of alert {self.alert_id} ({self.status})"


class Notification(models.Model):
    """In-app: an alert was escalated to a role in a prison. Everyone holding the role there sees
    it in their monitoring notifications, with the alert's current state."""

    prison = models.ForeignKey("estate.Prison", on_delete=models.PROTECT, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notifications")
    escalation = models.ForeignKey(
        AlertEscalation, on_delete=models.CASCADE, related_name="notifications"
    )
    role = models.CharField(max_length=30)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["escalation", "role"], name="monitoring_notification_once_per_role"
            )
        ]
        indexes = [
            models.Index(
                fields=["prison", "role", "-created_at"], name="monitoring_notifications_for"
            )
        ]

    def __str__(self) -> str:
        return f"Alert {self.alert_id} for {self.role}"


class NotificationDelivery(PublicIdModel):
    """A notice sent outside the system (e-mail, SMS) for one escalation step, by a worker job.
    Carries no name or prison number: the console is where staff see who it is."""

    escalation = models.ForeignKey(
        AlertEscalation, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=20)
    recipient = models.CharField(max_length=254)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    created_at = models.DateTimeField(default=clock.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_reference = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["escalation", "channel", "recipient"], name="monitoring_delivery_once"
            ),
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.SENT) | Q(sent_at__isnull=False),
                name="monitoring_delivery_sent_stamped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} for step {self.escalation_id} ({self.status})"


class ConsumerHeartbeat(models.Model):
    """One row per MQTT consumer name, refreshed while it runs; the status page reads it."""

    name = models.CharField(max_length=100, unique=True)
    client_id = models.CharField(max_length=150)
    pid = models.PositiveIntegerField()
    hostname = models.CharField(max_length=255)
    started_at = models.DateTimeField()
    last_beat_at = models.DateTimeField()
    connected = models.BooleanField(default=False)
    backlog = models.PositiveIntegerField(default=0, help_text="Received, not yet acknowledged")
    messages_acknowledged = models.PositiveBigIntegerField(default=0)
    readings_accepted = models.PositiveBigIntegerField(default=0)
    messages_refused = models.PositiveBigIntegerField(default=0)
    database_retries = models.PositiveBigIntegerField(default=0)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} (last beat {clock.local(self.last_beat_at):%Y-%m-%d %H:%M:%S})"
