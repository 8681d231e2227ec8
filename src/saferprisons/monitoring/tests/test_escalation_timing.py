"""With 1,000 open alerts, escalation steps fire within 1 s of their due time at p99.

The real worker loop (``jobs.worker.run_worker``) runs in this process against a clock that
ticks in real time while it works and jumps (instead of sleeping) when the loop waits for its
next poll. So the measured lateness is what the scheduler adds: the poll interval, claiming in
due order, and the real cost of firing each step in the database; the idle seconds between due
times cost no wall time. 1,000 alerts opened over the last 58 s (a storm on a bad night) each
have two steps; every first step falls due in the next minute. The fire times are the steps'
own ``fired_at``, stamped by the step's transaction.
"""

import threading
import time
from datetime import timedelta
from statistics import quantiles

import pytest
import time_machine
from django.conf import settings
from django.db import transaction

from saferprisons.conftest import make_wing
from saferprisons.core import clock
from saferprisons.jobs import worker
from saferprisons.monitoring import escalation, services
from saferprisons.monitoring.constants import (
    ESCALATION_WORKER_POLL_SECONDS,
    RULE_ORDER,
    EscalationStatus,
    Priority,
)
from saferprisons.monitoring.escalation import StepSpec
from saferprisons.monitoring.models import Alert, AlertEscalation

from .conftest import NIGHT

OPEN_ALERTS = 1000
STORM_SECONDS = 58
P99_LIMIT = timedelta(seconds=1)


class VirtualWait(threading.Event):
    """The worker's stop event: waiting for the next poll moves the clock on instead of
    sleeping, and the loop stops once the clock passes ``until``."""

    def __init__(self, traveller, until):
        super().__init__()
        self.traveller = traveller
        self.until = until
        self.waits = 0

    def wait(self, timeout=None):
        if not self.is_set():
            self.waits += 1
            self.traveller.shift(timedelta(seconds=timeout))
            if clock.now() >= self.until:
                self.set()
        return self.is_set()


def open_storm(world, start):
    """1,000 alerts opened evenly over the STORM_SECONDS before ``start``, chains started."""
    cells = make_wing(world.north, "T", cells=OPEN_ALERTS // len(RULE_ORDER))
    spacing = timedelta(seconds=STORM_SECONDS) / OPEN_ALERTS
    pairs = [(cell, rule) for rule in RULE_ORDER for cell in cells]
    alerts = [
        Alert(
            prison=world.north,
            cell=cell,
            device=world.devices[0],
            rule=rule,
            priority=Priority.HIGH,
            threshold_seconds=60,
            opened_at=start - timedelta(seconds=STORM_SECONDS) + index * spacing,
            first_reading_at=start - timedelta(seconds=STORM_SECONDS + 60),
            triggered_at=start - timedelta(seconds=STORM_SECONDS) + index * spacing,
        )
        for index, (cell, rule) in enumerate(pairs)
    ]
    with transaction.atomic():
        Alert.objects.bulk_create(alerts)
        escalation.start_escalations([alert.pk for alert in alerts])
    return alerts


def test_the_worker_polls_often_enough_for_the_escalation_target():
    """The deployment's poll interval is the one the timing test below runs with."""
    assert settings.WORKER_POLL_SECONDS <= ESCALATION_WORKER_POLL_SECONDS


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_steps_fire_within_a_second_of_their_due_time_at_p99_with_1000_open_alerts(
    monitored, settings
):
    settings.WORKER_POLL_SECONDS = ESCALATION_WORKER_POLL_SECONDS
    services.configure_escalation_chain(
        actor=monitored.manager,
        prison=monitored.north,
        steps=[
            StepSpec(60, ("WING_OFFICER", "CUSTODIAL_MANAGER"), tuple(Priority.values)),
            StepSpec(180, ("HEALTHCARE", "DUTY_GOVERNOR"), tuple(Priority.values)),
        ],
    )
    start = NIGHT + timedelta(minutes=10)
    began = time.perf_counter()
    open_storm(monitored, start)
    opened = time.perf_counter()
    assert Alert.objects.filter(resolved_at__isnull=True).count() == OPEN_ALERTS
    until = start + timedelta(seconds=63)

    with time_machine.travel(start, tick=True) as traveller:
        waits = VirtualWait(traveller, until)
        worker.run_worker("timing-worker", stop_event=waits)
    ran = time.perf_counter()

    first_steps = AlertEscalation.objects.filter(number=1)
    assert first_steps.count() == OPEN_ALERTS
    assert not first_steps.exclude(status=EscalationStatus.FIRED).exists()
    assert not AlertEscalation.objects.filter(number=2, fired_at__isnull=False).exists()
    lateness = sorted(
        (fired - due).total_seconds()
        for fired, due in first_steps.values_list("fired_at", "due_at")
    )
    p50, p99 = quantiles(lateness, n=100)[49], quantiles(lateness, n=100)[98]
    print(
        f"\n{OPEN_ALERTS} open alerts, poll {settings.WORKER_POLL_SECONDS} s: lateness "
        f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {lateness[-1] * 1000:.0f} ms "
        f"({waits.waits} polls; setup {opened - began:.1f} s, run {ran - opened:.1f} s)"
    )
    assert lateness[0] >= 0, "a step fired before it was due"
    assert timedelta(seconds=p99) <= P99_LIMIT
