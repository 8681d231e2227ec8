"""Escalation chains: configured per prison, copied onto each alert when it opens, one durable job
per step with a token, cancelled by any response, late steps re-kicked by the sweeper; and what
resolving with "self-harm found" does."""

import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from saferprisons.acct.constants import DemandReason
from saferprisons.acct.models import ReviewDemand
from saferprisons.audit.models import AuditEvent
from saferprisons.core import clock
from saferprisons.core.errors import NotFound, PermissionDenied, ValidationFailed
from saferprisons.jobs import worker
from saferprisons.jobs.constants import JobStatus, RunOutcome
from saferprisons.jobs.models import Job
from saferprisons.monitoring import escalation, services
from saferprisons.monitoring.constants import (
    JOB_ESCALATE,
    JOB_SWEEP_ESCALATIONS,
    AlertOutcome,
    EscalationStatus,
    Priority,
    RuleKind,
)
from saferprisons.monitoring.escalation import StepSpec
from saferprisons.monitoring.models import Alert, AlertEscalation, EscalationStep, Notification

from .alerting import ingest, now_ms, open_alert, put_on_acct, run_due_jobs
from .conftest import NIGHT, batch, reading

ALL = (Priority.HIGH, Priority.MEDIUM, Priority.LOW)


def steps_of(alert) -> list[tuple]:
    return list(
        alert.escalations.order_by("number").values_list("number", "roles", "due_at", "status")
    )


def notified(alert) -> list[tuple[int, str]]:
    return list(
        Notification.objects.filter(alert=alert)
        .order_by("escalation__number", "role")
        .values_list("escalation__number", "role")
    )


def escalated_events(alert) -> list[dict]:
    return [
        e.details
        for e in AuditEvent.objects.filter(
            object_type="monitoring_alert", object_id=str(alert.public_id)
        ).order_by("sequence")
        if e.details.get("event") == "escalated"
    ]


# --- Copied onto each alert when it opens ---------------------------------------------------------


def test_an_alert_opened_by_ingest_gets_the_default_chain_and_a_job_per_step(monitored, pipeline):
    for _ in range(12):  # tampered for 10 s: a high-priority alert (default threshold 10 s)
        ingest(pipeline, monitored, reading("ZNA-A1-001-V", now_ms(), tampered=True))
        monitored.traveller.shift(timedelta(seconds=1))
    alert = Alert.objects.get()
    opened = alert.opened_at
    assert (alert.rule, alert.priority, opened) == (
        RuleKind.TAMPERED,
        Priority.HIGH,
        NIGHT + timedelta(seconds=10),
    )
    assert steps_of(alert) == [
        (1, ["WING_OFFICER"], opened, EscalationStatus.PENDING),
        (2, ["CUSTODIAL_MANAGER"], opened + timedelta(seconds=60), EscalationStatus.PENDING),
        (
            3,
            ["HEALTHCARE", "DUTY_GOVERNOR"],
            opened + timedelta(seconds=180),
            EscalationStatus.PENDING,
        ),
    ]
    for step in alert.escalations.select_related("job"):
        assert (step.job.kind, step.job.status, step.job.due_at) == (
            JOB_ESCALATE,
            JobStatus.QUEUED,
            step.due_at,
        )
        assert step.job.payload == {"escalation": step.pk, "token": str(step.token)}
    # One sweep, for when the first step could first be late (5 s, rounded up to 2 s).
    sweep = Job.objects.get(kind=JOB_SWEEP_ESCALATIONS)
    assert sweep.due_at == opened + timedelta(seconds=6)


def test_a_low_priority_alert_goes_only_to_the_wing(monitored):
    alert = open_alert(monitored, rule=RuleKind.PULSE_OUT_OF_RANGE, priority=Priority.LOW)
    assert steps_of(alert) == [(1, ["WING_OFFICER"], NIGHT, EscalationStatus.PENDING)]


