"""An alert acknowledged while its next escalation step is running is never escalated again.
Real threads, each with its own connection, on PostgreSQL (row locks)."""

import random
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections

from saferprisons.audit.models import AuditEvent
from saferprisons.jobs import registry, worker
from saferprisons.jobs.constants import RunOutcome
from saferprisons.monitoring import escalation, notifications, services
from saferprisons.monitoring.constants import JOB_ESCALATE, EscalationStatus, Priority
from saferprisons.monitoring.escalation import StepSpec
from saferprisons.monitoring.models import Alert, AlertEscalation, Notification

from .alerting import open_alert, run_due_jobs

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
WAIT = 10  # seconds: only reached if something is broken


def in_thread(target, errors: list):
    def run():
        try:
            target()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connections.close_all()

    return threading.Thread(target=run, daemon=True)


def claim_step(step_id: int):
    """Claim the due job of one step (handing back anything else claimed with it)."""
    jobs = worker.claim_due_jobs("racing-worker", limit=100)
    mine = [j for j in jobs if j.kind == JOB_ESCALATE and j.payload["escalation"] == step_id]
    for job in jobs:
        if job not in mine:
            worker.release_claim(job.pk, job.token)
    return mine[0]


def notified(alert) -> list[int]:
    return sorted(
        Notification.objects.filter(alert=alert).values_list("escalation__number", flat=True)
    )


def test_acknowledged_while_the_step_holds_the_alert_the_step_finishes_and_nothing_follows(
    monitored, monkeypatch
):
    alert = open_alert(monitored)
    run_due_jobs()  # step 1: the wing
    monitored.traveller.shift(timedelta(seconds=60))
    step2 = alert.escalations.get(number=2)
    job = claim_step(step2.pk)

    inside, release = threading.Event(), threading.Event()
    real = notifications.queue_deliveries

    def held(step, locked_alert):
        inside.set()  # the step holds the alert and step rows now
        assert release.wait(WAIT)
        return real(step, locked_alert)

    monkeypatch.setattr(notifications, "queue_deliveries", held)
    errors: list = []
    outcome = {}
    runner = in_thread(lambda: outcome.update(run=worker.run_job(job.pk, job.token)), errors)
    acknowledger = in_thread(
        lambda: services.acknowledge_alert(actor=monitored.officer, alert=alert), errors
    )
    runner.start()
    assert inside.wait(WAIT)
    acknowledger.start()
    acknowledger.join(0.5)
    assert acknowledger.is_alive(), "the acknowledgement must wait for the step's lock"
    release.set()
    runner.join(WAIT)
    acknowledger.join(WAIT)
    assert errors == []
    assert outcome["run"] == RunOutcome.SUCCEEDED
    statuses = dict(alert.escalations.values_list("number", "status"))
    assert statuses == {1: "FIRED", 2: "FIRED", 3: "CANCELLED"}
    monitored.traveller.shift(timedelta(seconds=300))
    run_due_jobs()
    assert notified(alert) == [1, 2]


def test_acknowledged_after_the_claim_but_before_the_lock_the_step_does_nothing(
    monitored, monkeypatch
):
    alert = open_alert(monitored)
    run_due_jobs()
    monitored.traveller.shift(timedelta(seconds=60))
    step2 = alert.escalations.get(number=2)
    job = claim_step(step2.pk)

    started, release = threading.Event(), threading.Event()
    real = registry.get_handler(JOB_ESCALATE)

    def paused(payload, claimed):
        started.set()  # claimed and running, but not yet at the alert's lock
        assert release.wait(WAIT)
        return real(payload, claimed)

    monkeypatch.setitem(registry._HANDLERS, JOB_ESCALATE, paused)
    errors: list = []
    outcome = {}
    runner = in_thread(lambda: outcome.update(run=worker.run_job(job.pk, job.token)), errors)
    runner.start()
    assert started.wait(WAIT)
    services.acknowledge_alert(actor=monitored.officer, alert=alert)
    release.set()
    runner.join(WAIT)
    assert errors == []
    # The step found its token replaced and the job cancelled: its result is not recorded.
    assert outcome["run"] == RunOutcome.SKIPPED
    assert dict(alert.escalations.values_list("number", "status")) == {
        1: "FIRED",
        2: "CANCELLED",
        3: "CANCELLED",
    }
    monitored.traveller.shift(timedelta(seconds=300))
    run_due_jobs()
    assert notified(alert) == [1]


