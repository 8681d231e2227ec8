"""Gateways, devices, enrolment, rule settings and responding to alerts: permissions, scoping,
validation, database invariants and the audit trail."""

from datetime import time, timedelta

import pytest
from django.db import IntegrityError, transaction

from saferprisons.accounts.models import ApiToken
from saferprisons.audit.models import AuditEvent
from saferprisons.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from saferprisons.core.permissions import principal_permissions
from saferprisons.jobs.constants import JobStatus
from saferprisons.jobs.models import Job
from saferprisons.monitoring import services, transitions
from saferprisons.monitoring.constants import (
    AlertOutcome,
    AlertStatus,
    EnrolmentBasis,
    Priority,
    RuleKind,
)
from saferprisons.monitoring.models import Alert, AlertReading, Enrolment, RosterVersion, RuleConfig
from saferprisons.monitoring.selectors import gateway_for_token, open_alerts, rule_settings

from .conftest import NIGHT


def make_alert(world, rule=RuleKind.NO_ACTIVITY, priority=Priority.HIGH, cell=None) -> Alert:
    return Alert.objects.create(
        prison=world.north,
        cell=cell or world.north_cells[0],
        prisoner=world.north_person,
        device=world.devices[0],
        rule=rule,
        priority=priority,
        threshold_seconds=1200,
        first_reading_at=NIGHT - timedelta(minutes=20),
        triggered_at=NIGHT,
    )


def audit_events(object_type: str) -> list[tuple]:
    return list(
        AuditEvent.objects.filter(object_type=object_type)
        .order_by("sequence")
        .values_list("action", "actor_label")
    )


# --- Gateways and devices -------------------------------------------------------------------------


def test_a_gateway_gets_a_narrow_token_of_its_own(monitored):
    token = monitored.gateway.api_token
    assert token.scopes == ["sensors:write"]
    assert list(token.prisons.all()) == [monitored.north]
    assert principal_permissions(token) == frozenset({"monitoring.ingest"})
    assert token.expires_at == NIGHT + timedelta(days=366)
    assert monitored.secret.startswith(f"sp_{token.key_prefix}_")
    assert gateway_for_token(token) == monitored.gateway


def test_rotating_a_token_revokes_the_old_one(monitored):
    old = monitored.gateway.api_token
    gateway, secret = services.rotate_gateway_token(
        actor=monitored.admin, gateway=monitored.gateway
    )
    old.refresh_from_db()
    assert old.revoked_at == NIGHT
    assert gateway.api_token != old and gateway.api_token.revoked_at is None
    assert secret.startswith(f"sp_{gateway.api_token.key_prefix}_")
    assert gateway_for_token(old) is None


def test_a_retired_gateway_s_token_stops_working(monitored):
    services.retire_gateway(actor=monitored.admin, gateway=monitored.gateway)
    token = ApiToken.objects.get(pk=monitored.gateway.api_token_id)
    assert token.revoked_at == NIGHT
    assert gateway_for_token(token) is None
    again = services.retire_gateway(actor=monitored.admin, gateway=monitored.gateway)
    assert again.retired_at == NIGHT


@pytest.mark.parametrize(
    ("code", "name", "field"),
    [("A WING", "x", "code"), ("", "x", "code"), ("-A", "x", "code"), ("B", "", "name")],
)
def test_gateway_input_is_checked(monitored, code, name, field):
    with pytest.raises(ValidationFailed) as error:
        services.register_gateway(
            actor=monitored.admin, prison=monitored.north, code=code, name=name
        )
    assert error.value.field == field


def test_only_an_administrator_in_the_prison_registers_gateways(monitored):
    with pytest.raises(PermissionDenied):
        services.register_gateway(
            actor=monitored.manager, prison=monitored.north, code="B", name="B"
        )
    with pytest.raises(NotFound):
        services.register_gateway(
            actor=monitored.admin, prison=_other_prison(), code="B", name="Elsewhere"
        )


def _other_prison():
    from saferprisons.conftest import make_prison

    return make_prison("ZZZ", "HMP Elsewhere")


def test_device_registration_rules(monitored):
    def register(**changes):
        fields = {
            "actor": monitored.admin,
            "gateway": monitored.gateway,
            "cell": monitored.safe_cells[0],
            "external_id": "ZNA-S1-001-V",
            "kind": "VISION",
            "vendor": "Fictional Sensors Ltd",
            "serial": "FS-77777",
        }
        return services.register_device(**(fields | changes))

    with pytest.raises(ValidationFailed, match="cell in the gateway's prison"):
        register(cell=monitored.south_cells[0])
    with pytest.raises(ValidationFailed, match="cell in the gateway's prison"):
        register(cell=monitored.north_cells[0].parent)  # a landing
    with pytest.raises(ValidationFailed, match="device id"):
        register(external_id="has spaces")
    with pytest.raises(ValidationFailed, match="kind of device"):
        register(kind="CAMERA")
    with pytest.raises(ValidationFailed, match="already has this id"):
        register(external_id="ZNA-A1-001-V")
    with pytest.raises(ValidationFailed, match="already has this id"):
        register(cell=monitored.north_cells[0], serial="FS-70000")  # a second vision sensor
    device = register(kind="WEARABLE")
    assert (device.cell, device.installed_at, device.removed_at) == (
        monitored.safe_cells[0],
        NIGHT,
        None,
    )