def test_a_prison_chain_is_copied_and_later_changes_leave_open_alerts_alone(monitored):
    services.configure_escalation_chain(
        actor=monitored.manager,
        prison=monitored.north,
        steps=[
            StepSpec(30, ("WING_OFFICER", "CUSTODIAL_MANAGER"), ALL),
            StepSpec(120, ("DUTY_GOVERNOR",), (Priority.HIGH,), phone_number="07700 900982"),
        ],
    )
    first = open_alert(monitored)
    services.configure_escalation_chain(
        actor=monitored.manager,
        prison=monitored.north,
        steps=[StepSpec(0, ("HEALTHCARE",), ALL)],
    )
    second = open_alert(monitored, cell=monitored.north_cells[1], prisoner=None)
    assert steps_of(first) == [
        (1, ["WING_OFFICER", "CUSTODIAL_MANAGER"], NIGHT + timedelta(seconds=30), "PENDING"),
        (2, ["DUTY_GOVERNOR"], NIGHT + timedelta(seconds=120), "PENDING"),
    ]
    assert first.escalations.get(number=2).phone_number == "07700 900982"
    assert steps_of(second) == [(1, ["HEALTHCARE"], NIGHT, "PENDING")]
    # The south prison still has the default chain.
    assert escalation.chains_for([monitored.south.pk])[monitored.south.pk] == (
        escalation.DEFAULT_CHAIN
    )


# --- Firing -----------------------------------------------------------------------------------


def test_an_ignored_alert_is_escalated_step_by_step_at_its_due_times(monitored):
    alert = open_alert(monitored)
    assert run_due_jobs(kind=JOB_ESCALATE) == [(JOB_ESCALATE, RunOutcome.SUCCEEDED)]
    assert notified(alert) == [(1, "WING_OFFICER")]
    monitored.traveller.shift(timedelta(seconds=59))
    assert run_due_jobs(kind=JOB_ESCALATE) == []
    monitored.traveller.shift(timedelta(seconds=1))
    assert run_due_jobs(kind=JOB_ESCALATE) == [(JOB_ESCALATE, RunOutcome.SUCCEEDED)]
    monitored.traveller.shift(timedelta(seconds=120))
    run_due_jobs()
    assert notified(alert) == [
        (1, "WING_OFFICER"),
        (2, "CUSTODIAL_MANAGER"),
        (3, "DUTY_GOVERNOR"),
        (3, "HEALTHCARE"),
    ]
    fired = list(alert.escalations.order_by("number").values_list("status", "fired_at"))
    assert fired == [
        (EscalationStatus.FIRED, NIGHT),
        (EscalationStatus.FIRED, NIGHT + timedelta(seconds=60)),
        (EscalationStatus.FIRED, NIGHT + timedelta(seconds=180)),
    ]
    assert [(e["step"], e["late_ms"], e["channels"]) for e in escalated_events(alert)] == [
        (1, 0, []),
        (2, 0, []),
        (3, 0, []),
    ]
    # Nothing waits any more, so no further sweep is queued after the last one runs.
    monitored.traveller.shift(timedelta(seconds=10))
    run_due_jobs()
    assert not Job.objects.filter(kind=JOB_SWEEP_ESCALATIONS, status=JobStatus.QUEUED).exists()


def test_a_repeated_or_superseded_step_does_nothing(monitored):
    alert = open_alert(monitored)
    step = alert.escalations.get(number=1)
    assert escalation.fire_step(step.pk, str(uuid.uuid4())) is False
    assert notified(alert) == []
    assert escalation.fire_step(step.pk, str(step.token)) is True
    assert escalation.fire_step(step.pk, str(step.token)) is False
    assert escalation.fire_step(999_999, str(step.token)) is False
    assert notified(alert) == [(1, "WING_OFFICER")]
    assert len(escalated_events(alert)) == 1


# --- Answering stops the chain ----------------------------------------------------------------


