"""Every monitoring write but the ingest hot path: keyword-only, an actor, one transaction, audited.

Gateways and devices (system administrators), enrolment (managers), rule settings (managers),
and staff responses to alerts (acknowledge, reset, resolve). Refusals raise ``core.errors``
before anything is written, or inside the transaction so it rolls back. Readings themselves go
through ``ingest.py``, which never calls the ORM per reading.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from saferprisons.accounts import services as accounts
from saferprisons.audit.actors import SYSTEM
from saferprisons.audit.constants import Action
from saferprisons.audit.services import record
from saferprisons.core import clock
from saferprisons.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from saferprisons.core.permissions import has_permission, principal_prison_ids
from saferprisons.estate.constants import LocationLevel
from saferprisons.estate.models import Location, Prison
from saferprisons.people.models import Prisoner

from . import escalation, events, transitions
from . import permissions as perms
from .constants import (
    DEFAULT_DAY_ENDS,
    DEFAULT_DAY_STARTS,
    DEFAULT_RULES,
    ESCALATION_ROLES,
    EXTERNAL_ID_PATTERN,
    GATEWAY_CODE_PATTERN,
    GATEWAY_TOKEN_SCOPE,
    MAX_ESCALATION_DELAY_SECONDS,
    MAX_ESCALATION_STEPS,
    PHONE_NUMBER_PATTERN,
    REASON_MAX_LENGTH,
    VITAL_RULES,
    AlertOutcome,
    AlertStatus,
    DeviceKind,
    EnrolmentBasis,
    Priority,
    RuleKind,
)
from .escalation import StepSpec
from .models import (
    Alert,
    AlertReading,
    Device,
    Enrolment,
    EscalationStep,
    Gateway,
    RosterVersion,
    RuleConfig,
)

NOT_FOUND = "No such record in your prisons"
GATEWAY_TOKEN_DAYS = 366


# --- Helpers --------------------------------------------------------------------------------------


def _require(actor, permission: str, message: str) -> None:
    if not has_permission(actor, permission):
        raise PermissionDenied(message)


def _require_prison(actor, prison_id: int | None) -> None:
    # Out of scope looks the same as not existing.
    if prison_id is None or prison_id not in principal_prison_ids(actor):
        raise NotFound(NOT_FOUND)


def _text(value: str, field: str, what: str, *, required: bool, limit: int) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(f"Enter {what}", field=field)
    if len(value) > limit:
        raise ValidationFailed(
            f"{what[0].upper()}{what[1:]} must be {limit} characters or fewer", field=field
        )
    return value


def _roster_changed() -> None:
    """Tell ingest processes that who or what is monitored changed (inside the transaction)."""
    if not RosterVersion.objects.filter(pk=1).update(number=F("number") + 1):
        RosterVersion.objects.get_or_create(pk=1, defaults={"number": 1})


def _audit(actor, action: str, obj, prison_code: str, **values) -> None:
    record(
        actor=actor,
        action=action,
        object_type=f"monitoring_{type(obj).__name__.lower()}",
        object_id=getattr(obj, "public_id", "") or obj.pk,
        prison_code=prison_code,
        **values,
    )


# --- Gateways and devices -------------------------------------------------------------------------


def register_gateway(*, actor, prison: Prison, code: str, name: str) -> tuple[Gateway, str]:
    """A gateway and its API token (scope sensors:write, this prison only). The token's secret
    is returned once and never stored."""
    _require(actor, perms.MANAGE_DEVICES, "Only a system administrator can register gateways")
    _require_prison(actor, prison.pk)
    code = (code or "").strip()
    if not re.fullmatch(GATEWAY_CODE_PATTERN, code):
        raise ValidationFailed(
            "A gateway code is 1 to 32 letters, digits and hyphens, starting with a letter or "
            "digit",
            field="code",
        )
    name = _text(name, "name", "a name for the gateway", required=True, limit=100)
    with transaction.atomic():
        if Gateway.objects.filter(prison=prison, code=code).exists():
            raise ValidationFailed(f"{prison.code} already has a gateway {code}", field="code")
        gateway = Gateway.objects.create(prison=prison, code=code, name=name)
        secret = _issue_token(actor, gateway)
        _roster_changed()
        _audit(actor, Action.CREATE, gateway, prison.code, after={"code": code, "name": name})
    return gateway, secret


def _issue_token(actor, gateway: Gateway) -> str:
    token, secret = accounts.create_api_token(
        actor=actor,
        name=f"Monitoring gateway {gateway.prison.code}/{gateway.code}",
        scopes=[GATEWAY_TOKEN_SCOPE],
        prisons=[gateway.prison],
        valid_days=GATEWAY_TOKEN_DAYS,
    )
    gateway.api_token = token
    gateway.updated_at = clock.now()
    gateway.save(update_fields=["api_token", "updated_at"])
    return secret


def rotate_gateway_token(*, actor, gateway: Gateway) -> tuple[Gateway, str]:
    """Revoke the gateway's token and issue a new one (shown once)."""
    _require(actor, perms.MANAGE_DEVICES, "Only a system administrator can manage gateways")
    with transaction.atomic():
        locked = _locked_gateway(actor, gateway)
        if locked.api_token_id is not None:
            accounts.revoke_api_token(actor=actor, token_public_id=locked.api_token.public_id)
        secret = _issue_token(actor, locked)
        _audit(actor, Action.UPDATE, locked, locked.prison.code, details={"event": "new_token"})
    return locked, secret