def test_removing_a_device(monitored):
    device = monitored.devices[1]
    with pytest.raises(ValidationFailed):
        services.remove_device(
            actor=monitored.admin, device=device, removed_at=NIGHT - timedelta(days=2)
        )
    removed = services.remove_device(actor=monitored.admin, device=device)
    assert removed.removed_at == NIGHT
    assert services.remove_device(actor=monitored.admin, device=device).removed_at == NIGHT
    updated = services.update_device_firmware(
        actor=monitored.admin, device=monitored.devices[0], firmware="2.4.1"
    )
    assert updated.firmware == "2.4.1"


def test_roster_changes_are_counted(monitored):
    before = RosterVersion.objects.get(pk=1).number
    services.remove_device(actor=monitored.admin, device=monitored.devices[2])
    assert RosterVersion.objects.get(pk=1).number == before + 1


# --- Enrolment ------------------------------------------------------------------------------------


def test_a_manager_s_decision_needs_its_reason(monitored):
    person = monitored.south_person
    with pytest.raises(NotFound):  # a manager of another prison
        services.enrol(
            actor=monitored.manager,
            prisoner=person,
            basis=EnrolmentBasis.CONSENT,
            review_on=NIGHT.date(),
            ends_at=NIGHT + timedelta(days=7),
        )
    with pytest.raises(ValidationFailed) as error:
        services.enrol(
            actor=monitored.south_manager,
            prisoner=person,
            basis=EnrolmentBasis.MANAGER_DECISION,
            review_on=NIGHT.date(),
            ends_at=NIGHT + timedelta(days=7),
        )
    assert error.value.field == "decision_reason"
    enrolment = services.enrol(
        actor=monitored.south_manager,
        prisoner=person,
        basis=EnrolmentBasis.MANAGER_DECISION,
        decision_reason="Lacks capacity to consent tonight; ACCT open, high risk",
        review_on=NIGHT.date() + timedelta(days=3),
        ends_at=NIGHT + timedelta(days=7),
    )
    assert (enrolment.prison, enrolment.decided_by, enrolment.starts_at) == (
        monitored.south,
        monitored.south_manager,
        NIGHT,
    )
    assert enrolment.is_current()


def test_enrolments_of_one_person_do_not_overlap(monitored):
    with pytest.raises(Conflict):
        services.enrol(
            actor=monitored.manager,
            prisoner=monitored.north_person,
            basis=EnrolmentBasis.CONSENT,
            review_on=NIGHT.date() + timedelta(days=1),
            ends_at=NIGHT + timedelta(days=2),
        )


def test_enrolment_dates_are_checked(monitored):
    common = {
        "actor": monitored.south_manager,
        "prisoner": monitored.south_person,
        "basis": EnrolmentBasis.CONSENT,
    }
    with pytest.raises(ValidationFailed) as error:
        services.enrol(**common, review_on=NIGHT.date(), ends_at=NIGHT - timedelta(hours=1))
    assert error.value.field == "ends_at"
    with pytest.raises(ValidationFailed) as error:
        services.enrol(
            **common, review_on=NIGHT.date() + timedelta(days=30), ends_at=NIGHT + timedelta(days=7)
        )
    assert error.value.field == "review_on"


def test_ending_an_enrolment_early(monitored):
    with pytest.raises(PermissionDenied):
        services.end_enrolment(actor=monitored.officer, enrolment=monitored.enrolment, reason="x")
    with pytest.raises(ValidationFailed):
        services.end_enrolment(actor=monitored.manager, enrolment=monitored.enrolment, reason=" ")
    ended = services.end_enrolment(
        actor=monitored.manager, enrolment=monitored.enrolment, reason="Consent withdrawn"
    )
    assert (ended.ends_at, ended.ended_early_by, ended.end_reason) == (
        NIGHT,
        monitored.manager,
        "Consent withdrawn",
    )
    assert not ended.is_current()
    assert services.end_enrolment(
        actor=monitored.manager, enrolment=ended, reason="Again"
    ).end_reason == ("Consent withdrawn")