def test_acknowledging_cancels_the_rest_of_the_chain_and_its_jobs(monitored):
    alert = open_alert(monitored)
    run_due_jobs()
    before = {s.number: s.token for s in alert.escalations.all()}
    monitored.traveller.shift(timedelta(seconds=10))
    services.acknowledge_alert(actor=monitored.officer, alert=alert)
    steps = {s.number: s for s in alert.escalations.select_related("job")}
    assert steps[1].status == EscalationStatus.FIRED
    for number in (2, 3):
        assert steps[number].status == EscalationStatus.CANCELLED
        assert steps[number].cancelled_at == NIGHT + timedelta(seconds=10)
        assert steps[number].token != before[number]
        assert steps[number].job.status == JobStatus.CANCELLED
    cancelled_by = AuditEvent.objects.filter(
        object_type="jobs.job", details__event="cancelled"
    ).values_list("actor_label", flat=True)
    assert list(cancelled_by) == ["officer.north", "officer.north"]
    monitored.traveller.shift(timedelta(seconds=300))
    assert run_due_jobs(kind=JOB_ESCALATE) == []
    assert notified(alert) == [(1, "WING_OFFICER")]
    # The stale jobs' payloads, run by hand, do nothing either.
    for number in (2, 3):
        job = steps[number].job
        assert escalation.fire_step(job.payload["escalation"], job.payload["token"]) is False
    assert notified(alert) == [(1, "WING_OFFICER")]


def test_a_step_claimed_before_the_acknowledgement_does_nothing_after_it(monitored):
    alert = open_alert(monitored)
    run_due_jobs()
    monitored.traveller.shift(timedelta(seconds=60))
    claimed = worker.claim_due_jobs("slow-worker")
    job = next(j for j in claimed if j.kind == JOB_ESCALATE)
    services.acknowledge_alert(actor=monitored.officer, alert=alert)
    assert worker.run_job(job.pk, job.token) == RunOutcome.SKIPPED
    assert escalation.fire_step(job.payload["escalation"], job.payload["token"]) is False
    assert notified(alert) == [(1, "WING_OFFICER")]


@pytest.mark.parametrize("respond", ["reset", "resolve"])
def test_any_response_stops_the_chain(monitored, respond):
    alert = open_alert(monitored, priority=Priority.MEDIUM, rule=RuleKind.SECOND_PERSON)
    if respond == "reset":
        alert = open_alert(monitored, cell=monitored.north_cells[1], prisoner=None)
        services.reset_alert(actor=monitored.officer, alert=alert)
    else:
        services.resolve_alert(
            actor=monitored.officer, alert=alert, outcome=AlertOutcome.FALSE_ALARM
        )
    assert set(alert.escalations.values_list("status", flat=True)) == {EscalationStatus.CANCELLED}
    monitored.traveller.shift(timedelta(seconds=300))
    run_due_jobs()
    assert notified(alert) == []


def test_the_safety_net_cancels_a_step_of_an_answered_alert(monitored):
    """If a step somehow still waits on an answered alert, firing cancels it instead."""
    alert = open_alert(monitored)
    Alert.objects.filter(pk=alert.pk).update(
        acknowledged_at=NIGHT, acknowledged_by=monitored.officer
    )
    step = alert.escalations.get(number=1)
    assert escalation.fire_step(step.pk, str(step.token)) is False
    step.refresh_from_db()
    assert (step.status, step.cancelled_at) == (EscalationStatus.CANCELLED, NIGHT)


# --- The sweeper ------------------------------------------------------------------------------