def retire_gateway(*, actor, gateway: Gateway) -> Gateway:
    """Take a gateway out of service: its token is revoked and its readings are refused."""
    _require(actor, perms.MANAGE_DEVICES, "Only a system administrator can manage gateways")
    with transaction.atomic():
        locked = _locked_gateway(actor, gateway)
        if locked.retired_at is not None:
            return locked
        if locked.api_token_id is not None:
            accounts.revoke_api_token(actor=actor, token_public_id=locked.api_token.public_id)
        locked.retired_at = locked.updated_at = clock.now()
        locked.save(update_fields=["retired_at", "updated_at"])
        _roster_changed()
        _audit(
            actor,
            Action.UPDATE,
            locked,
            locked.prison.code,
            after={"retired_at": locked.retired_at},
        )
    return locked


def _locked_gateway(actor, gateway: Gateway) -> Gateway:
    locked = (
        Gateway.objects.select_for_update(of=("self",))
        .select_related("prison", "api_token")
        .filter(pk=gateway.pk)
        .first()
    )
    if locked is None:
        raise NotFound(NOT_FOUND)
    _require_prison(actor, locked.prison_id)
    return locked


def register_device(
    *,
    actor,
    gateway: Gateway,
    cell: Location,
    external_id: str,
    kind: str,
    vendor: str,
    serial: str,
    firmware: str = "",
    installed_at: datetime | None = None,
) -> Device:
    _require(actor, perms.MANAGE_DEVICES, "Only a system administrator can register devices")
    _require_prison(actor, gateway.prison_id)
    if cell.prison_id != gateway.prison_id or cell.level != LocationLevel.CELL:
        raise ValidationFailed("Choose a cell in the gateway's prison", field="cell")
    if gateway.retired_at is not None:
        raise ValidationFailed("This gateway is out of service", field="gateway")
    external_id = (external_id or "").strip()
    if not re.fullmatch(EXTERNAL_ID_PATTERN, external_id):
        raise ValidationFailed(
            "A device id is 1 to 64 letters, digits and . _ : -", field="external_id"
        )
    if kind not in DeviceKind.values:
        raise ValidationFailed("Choose the kind of device", field="kind")
    vendor = _text(vendor, "vendor", "the vendor", required=True, limit=100)
    serial = _text(serial, "serial", "the serial number", required=True, limit=100)
    firmware = _text(firmware, "firmware", "the firmware version", required=False, limit=50)
    now = clock.now()
    try:
        with transaction.atomic():
            device = Device.objects.create(
                external_id=external_id,
                gateway=gateway,
                cell=cell,
                kind=kind,
                vendor=vendor,
                serial=serial,
                firmware=firmware,
                installed_at=installed_at or now,
                updated_at=now,
            )
            _roster_changed()
            _audit(
                actor,
                Action.CREATE,
                device,
                gateway.prison.code,
                after={"external_id": external_id, "kind": kind, "cell": cell.path},
            )
    except IntegrityError as error:
        raise ValidationFailed(
            "Another device already has this id or serial number, or this cell already has an "
            "installed device of this kind",
            field="external_id",
        ) from error
    return device