def test_the_database_refuses_a_decision_without_a_reason(monitored):
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrolment.objects.create(
            prisoner=monitored.south_person,
            prison=monitored.south,
            basis=EnrolmentBasis.MANAGER_DECISION,
            decided_by=monitored.manager,
            review_on=NIGHT.date(),
            starts_at=NIGHT,
            ends_at=NIGHT + timedelta(days=1),
        )


# --- Rule settings --------------------------------------------------------------------------------


def test_rule_settings_per_prison_and_per_landing(monitored):
    landing = monitored.north_cells[0].parent
    services.configure_rule(
        actor=monitored.manager,
        prison=monitored.north,
        kind=RuleKind.NO_ACTIVITY,
        priority=Priority.HIGH,
        day_threshold_seconds=2400,
        night_threshold_seconds=900,
        day_starts=time(7, 30),
    )
    config = services.configure_rule(
        actor=monitored.manager,
        prison=monitored.north,
        location=landing,
        kind=RuleKind.NO_ACTIVITY,
        priority=Priority.MEDIUM,
        day_threshold_seconds=None,
        night_threshold_seconds=600,
    )
    assert config.limit_high == 0.05  # the default still level
    whole = rule_settings(monitored.manager, monitored.north)[RuleKind.NO_ACTIVITY]
    here = rule_settings(monitored.manager, monitored.north, landing)[RuleKind.NO_ACTIVITY]
    assert (whole.night_threshold_seconds, whole.day_starts_second, whole.priority) == (
        900,
        27000,
        "HIGH",
    )
    assert (here.day_threshold_seconds, here.night_threshold_seconds, here.priority) == (
        None,
        600,
        "MEDIUM",
    )
    # Setting it again replaces it.
    services.configure_rule(
        actor=monitored.manager,
        prison=monitored.north,
        kind=RuleKind.NO_ACTIVITY,
        priority=Priority.HIGH,
        day_threshold_seconds=3000,
        night_threshold_seconds=900,
    )
    assert RuleConfig.objects.count() == 2
    assert [a for a, _ in audit_events("monitoring_ruleconfig")] == ["create", "create", "update"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "SNORING"}, "kind"),
        ({"priority": "URGENT"}, "priority"),
        ({"day_threshold_seconds": -1}, "day_threshold_seconds"),
        ({"night_threshold_seconds": 8 * 86_400}, "night_threshold_seconds"),
        ({"day_starts": time(20), "day_ends": time(8)}, "day_ends"),
        ({"kind": RuleKind.PULSE_OUT_OF_RANGE, "limit_low": 90.0, "limit_high": 60.0}, "limit_low"),
        ({"kind": RuleKind.PULSE_OUT_OF_RANGE, "min_quality": 1.5}, "min_quality"),
        ({"location": "south"}, "location"),
    ],
)
def test_rule_settings_are_checked(monitored, changes, field):
    if changes.get("location") == "south":
        changes["location"] = monitored.south_cells[0].parent
    fields = {
        "actor": monitored.manager,
        "prison": monitored.north,
        "kind": RuleKind.TAMPERED,
        "priority": Priority.HIGH,
        "day_threshold_seconds": 10,
        "night_threshold_seconds": 10,
    }
    with pytest.raises(ValidationFailed) as error:
        services.configure_rule(**(fields | changes))
    assert error.value.field == field
    assert RuleConfig.objects.count() == 0


def test_officers_cannot_change_rules(monitored):
    with pytest.raises(PermissionDenied):
        services.configure_rule(
            actor=monitored.officer,
            prison=monitored.north,
            kind=RuleKind.TAMPERED,
            priority=Priority.LOW,
            day_threshold_seconds=None,
            night_threshold_seconds=None,
        )


# --- Responding to alerts -------------------------------------------------------------------------


@pytest.mark.parametrize("priority", list(Priority))
@pytest.mark.parametrize("status", list(AlertStatus))
@pytest.mark.parametrize("action", transitions.ACTIONS)
def test_every_action_from_every_status(action, status, priority):
    if action == transitions.RESET and priority != Priority.HIGH:
        expected = Conflict
    elif status in transitions.ALREADY_DONE[action]:
        expected = None
    elif (
        action == transitions.RESOLVE and priority == Priority.HIGH and status != AlertStatus.RESET
    ):
        expected = Conflict
    else:
        expected = {
            transitions.ACKNOWLEDGE: AlertStatus.ACKNOWLEDGED,
            transitions.RESET: AlertStatus.RESET,
            transitions.RESOLVE: AlertStatus.RESOLVED,
        }[action]
    if expected is Conflict:
        with pytest.raises(Conflict):
            transitions.next_status(action, status, priority)
    else:
        assert transitions.next_status(action, status, priority) == expected