def test_a_step_waiting_to_retry_is_rekicked_once_late(monitored, settings, monkeypatch):
    settings.MONITORING_ESCALATION_LATE_SECONDS = 2
    from saferprisons.monitoring import notifications

    real = notifications.queue_deliveries
    failures = iter([RuntimeError("database blip")])

    def flaky(step, alert):
        error = next(failures, None)
        if error:
            raise error
        return real(step, alert)

    monkeypatch.setattr(notifications, "queue_deliveries", flaky)
    alert = open_alert(monitored)
    assert run_due_jobs(kind=JOB_ESCALATE) == [(JOB_ESCALATE, RunOutcome.RETRY_SCHEDULED)]
    step = alert.escalations.select_related("job").get(number=1)
    old_job, old_token = step.job, step.token
    assert old_job.due_at == NIGHT + timedelta(seconds=5)  # the worker's own backoff
    monitored.traveller.shift(timedelta(seconds=2))
    assert escalation.sweep_late_steps() == 0  # 2 s late: not more than 2 s
    monitored.traveller.shift(timedelta(seconds=1))
    assert escalation.sweep_late_steps() == 1
    step.refresh_from_db()
    old_job.refresh_from_db()
    assert step.token != old_token and step.rekicks == 1
    assert old_job.status == JobStatus.CANCELLED
    assert (step.job.due_at, step.job.status) == (NIGHT, JobStatus.QUEUED)
    assert step.job.payload == {"escalation": step.pk, "token": str(step.token)}
    run_due_jobs(kind=JOB_ESCALATE)
    step.refresh_from_db()
    assert (step.status, step.fired_at) == (EscalationStatus.FIRED, NIGHT + timedelta(seconds=3))
    rekicked = AuditEvent.objects.get(details__event="escalation_rekicked")
    assert (rekicked.actor_label, rekicked.details["previous_job_status"]) == (
        "system",
        JobStatus.QUEUED,
    )


def test_a_step_held_by_a_dead_worker_is_rekicked_and_the_old_runner_changes_nothing(monitored):
    alert = open_alert(monitored)
    dead = [j for j in worker.claim_due_jobs("dead-worker") if j.kind == JOB_ESCALATE][0]
    monitored.traveller.shift(timedelta(seconds=5))
    assert escalation.sweep_late_steps() == 0  # exactly 5 s late: not yet
    monitored.traveller.shift(timedelta(seconds=1))
    assert escalation.sweep_late_steps() == 1
    run_due_jobs(kind=JOB_ESCALATE)
    assert notified(alert) == [(1, "WING_OFFICER")]
    # The dead worker comes back and runs its old claim.
    assert worker.run_job(dead.pk, dead.token) == RunOutcome.SKIPPED
    assert escalation.fire_step(dead.payload["escalation"], dead.payload["token"]) is False
    assert notified(alert) == [(1, "WING_OFFICER")]


def test_a_step_whose_worker_is_alive_or_busy_is_left_alone(monitored):
    alert = open_alert(monitored)
    # Late, but its job is queued in due order: a busy worker will reach it.
    monitored.traveller.shift(timedelta(seconds=20))
    assert escalation.sweep_late_steps() == 0
    # Late, and running under a claim its worker renewed just now.
    job = [j for j in worker.claim_due_jobs("busy-worker") if j.kind == JOB_ESCALATE][0]
    monitored.traveller.shift(timedelta(seconds=30))
    assert worker.renew_claim(job.pk, job.token)
    assert escalation.sweep_late_steps() == 0
    assert alert.escalations.get(number=1).rekicks == 0


def test_the_sweeper_runs_only_while_steps_wait(monitored):
    alert = open_alert(monitored)
    run_due_jobs()  # step 1 at NIGHT
    monitored.traveller.shift(timedelta(seconds=6))
    run_due_jobs()  # the sweep at NIGHT + 6 queues the next for step 2 (due + 60 s, late + 5 s)
    queued = Job.objects.filter(kind=JOB_SWEEP_ESCALATIONS, status=JobStatus.QUEUED)
    assert list(queued.values_list("due_at", flat=True)) == [NIGHT + timedelta(seconds=66)]
    services.acknowledge_alert(actor=monitored.officer, alert=alert)
    monitored.traveller.shift(timedelta(seconds=60))
    run_due_jobs()
    assert not queued.exists()


# --- Configuring the chain --------------------------------------------------------------------