def update_device_firmware(*, actor, device: Device, firmware: str) -> Device:
    """Record a new firmware version on an installed device (the same version again: no-op)."""
    _require(actor, perms.MANAGE_DEVICES, "Only a system administrator can manage devices")
    firmware = _text(firmware, "firmware", "the firmware version", required=True, limit=50)
    with transaction.atomic():
        locked = _locked_device(actor, device)
        before = locked.firmware
        if before == firmware:
            return locked
        if locked.removed_at is not None:
            raise ValidationFailed(
                "This device has been removed: its firmware can no longer change",
                field="firmware",
            )
        locked.firmware = firmware
        locked.updated_at = clock.now()
        locked.save(update_fields=["firmware", "updated_at"])
        _audit(
            actor,
            Action.UPDATE,
            locked,
            locked.gateway.prison.code,
            before={"firmware": before},
            after={"firmware": firmware},
        )
    return locked


def remove_device(*, actor, device: Device, removed_at: datetime | None = None) -> Device:
    """Record that a device was taken out; its readings are refused from then on."""
    _require(actor, perms.MANAGE_DEVICES, "Only a system administrator can manage devices")
    with transaction.atomic():
        locked = _locked_device(actor, device)
        if locked.removed_at is not None:
            return locked
        removed_at = removed_at or clock.now()
        if removed_at <= locked.installed_at:
            raise ValidationFailed("A device is removed after it was installed", field="removed_at")
        locked.removed_at = removed_at
        locked.updated_at = clock.now()
        locked.save(update_fields=["removed_at", "updated_at"])
        _roster_changed()
        _audit(
            actor,
            Action.UPDATE,
            locked,
            locked.gateway.prison.code,
            after={"removed_at": removed_at},
        )
    return locked


def _locked_device(actor, device: Device) -> Device:
    locked = (
        Device.objects.select_for_update(of=("self",))
        .select_related("gateway__prison")
        .filter(pk=device.pk)
        .first()
    )
    if locked is None:
        raise NotFound(NOT_FOUND)
    _require_prison(actor, locked.gateway.prison_id)
    return locked


# --- Enrolment ------------------------------------------------------------------------------------


def enrol(
    *,
    actor,
    prisoner: Prisoner,
    basis: str,
    review_on: date,
    ends_at: datetime,
    decision_reason: str = "",
    starts_at: datetime | None = None,
) -> Enrolment:
    """Enrol a person in the pilot: their consent, or a manager's decision with its reason."""
    _require(actor, perms.MANAGE_ENROLMENT, "Only a manager can enrol people in monitoring")
    if basis not in EnrolmentBasis.values:
        raise ValidationFailed("Choose the basis for monitoring", field="basis")
    reason = _text(
        decision_reason,
        "decision_reason",
        "the reason for the decision",
        required=basis == EnrolmentBasis.MANAGER_DECISION,
        limit=REASON_MAX_LENGTH,
    )
    now = clock.now()
    starts_at = starts_at or now
    if ends_at <= starts_at:
        raise ValidationFailed("The end must be after the start", field="ends_at")
    if not starts_at.date() <= review_on <= ends_at.date() + timedelta(days=1):
        raise ValidationFailed("Set a review date between the start and the end", field="review_on")
    with transaction.atomic():
        person = _locked_person(actor, prisoner)
        overlapping = Enrolment.objects.filter(
            prisoner=person, starts_at__lt=ends_at, ends_at__gt=starts_at
        )
        if overlapping.exists():
            raise Conflict("This person is already enrolled for some of that time")
        enrolment = Enrolment.objects.create(
            prisoner=person,
            prison=person.prison,
            basis=basis,
            decision_reason=reason,
            decided_by=actor,
            decided_at=now,
            review_on=review_on,
            starts_at=starts_at,
            ends_at=ends_at,
            updated_at=now,
        )
        _roster_changed()
        _audit(
            actor,
            Action.CREATE,
            enrolment,
            person.prison.code,
            after={
                "prisoner": str(person.public_id),
                "basis": basis,
                "review_on": review_on,
                "starts_at": starts_at,
                "ends_at": ends_at,
            },
        )
    return enrolment