def test_racing_workers_and_acknowledgements_never_escalate_after_an_acknowledgement(monitored):
    """Two workers fire due steps while two officers acknowledge the same alerts in another
    order. The audit trail is one chain (each write holds its head row until commit), so its
    sequence orders the commits: no alert has an escalation after its acknowledgement."""
    services.configure_escalation_chain(
        actor=monitored.manager,
        prison=monitored.north,
        steps=[
            StepSpec(0, ("WING_OFFICER",), (Priority.HIGH,)),
            StepSpec(1, ("CUSTODIAL_MANAGER",), (Priority.HIGH,)),
            StepSpec(2, ("HEALTHCARE", "DUTY_GOVERNOR"), (Priority.HIGH,)),
        ],
    )
    from saferprisons.conftest import make_wing

    cells = make_wing(monitored.north, "C", cells=24)
    alerts = [open_alert(monitored, cell=cell, prisoner=None) for cell in cells]
    monitored.traveller.shift(timedelta(seconds=5))  # every step is due

    errors: list = []
    start = threading.Barrier(4)

    def work(name):
        def loop():
            start.wait()
            while jobs := worker.claim_due_jobs(name, limit=3):
                for job in jobs:
                    worker.run_job(job.pk, job.token)

        return loop

    def acknowledge(order):
        def loop():
            start.wait()
            for alert in order:
                services.acknowledge_alert(actor=monitored.officer, alert=alert)

        return loop

    shuffled = alerts[:]
    random.Random(4).shuffle(shuffled)
    threads = [
        in_thread(work("worker-a"), errors),
        in_thread(work("worker-b"), errors),
        in_thread(acknowledge(alerts), errors),
        in_thread(acknowledge(list(reversed(shuffled))), errors),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    run_due_jobs()  # anything still queued: must do nothing now

    for alert in Alert.objects.filter(pk__in=[a.pk for a in alerts]):
        assert alert.acknowledged_at is not None
        events = AuditEvent.objects.filter(
            object_type="monitoring_alert", object_id=str(alert.public_id)
        )
        acknowledged = events.get(details__event="acknowledge").sequence
        escalated = list(
            events.filter(details__event="escalated").values_list("sequence", flat=True)
        )
        assert all(sequence < acknowledged for sequence in escalated), alert.cell.path
        fired = AlertEscalation.objects.filter(alert=alert, status=EscalationStatus.FIRED)
        assert fired.count() == len(escalated)
        assert Notification.objects.filter(alert=alert).count() == sum(
            len(step.roles) for step in fired
        )
        assert not AlertEscalation.objects.filter(
            alert=alert, status=EscalationStatus.PENDING
        ).exists()
    fired = AlertEscalation.objects.filter(status=EscalationStatus.FIRED).count()
    print(f"{fired} of {3 * len(alerts)} steps fired before their alert was acknowledged")


def test_the_sweeper_never_rekicks_a_step_being_fired(monitored, monkeypatch):
    """A step firing right now holds its alert: the sweeper skips it (skip_locked)."""
    alert = open_alert(monitored)
    step = alert.escalations.get(number=1)
    job = claim_step(step.pk)
    inside, release = threading.Event(), threading.Event()
    real = notifications.queue_deliveries

    def held(locked_step, locked_alert):
        inside.set()
        assert release.wait(WAIT)
        return real(locked_step, locked_alert)

    monkeypatch.setattr(notifications, "queue_deliveries", held)
    errors: list = []
    runner = in_thread(lambda: worker.run_job(job.pk, job.token), errors)
    runner.start()
    assert inside.wait(WAIT)
    monitored.traveller.shift(timedelta(seconds=60))  # late, and its claim is old
    assert escalation.sweep_late_steps() == 0
    release.set()
    runner.join(WAIT)
    assert errors == []
    step.refresh_from_db()
    assert (step.status, step.rekicks) == (EscalationStatus.FIRED, 0)