def test_only_a_manager_of_the_prison_sets_the_chain(monitored):
    steps = [StepSpec(0, ("WING_OFFICER",), ALL)]
    with pytest.raises(PermissionDenied):
        services.configure_escalation_chain(
            actor=monitored.officer, prison=monitored.north, steps=steps
        )
    with pytest.raises(NotFound):
        services.configure_escalation_chain(
            actor=monitored.south_manager, prison=monitored.north, steps=steps
        )
    assert not EscalationStep.objects.exists()


@pytest.mark.parametrize(
    ("steps", "field", "message"),
    [
        ([], "step-1-delay", "Set at least one step"),
        ([StepSpec(0, ("WING_OFFICER",), ALL)] * 6, "step-1-delay", "at most 5 steps"),
        ([StepSpec(3601, ("WING_OFFICER",), ALL)], "step-1-delay", "0 to 3600 seconds"),
        ([StepSpec(0, (), ALL)], "step-1-roles", "choose who is told"),
        ([StepSpec(0, ("AUDITOR",), ALL)], "step-1-roles", "choose who is told"),
        ([StepSpec(0, ("WING_OFFICER",), ())], "step-1-priorities", "which priorities"),
        ([StepSpec(0, ("WING_OFFICER",), ("URGENT",))], "step-1-priorities", "which priorities"),
        (
            [StepSpec(60, ("WING_OFFICER",), ALL), StepSpec(60, ("DUTY_GOVERNOR",), ALL)],
            "step-2-delay",
            "Step 2 must come later than step 1",
        ),
        (
            [StepSpec(0, ("WING_OFFICER",), ALL, email_address="not an address")],
            "step-1-email",
            "e-mail address",
        ),
        (
            [StepSpec(0, ("WING_OFFICER",), ALL, phone_number="call me")],
            "step-1-phone",
            "mobile number",
        ),
    ],
)
def test_a_bad_chain_is_refused_and_nothing_changes(monitored, steps, field, message):
    with pytest.raises(ValidationFailed, match=message) as refused:
        services.configure_escalation_chain(
            actor=monitored.manager, prison=monitored.north, steps=steps
        )
    assert refused.value.field == field
    assert not EscalationStep.objects.exists()


def test_setting_the_chain_replaces_it_and_is_audited(monitored):
    services.configure_escalation_chain(
        actor=monitored.manager,
        prison=monitored.north,
        steps=[StepSpec(0, ("WING_OFFICER",), ALL, email_address="wing.a@example.gov.uk")],
    )
    services.configure_escalation_chain(
        actor=monitored.manager,
        prison=monitored.north,
        steps=[
            StepSpec(0, ("WING_OFFICER", "WING_OFFICER"), (Priority.LOW, Priority.HIGH)),
            StepSpec(90, ("CUSTODIAL_MANAGER",), ALL),
        ],
    )
    stored = list(
        EscalationStep.objects.filter(prison=monitored.north)
        .order_by("number")
        .values_list("number", "delay_seconds", "roles", "priorities", "email_address")
    )
    assert stored == [
        (1, 0, ["WING_OFFICER"], ["HIGH", "LOW"], ""),
        (2, 90, ["CUSTODIAL_MANAGER"], ["HIGH", "MEDIUM", "LOW"], ""),
    ]
    events = list(
        AuditEvent.objects.filter(object_type="monitoring_escalation_chain").order_by("sequence")
    )
    assert [(e.action, e.actor_label) for e in events] == [
        ("create", "manager.north"),
        ("update", "manager.north"),
    ]
    assert events[1].before == {
        "steps": [
            {
                "delay_seconds": 0,
                "roles": ["WING_OFFICER"],
                "priorities": ["HIGH", "MEDIUM", "LOW"],
                "email": True,
                "sms": False,
            }
        ]
    }


# --- Self-harm found --------------------------------------------------------------------------