def test_a_high_priority_alert_is_acknowledged_reset_then_resolved(monitored):
    alert = make_alert(monitored)
    officer = monitored.officer
    acknowledged = services.acknowledge_alert(actor=officer, alert=alert)
    assert (acknowledged.status, acknowledged.acknowledged_by, acknowledged.acknowledged_at) == (
        AlertStatus.ACKNOWLEDGED,
        officer,
        NIGHT,
    )
    with pytest.raises(Conflict, match="Reset"):
        services.resolve_alert(actor=officer, alert=alert, outcome=AlertOutcome.PERSON_SAFE)
    monitored.traveller.shift(timedelta(seconds=40))
    reset = services.reset_alert(actor=officer, alert=alert)
    assert (reset.status, reset.reset_at) == (AlertStatus.RESET, NIGHT + timedelta(seconds=40))
    resolved = services.resolve_alert(
        actor=officer, alert=alert, outcome=AlertOutcome.PERSON_SAFE, note="Asleep, breathing seen"
    )
    assert (resolved.status, resolved.outcome, resolved.resolution_note) == (
        AlertStatus.RESOLVED,
        AlertOutcome.PERSON_SAFE,
        "Asleep, breathing seen",
    )
    assert resolved.acknowledged_at == NIGHT  # kept from the first acknowledgement
    # Repeating a finished step changes nothing.
    again = services.resolve_alert(
        actor=monitored.manager, alert=alert, outcome=AlertOutcome.FALSE_ALARM
    )
    assert (again.outcome, again.resolved_by) == (AlertOutcome.PERSON_SAFE, officer)
    assert audit_events("monitoring_alert") == [
        ("update", "officer.north"),
        ("update", "officer.north"),
        ("update", "officer.north"),
    ]
    assert list(open_alerts(officer)) == []


def test_resolving_a_medium_alert_also_acknowledges_it(monitored):
    alert = make_alert(monitored, rule=RuleKind.BATHROOM_OCCUPANCY, priority=Priority.MEDIUM)
    assert list(open_alerts(monitored.officer, monitored.north)) == [alert]
    with pytest.raises(Conflict):
        services.reset_alert(actor=monitored.officer, alert=alert)
    resolved = services.resolve_alert(
        actor=monitored.officer, alert=alert, outcome=AlertOutcome.FALSE_ALARM
    )
    assert (resolved.acknowledged_by, resolved.acknowledged_at) == (monitored.officer, NIGHT)


def test_responding_needs_the_permission_and_the_prison(monitored):
    alert = make_alert(monitored)
    with pytest.raises(PermissionDenied):
        services.acknowledge_alert(actor=monitored.auditor, alert=alert)
    with pytest.raises(NotFound):
        services.acknowledge_alert(actor=monitored.south_manager, alert=alert)
    with pytest.raises(ValidationFailed):
        services.resolve_alert(actor=monitored.officer, alert=alert, outcome="FINE")


def test_the_database_keeps_one_open_alert_per_cell_and_rule(monitored):
    first = make_alert(monitored)
    make_alert(monitored, rule=RuleKind.TAMPERED)  # another rule: fine
    make_alert(monitored, cell=monitored.north_cells[1])  # another cell: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        make_alert(monitored)
    services.reset_alert(actor=monitored.officer, alert=first)
    services.resolve_alert(actor=monitored.officer, alert=first, outcome=AlertOutcome.FALSE_ALARM)
    make_alert(monitored)  # the first is resolved


def test_the_database_refuses_an_unreset_high_alert_resolved(monitored):
    alert = make_alert(monitored)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.filter(pk=alert.pk).update(
            resolved_at=NIGHT, resolved_by=monitored.officer, outcome=AlertOutcome.FALSE_ALARM
        )


# --- Retention ------------------------------------------------------------------------------------


def test_the_retention_job_deletes_only_old_raw_readings(monitored, settings):
    settings.MONITORING_RAW_READING_RETENTION_DAYS = 30
    alert = make_alert(monitored)
    for age_days in (31, 30, 29):
        AlertReading.objects.create(
            alert=alert,
            recorded_at=NIGHT - timedelta(days=age_days),
            persons_present=1,
            activity_level=0.0,
        )
    from saferprisons.jobs import services as jobs
    from saferprisons.jobs.worker import run_worker

    jobs.enqueue(kind="monitoring.purge_raw_readings")
    assert run_worker(worker_name="test-worker", once=True) == 1
    kept = sorted(AlertReading.objects.values_list("recorded_at", flat=True))
    assert kept == [NIGHT - timedelta(days=30), NIGHT - timedelta(days=29)]
    assert Job.objects.get(kind="monitoring.purge_raw_readings").status == JobStatus.SUCCEEDED
    assert audit_events("monitoring_alertreading") == [("delete", "system")]