def end_enrolment(*, actor, enrolment: Enrolment, reason: str) -> Enrolment:
    """End an enrolment now (withdrawn consent, decision reviewed). Ending again is a no-op."""
    _require(actor, perms.MANAGE_ENROLMENT, "Only a manager can end monitoring")
    reason = _text(
        reason, "end_reason", "why monitoring ends", required=True, limit=REASON_MAX_LENGTH
    )
    with transaction.atomic():
        _locked_person(actor, Prisoner(pk=enrolment.prisoner_id))
        locked = (
            Enrolment.objects.select_for_update(of=("self",))
            .select_related("prison")
            .get(pk=enrolment.pk)
        )
        now = clock.now()
        if locked.ends_at <= now:
            return locked
        before = locked.ends_at
        locked.ends_at = max(now, locked.starts_at + timedelta(microseconds=1))
        locked.ended_early_by = actor
        locked.end_reason = reason
        locked.updated_at = now
        locked.save(update_fields=["ends_at", "ended_early_by", "end_reason", "updated_at"])
        _roster_changed()
        _audit(
            actor,
            Action.UPDATE,
            locked,
            locked.prison.code,
            before={"ends_at": before},
            after={"ends_at": locked.ends_at},
            details={"event": "ended_early"},
        )
    return locked


def _locked_person(actor, prisoner: Prisoner) -> Prisoner:
    person = (
        Prisoner.objects.select_for_update(of=("self",))
        .select_related("prison")
        .filter(pk=prisoner.pk)
        .first()
    )
    if person is None:
        raise NotFound(NOT_FOUND)
    _require_prison(actor, person.prison_id)
    return person


# --- Rule settings --------------------------------------------------------------------------------


def configure_rule(
    *,
    actor,
    prison: Prison,
    kind: str,
    priority: str,
    day_threshold_seconds: int | None,
    night_threshold_seconds: int | None,
    location: Location | None = None,
    enabled: bool = True,
    day_starts: time | None = None,
    day_ends: time | None = None,
    limit_low: float | None = None,
    limit_high: float | None = None,
    min_quality: float | None = None,
) -> RuleConfig:
    """Set one rule for a prison, or for a wing or landing in it (replacing what was there)."""
    _require(actor, perms.CONFIGURE_RULES, "Only a manager can change monitoring rules")
    _require_prison(actor, prison.pk)
    values = _rule_values(
        kind=kind,
        priority=priority,
        enabled=enabled,
        day_threshold_seconds=day_threshold_seconds,
        night_threshold_seconds=night_threshold_seconds,
        day_starts=day_starts or time.fromisoformat(DEFAULT_DAY_STARTS),
        day_ends=day_ends or time.fromisoformat(DEFAULT_DAY_ENDS),
        limit_low=limit_low,
        limit_high=limit_high,
        min_quality=min_quality,
    )
    if location is not None and (
        location.prison_id != prison.pk
        or location.level not in (LocationLevel.WING, LocationLevel.LANDING)
    ):
        raise ValidationFailed("Choose a wing or landing in this prison", field="location")
    if location is not None and location.deactivated_at is not None:
        # Its own setting can still be removed (remove_rule_setting), not set or changed.
        raise ValidationFailed(
            f"{location.get_level_display()} {location.path} is closed", field="location"
        )
    with transaction.atomic():
        existing = (
            RuleConfig.objects.select_for_update(of=("self",))
            .filter(prison=prison, location=location, kind=kind)
            .order_by()  # the model's ordering would join the nullable location
            .first()
        )
        before = _rule_snapshot(existing) if existing else None
        config = existing or RuleConfig(prison=prison, location=location, kind=kind)
        for name, value in values.items():
            setattr(config, name, value)
        config.updated_by = actor
        config.updated_at = clock.now()
        config.save()
        _roster_changed()
        record(
            actor=actor,
            action=Action.UPDATE if existing else Action.CREATE,
            object_type="monitoring_ruleconfig",
            object_id=str(config.pk),
            prison_code=prison.code,
            before=before,
            after=_rule_snapshot(config),
            details={"location": location.path if location else ""},
        )
    return config


