"""ACCT fixtures: the shared fictional estate at a frozen London time, plus ACCT staff."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine

from saferprisons.accounts.models import TrainingRecord
from saferprisons.acct import services
from saferprisons.acct.constants import ASSESSOR_COURSE, Discipline
from saferprisons.acct.models import AcctCase
from saferprisons.acct.rules import Supervision
from saferprisons.conftest import make_user
from saferprisons.core import clock
from saferprisons.core.clock import LONDON

# A Saturday in November: London is on GMT, so London time equals UTC.
START = datetime(2026, 11, 28, 9, 0, tzinfo=LONDON)


def london(year, month, day, hour, minute=0, second=0):
    return datetime(year, month, day, hour, minute, second, tzinfo=LONDON)


@pytest.fixture
def traveller():
    with time_machine.travel(START, tick=False) as travel:
        yield travel


@pytest.fixture
def world(traveller, estate):
    north = estate["north"]
    w = SimpleNamespace(**estate)
    w.traveller = traveller
    w.psychologist = make_user("psych.north", ["PSYCHOLOGIST"], [north], band="6")
    w.governor = make_user("governor.north", ["DUTY_GOVERNOR"], [north], band="7")
    w.band3_manager = make_user("manager3.north", ["CUSTODIAL_MANAGER"], [north], band="3")
    w.security = make_user("security.north", ["SECURITY"], [north])
    TrainingRecord.objects.create(
        user=w.nurse,
        course=ASSESSOR_COURSE,
        completed_on=date(2026, 1, 10),
        expires_on=date(2027, 1, 9),
    )
    w.person = estate["north_person"]
    return w


def fresh(case: AcctCase) -> AcctCase:
    return AcctCase.objects.select_related("prison", "prisoner").get(pk=case.pk)


def raise_concern(actor, person, source="STAFF_OBSERVATION"):
    return services.raise_concern(
        actor=actor,
        prisoner=person,
        source=source,
        seen_or_heard="Said he cannot see a way forward after a phone call from home",
        immediate_risk="Possible ligature seen in cell",
        action_taken="Removed the item and stayed with him until a manager arrived",
    )


def open_case(w, person=None) -> AcctCase:
    return fresh(raise_concern(w.officer, person or w.person).case)


def attendees(w):
    return [
        services.Attendee(Discipline.MANAGER, user=w.manager),
        services.Attendee(Discipline.HEALTHCARE, user=w.nurse),
    ]


DEFAULT_PLAN = Supervision(
    day_observations_per_hour=Decimal("1"),
    night_observations_per_hour=Decimal("1"),
    day_conversations=2,
    night_conversations=0,
)


def first_review(w, case, *, actor=None, **overrides):
    arguments = {
        "actor": actor or w.manager,
        "case": case,
        "expected_version": fresh(case).version,
        "attendees": attendees(w),
        "risk_level": "RAISED",
        "next_review_at": clock.now() + timedelta(days=2),
        "supervision": DEFAULT_PLAN,
        "case_manager": w.manager,
        "case_coordinator": w.officer,
        "triggers": "Bad news from home; anniversaries",
        "warning_signs": "Withdrawn, not eating",
        "protective_factors": "His children",
        "caremap_new": [
            services.CaremapInput(
                "Contact with family", "Arrange a phone call", "Wing officer", date(2026, 11, 30)
            )
        ],
    }
    arguments.update(overrides)
    return services.hold_review(**arguments)


def settle(w, case, at=None):
    """IAP, assessment, an observation and a conversation: nothing overdue for a while."""
    at = at or clock.now()
    services.record_iap(actor=w.officer, case=case, plan="Keep safe", recorded_at=at)
    services.record_assessment(actor=w.nurse, case=case, summary="Assessed", interviewed_at=at)
    for kind in ("OBSERVATION", "CONVERSATION"):
        services.record_entry(
            actor=w.officer,
            case=case,
            kind=kind,
            occurred_at=at,
            seen_or_spoken_to=True,
            presentation="Calm, talking",
        )


def close_at_review(w, case, reason="Risk reduced; settled on the wing"):
    return services.hold_review(
        actor=w.manager,
        case=case,
        expected_version=fresh(case).version,
        attendees=attendees(w),
        risk_level="LOW",
        close=True,
        closure_reason=reason,
    )


class Heard:
    """Collects what a signal sends while a test runs."""

    def __init__(self, signal):
        self.calls = []
        self.signal = signal
        signal.connect(self.receive, weak=False)

    def receive(self, sender, **kwargs):
        self.calls.append(kwargs)

    def close(self):
        self.signal.disconnect(self.receive)


@pytest.fixture
def heard():
    made = []

    def listen(signal):
        listener = Heard(signal)
        made.append(listener)
        return listener

    yield listen
    for listener in made:
        listener.close()