def test_self_harm_found_demands_an_acct_review_and_marks_an_incident(monitored):
    case = put_on_acct(monitored)
    alert = open_alert(monitored)
    services.reset_alert(actor=monitored.officer, alert=alert)
    resolved = services.resolve_alert(
        actor=monitored.officer,
        alert=alert,
        outcome=AlertOutcome.SELF_HARM_FOUND,
        note="Superficial cuts to the forearm; healthcare called",
    )
    demand = ReviewDemand.objects.get(case=case)
    assert resolved.acct_review_demand == demand
    assert (demand.reason, demand.demanded_at, demand.due_at) == (
        DemandReason.SELF_HARM,
        NIGHT,
        NIGHT,
    )
    assert demand.details == (
        "Self-harm found responding to a monitoring alert "
        "(no activity in an occupied cell) in cell A-1-001"
    )
    assert resolved.incident_pending is True and resolved.incident_reference == ""
    resolved_event = AuditEvent.objects.filter(
        object_type="monitoring_alert", details__event="resolve"
    ).get()
    assert resolved_event.details["incident_pending"] is True
    assert resolved_event.details["acct_review_demand"] == demand.pk


def test_self_harm_found_without_an_open_acct_still_marks_an_incident(monitored):
    alert = open_alert(monitored, priority=Priority.MEDIUM, rule=RuleKind.BATHROOM_OCCUPANCY)
    resolved = services.resolve_alert(
        actor=monitored.officer, alert=alert, outcome=AlertOutcome.SELF_HARM_FOUND
    )
    assert (resolved.incident_pending, resolved.acct_review_demand) == (True, None)
    assert not ReviewDemand.objects.exists()


def test_other_outcomes_demand_nothing(monitored):
    put_on_acct(monitored)
    alert = open_alert(monitored, priority=Priority.MEDIUM, rule=RuleKind.BATHROOM_OCCUPANCY)
    resolved = services.resolve_alert(
        actor=monitored.officer, alert=alert, outcome=AlertOutcome.PERSON_SAFE
    )
    assert (resolved.incident_pending, resolved.acct_review_demand) == (False, None)
    assert not ReviewDemand.objects.exists()


def test_the_database_keeps_incidents_to_self_harm(monitored):
    alert = open_alert(monitored, priority=Priority.MEDIUM, rule=RuleKind.BATHROOM_OCCUPANCY)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.filter(pk=alert.pk).update(incident_pending=True)


def test_steps_and_notifications_are_kept_once_by_the_database(monitored):
    alert = open_alert(monitored)
    step = alert.escalations.get(number=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertEscalation.objects.create(
            alert=alert, number=1, delay_seconds=0, roles=[], due_at=clock.now()
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertEscalation.objects.filter(pk=step.pk).update(status=EscalationStatus.FIRED)
    escalation.fire_step(step.pk, str(step.token))
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            prison=monitored.north, alert=alert, escalation=step, role="WING_OFFICER"
        )


def test_a_batch_message_opening_alerts_in_two_cells_starts_both_chains(monitored, pipeline):
    """Both cells' people enrolled: one message, two alerts, two chains, in one transaction."""
    from datetime import date

    from saferprisons.conftest import admit
    from saferprisons.monitoring.constants import EnrolmentBasis

    other = admit(
        monitored.manager, monitored.north, "A7777AA", "Fenwick", "Lee", monitored.north_cells[1]
    )
    services.enrol(
        actor=monitored.manager,
        prisoner=other,
        basis=EnrolmentBasis.CONSENT,
        review_on=date(2026, 12, 12),
        starts_at=NIGHT - timedelta(hours=1),
        ends_at=NIGHT + timedelta(days=28),
    )
    for _ in range(12):
        at = now_ms()
        pipeline.ingest(
            batch(
                reading("ZNA-A1-001-V", at, tampered=True),
                reading("ZNA-A1-002-V", at, tampered=True),
            ),
            gateway=monitored.gateway_ref,
        )
        monitored.traveller.shift(timedelta(seconds=1))
    assert Alert.objects.count() == 2
    assert AlertEscalation.objects.count() == 6
    assert Job.objects.filter(kind=JOB_ESCALATE).count() == 6