def remove_rule_setting(
    *, actor, prison: Prison, kind: str, location: Location | None = None
) -> RuleConfig:
    """Remove a prison's own setting of one rule (the built-in default is then in force), or a
    wing's or landing's override (what is set above it is then in force). Removing a setting
    that is not there is NotFound, so a client can tell it changed nothing."""
    _require(actor, perms.CONFIGURE_RULES, "Only a manager can change monitoring rules")
    _require_prison(actor, prison.pk)
    if kind not in RuleKind.values:
        raise ValidationFailed("Choose a rule", field="kind")
    if location is not None and location.prison_id != prison.pk:
        raise ValidationFailed("Choose a wing or landing in this prison", field="location")
    where = f"{location.get_level_display().lower()} {location.path}" if location else prison.name
    with transaction.atomic():
        existing = (
            RuleConfig.objects.select_for_update(of=("self",))
            .filter(prison=prison, location=location, kind=kind)
            .order_by()  # the model's ordering would join the nullable location
            .first()
        )
        if existing is None:
            raise NotFound(f"{where} has no setting of its own for this rule")
        before = _rule_snapshot(existing)
        object_id = str(existing.pk)
        existing.delete()
        _roster_changed()
        record(
            actor=actor,
            action=Action.DELETE,
            object_type="monitoring_ruleconfig",
            object_id=object_id,
            prison_code=prison.code,
            before=before,
            details={"location": location.path if location else ""},
        )
    return existing


def _rule_values(**values) -> dict:
    kind = values.pop("kind")
    if kind not in RuleKind.values:
        raise ValidationFailed("Choose a rule", field="kind")
    if values["priority"] not in Priority.values:
        raise ValidationFailed("Choose a priority", field="priority")
    for name in ("day_threshold_seconds", "night_threshold_seconds"):
        seconds = values[name]
        if seconds is not None and not (isinstance(seconds, int) and 0 <= seconds <= 7 * 86_400):
            raise ValidationFailed(
                "A threshold is 0 seconds to 7 days, or empty for off", field=name
            )
    if not values["day_starts"] < values["day_ends"]:
        raise ValidationFailed("Day starts before it ends (London time)", field="day_ends")
    low, high = values["limit_low"], values["limit_high"]
    if low is not None and high is not None and not low < high:
        raise ValidationFailed("The lower limit must be below the upper limit", field="limit_low")
    quality = values["min_quality"]
    if quality is not None and not 0 <= quality <= 1:
        raise ValidationFailed("Quality is from 0 to 1", field="min_quality")
    if kind in VITAL_RULES or kind == RuleKind.NO_ACTIVITY:
        defaults = DEFAULT_RULES[kind]
        for name in ("limit_low", "limit_high", "min_quality"):
            if values[name] is None and name in defaults:
                values[name] = defaults[name]
    return values


def _rule_snapshot(config: RuleConfig) -> dict:
    return {
        "kind": config.kind,
        "enabled": config.enabled,
        "priority": config.priority,
        "day_threshold_seconds": config.day_threshold_seconds,
        "night_threshold_seconds": config.night_threshold_seconds,
        "day_starts": str(config.day_starts),
        "day_ends": str(config.day_ends),
        "limit_low": config.limit_low,
        "limit_high": config.limit_high,
        "min_quality": config.min_quality,
    }


# --- Escalation chains ----------------------------------------------------------------------------


def configure_escalation_chain(*, actor, prison: Prison, steps: list[StepSpec]) -> list[StepSpec]:
    """Replace a prison's escalation chain. Alerts already open keep the chain they opened with
    (each has its own copy); alerts opened from now on get this one."""
    _require(actor, perms.CONFIGURE_RULES, "Only a manager can change the escalation chain")
    _require_prison(actor, prison.pk)
    checked = [_checked_step(index, step) for index, step in enumerate(steps, start=1)]
    if not checked:
        raise ValidationFailed("Set at least one step", field="step-1-delay")
    if len(checked) > MAX_ESCALATION_STEPS:
        raise ValidationFailed(
            f"A chain has at most {MAX_ESCALATION_STEPS} steps", field="step-1-delay"
        )
    for number, (earlier, later) in enumerate(zip(checked, checked[1:], strict=False), start=2):
        if later.delay_seconds <= earlier.delay_seconds:
            raise ValidationFailed(
                f"Step {number} must come later than step {number - 1}",
                field=f"step-{number}-delay",
            )
    now = clock.now()
    with transaction.atomic():
        Prison.objects.select_for_update().filter(pk=prison.pk).first()  # one writer at a time
        existing = EscalationStep.objects.filter(prison=prison).order_by("number")
        before = [_step_snapshot(StepSpec.of(step)) for step in existing]
        EscalationStep.objects.filter(prison=prison).delete()
        EscalationStep.objects.bulk_create(
            EscalationStep(
                prison=prison,
                number=number,
                delay_seconds=step.delay_seconds,
                roles=list(step.roles),
                priorities=list(step.priorities),
                email_address=step.email_address,
                phone_number=step.phone_number,
                updated_by=actor,
                updated_at=now,
            )
            for number, step in enumerate(checked, start=1)
        )
        record(
            actor=actor,
            action=Action.UPDATE if before else Action.CREATE,
            object_type="monitoring_escalation_chain",
            object_id=prison.public_id,
            prison_code=prison.code,
            before={"steps": before} if before else None,
            after={"steps": [_step_snapshot(step) for step in checked]},
        )
    return checked


def _checked_step(number: int, step: StepSpec) -> StepSpec:
    field = f"step-{number}"
    delay = step.delay_seconds
    if not isinstance(delay, int) or not 0 <= delay <= MAX_ESCALATION_DELAY_SECONDS:
        raise ValidationFailed(
            f"Step {number}: the wait is 0 to {MAX_ESCALATION_DELAY_SECONDS} seconds",
            field=f"{field}-delay",
        )
    roles = tuple(dict.fromkeys(step.roles))
    if not roles or any(role not in ESCALATION_ROLES for role in roles):
        raise ValidationFailed(f"Step {number}: choose who is told", field=f"{field}-roles")
    priorities = tuple(p for p in Priority.values if p in set(step.priorities))
    if not priorities or len(priorities) != len(set(step.priorities)):
        raise ValidationFailed(
            f"Step {number}: choose which priorities it is for", field=f"{field}-priorities"
        )
    email = (step.email_address or "").strip()
    if email:
        from django.core.exceptions import ValidationError
        from django.core.validators import validate_email

        try:
            validate_email(email)
        except ValidationError:
            raise ValidationFailed(
                f"Step {number}: enter an e-mail address like name@example.gov.uk",
                field=f"{field}-email",
            ) from None
    phone = (step.phone_number or "").strip()
    if phone and not re.fullmatch(PHONE_NUMBER_PATTERN, phone):
        raise ValidationFailed(
            f"Step {number}: enter a mobile number like 07700 900 982", field=f"{field}-phone"
        )
    return StepSpec(
        delay_seconds=delay,
        roles=roles,
        priorities=priorities,
        email_address=email,
        phone_number=phone,
    )


def _step_snapshot(step: StepSpec) -> dict:
    # Addresses are not personal data (duty mailboxes and phones), but only whether one is set
    # goes into the audit trail.
    return {
        "delay_seconds": step.delay_seconds,
        "roles": list(step.roles),
        "priorities": list(step.priorities),
        "email": bool(step.email_address),
        "sms": bool(step.phone_number),
    }


# --- Responding to alerts -------------------------------------------------------------------------


def acknowledge_alert(*, actor, alert: Alert) -> Alert:
    """I have seen it and I am going. Acknowledging again is a no-op."""
    return _respond(actor, alert, transitions.ACKNOWLEDGE, events.alert_acknowledged)


def reset_alert(*, actor, alert: Alert) -> Alert:
    """A high-priority alert's explicit reset by the member of staff at the cell."""
    return _respond(actor, alert, transitions.RESET, events.alert_reset)


def resolve_alert(*, actor, alert: Alert, outcome: str, note: str = "") -> Alert:
    """Close an alert with what was found. Resolving again is a no-op."""
    if outcome not in AlertOutcome.values:
        raise ValidationFailed("Choose what was found", field="outcome")
    note = _text(note, "note", "a note", required=False, limit=REASON_MAX_LENGTH)
    return _respond(
        actor, alert, transitions.RESOLVE, events.alert_resolved, outcome=outcome, note=note
    )


def _respond(actor, alert: Alert, action: str, signal, **resolution) -> Alert:
    _require(actor, perms.RESPOND, "You cannot respond to monitoring alerts")
    with transaction.atomic():
        locked = (
            Alert.objects.select_for_update(of=("self",))
            .select_related("prison", "cell")
            .filter(pk=alert.pk)
            .first()
        )
        if locked is None:
            raise NotFound(NOT_FOUND)
        _require_prison(actor, locked.prison_id)
        before = locked.status
        after = transitions.next_status(action, before, locked.priority)
        if after is None:
            return locked
        now = clock.now()
        # Every response acknowledges, so the rest of the chain is not needed. Its steps and
        # their jobs are locked before anything here writes to the audit trail (whose one head
        # row every writer locks last), so no lock is awaited while holding that row.
        pending = escalation.lock_pending(locked)
        changed = []
        if resolution.get("outcome") == AlertOutcome.SELF_HARM_FOUND:
            changed += _after_self_harm(actor, locked)
        escalation.cancel_locked(pending, actor=actor, now=now)
        changed += _stamp(locked, actor, now, after, **resolution)
        locked.save(update_fields=changed)
        _audit(
            actor,
            Action.UPDATE,
            locked,
            locked.prison.code,
            before={"status": before},
            after={"status": after, **({"outcome": locked.outcome} if locked.outcome else {})},
            details={
                "event": action,
                "rule": locked.rule,
                **(
                    {
                        "incident_pending": True,
                        "acct_review_demand": locked.acct_review_demand_id,
                    }
                    if locked.incident_pending
                    else {}
                ),
            },
        )
        events.announce(signal, alert=locked)
    return locked


def _after_self_harm(actor, alert: Alert) -> list[str]:
    """Self-harm found: demand an ACCT review if the person is on an open ACCT here, and mark
    that an incident must be reported (the incidents app, a later issue, links it)."""
    from saferprisons.acct import services as acct_services
    from saferprisons.acct.constants import CaseStatus, DemandReason
    from saferprisons.acct.models import AcctCase

    alert.incident_pending = True
    changed = ["incident_pending"]
    if alert.prisoner_id is None:
        return changed
    case = (
        AcctCase.objects.filter(
            prisoner_id=alert.prisoner_id,
            status=CaseStatus.OPEN,
            prison_id__in=principal_prison_ids(actor),
        )
        .order_by("-opened_at")
        .first()
    )
    if case is None:
        return changed
    alert.acct_review_demand = acct_services.demand_review(
        actor=actor,
        case=case,
        reason=DemandReason.SELF_HARM,
        details=(
            f"Self-harm found responding to a monitoring alert "
            f"({alert.get_rule_display().lower()}) in cell {alert.cell.path}"
        ),
    )
    return [*changed, "acct_review_demand"]


def _stamp(alert: Alert, actor, now: datetime, status: str, **resolution) -> list[str]:
    changed = []
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, actor
        changed += ["acknowledged_at", "acknowledged_by"]
    if status == AlertStatus.RESET:
        alert.reset_at, alert.reset_by = now, actor
        changed += ["reset_at", "reset_by"]
    if status == AlertStatus.RESOLVED:
        alert.resolved_at, alert.resolved_by = now, actor
        alert.outcome = resolution["outcome"]
        alert.resolution_note = resolution["note"]
        changed += ["resolved_at", "resolved_by", "outcome", "resolution_note"]
    return changed


# --- Retention ------------------------------------------------------------------------------------


def purge_raw_readings(*, now: datetime | None = None) -> int:
    """Delete raw readings kept with alerts once they are older than the retention period."""
    now = now or clock.now()
    days = settings.MONITORING_RAW_READING_RETENTION_DAYS
    cutoff = now - timedelta(days=days)
    with transaction.atomic():
        deleted, _ = AlertReading.objects.filter(recorded_at__lt=cutoff).delete()
        if deleted:
            record(
                actor=SYSTEM,
                action=Action.DELETE,
                object_type="monitoring_alertreading",
                details={"deleted": deleted, "older_than": cutoff, "retention_days": days},
            )
    return deleted
