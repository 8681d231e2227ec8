"""Measures of whether monitoring helps: exact figures from alerts with known times.

The clock is frozen on 30 October 2026 (GMT). The period that matters crosses the night the
clocks go back (Saturday 24 to Sunday 25 October 2026: 02:00 BST becomes 01:00 GMT), so that
night is 13 hours long and still counts as one night.
"""

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saferprisons.audit.models import AuditEvent
from saferprisons.conftest import admit, make_prison, make_user, make_wing
from saferprisons.core.errors import NotFound
from saferprisons.monitoring import measures
from saferprisons.monitoring.constants import (
    AlertOutcome,
    DeviceKind,
    EnrolmentBasis,
    Priority,
    RuleKind,
)
from saferprisons.monitoring.models import Alert, Device, Enrolment, Gateway

NOW = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)  # GMT: London time equals UTC
AUTUMN = measures.Period(date(2026, 10, 24), date(2026, 10, 25))


def utc(month, day, hour, minute=0, second=0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


# --- Builders (also used by test_report_pages) ------------------------------------------------


def install(prison, cell, number: int) -> Device:
    gateway = Gateway.objects.create(prison=prison, code=f"GW-{number}", name=f"Gateway {number}")
    return Device.objects.create(
        external_id=f"{prison.code}-DEV-{number:03d}",
        gateway=gateway,
        cell=cell,
        kind=DeviceKind.VISION,
        vendor="Fictional Sensors Ltd",
        serial=f"FS-{number:05d}",
        installed_at=utc(1, 1, 0),
    )


def make_alert(
    device: Device,
    rule: str,
    priority: str,
    opened_at: datetime,
    *,
    responder,
    ack_after: float | None = None,
    outcome: str = "",
    resolve_after: float | None = None,
) -> Alert:
    """An alert opened at a known time; acknowledged and resolved so many seconds later."""
    acknowledged_at = resolved_at = reset_at = None
    if ack_after is not None:
        acknowledged_at = opened_at + timedelta(seconds=ack_after)
    if outcome:
        resolved_at = opened_at + timedelta(seconds=resolve_after or (ack_after or 0) + 60)
        acknowledged_at = acknowledged_at or resolved_at  # resolving acknowledges too
        if priority == Priority.HIGH:
            reset_at = resolved_at
    return Alert.objects.create(
        prison=device.gateway.prison,
        cell=device.cell,
        device=device,
        rule=rule,
        priority=priority,
        threshold_seconds=60,
        opened_at=opened_at,
        first_reading_at=opened_at - timedelta(seconds=60),
        triggered_at=opened_at,
        acknowledged_at=acknowledged_at,
        acknowledged_by=responder if acknowledged_at else None,
        reset_at=reset_at,
        reset_by=responder if reset_at else None,
        resolved_at=resolved_at,
        resolved_by=responder if resolved_at else None,
        outcome=outcome,
    )


def enrol(person, starts_at: datetime, ends_at: datetime, decided_by) -> Enrolment:
    return Enrolment.objects.create(
        prisoner=person,
        prison=person.prison,
        basis=EnrolmentBasis.CONSENT,
        decided_by=decided_by,
        review_on=ends_at.date(),
        starts_at=starts_at,
        ends_at=ends_at,
    )


def build_world(estate: dict) -> SimpleNamespace:
    """North: two people enrolled across the clock-change night and six alerts in the period
    (one the evening before it, one the day after: outside). South: one alert. East (a prison
    no one in the fixture is assigned to): one alert. Call with the clock at NOW."""
    north, south, manager = estate["north"], estate["south"], estate["manager"]
    east = make_prison("ZEA", "HMP Eastwick")
    east_cells = make_wing(east, "C", cells=1)
    device = install(north, estate["north_cells"][0], 1)
    south_device = install(south, estate["south_cells"][0], 2)
    east_device = install(east, east_cells[0], 3)
    second = admit(manager, north, "A2345BC", "Fairweather", "Lee")

    # Person-nights: 1 (the whole 13-hour night) + 0.5 (from 01:30 GMT, after the clocks
    # went back: 6.5 of 13 hours) + 0.25 (20:00 to 23:00 on the 25th: 3 of 12 hours).
    enrol(estate["north_person"], utc(10, 24, 19), utc(10, 25, 8), manager)
    enrol(second, utc(10, 25, 1, 30), utc(10, 25, 23), manager)

    alerts = [
        # 20:30 BST on the 24th: night. Acknowledged after 10 s; a false alarm.
        make_alert(
            device,
            RuleKind.NO_ACTIVITY,
            Priority.HIGH,
            utc(10, 24, 19, 30),
            responder=manager,
            ack_after=10,
            outcome=AlertOutcome.FALSE_ALARM,
        ),
        # 01:30 BST, then 01:30 GMT an hour later: both in the repeated hour, both night.
        make_alert(
            device,
            RuleKind.NO_ACTIVITY,
            Priority.HIGH,
            utc(10, 25, 0, 30),
            responder=manager,
            ack_after=20,
            outcome=AlertOutcome.PERSON_SAFE,
        ),
        make_alert(
            device,
            RuleKind.BATHROOM_OCCUPANCY,
            Priority.MEDIUM,
            utc(10, 25, 1, 30),
            responder=manager,
            ack_after=30,
            outcome=AlertOutcome.PERSON_SAFE,
        ),
        # 07:59 GMT: still night. Acknowledged after 40 s, not resolved.
        make_alert(
            device,
            RuleKind.SECOND_PERSON,
            Priority.MEDIUM,
            utc(10, 25, 7, 59),
            responder=manager,
            ack_after=40,
        ),
        # 08:00 GMT: day. Acknowledged after 100 s; self-harm found.
        make_alert(
            device,
            RuleKind.NO_ACTIVITY,
            Priority.HIGH,
            utc(10, 25, 8, 0),
            responder=manager,
            ack_after=100,
            outcome=AlertOutcome.SELF_HARM_FOUND,
        ),
        # 14:00 GMT: day, never acknowledged.
        make_alert(
            device, RuleKind.DEVICE_SILENT, Priority.MEDIUM, utc(10, 25, 14), responder=manager
        ),
        # Outside the period: 23:59 BST on the 23rd and 00:00 GMT on the 26th.
        make_alert(
            device,
            RuleKind.TAMPERED,
            Priority.HIGH,
            utc(10, 23, 22, 59),
            responder=manager,
            ack_after=5,
            outcome=AlertOutcome.FALSE_ALARM,
        ),
        make_alert(
            device,
            RuleKind.PULSE_OUT_OF_RANGE,
            Priority.LOW,
            utc(10, 26, 0, 0),
            responder=manager,
        ),
    ]
    south_alert = make_alert(
        south_device,
        RuleKind.TAMPERED,
        Priority.HIGH,
        utc(10, 24, 12),
        responder=estate["south_manager"],
        ack_after=15,
        outcome=AlertOutcome.EMERGENCY_RESPONSE,
    )
    east_alert = make_alert(
        east_device, RuleKind.TAMPERED, Priority.HIGH, utc(10, 24, 12), responder=manager
    )
    lonely_analyst = make_user("analyst.unassigned", ["HQ_ANALYST"], [])
    return SimpleNamespace(
        **estate,
        east=east,
        device=device,
        alerts=alerts,
        south_alert=south_alert,
        east_alert=east_alert,
        lonely_analyst=lonely_analyst,
    )


@pytest.fixture
def measured(estate):
    with time_machine.travel(NOW, tick=False) as traveller:
        world = build_world(estate)
        world.traveller = traveller
        yield world


# --- Pure arithmetic --------------------------------------------------------------------------


def fact(ack_after=None, outcome="", at_night=False):
    return measures.AlertFact(RuleKind.NO_ACTIVITY, Priority.HIGH, ack_after, outcome, at_night)


def test_percentiles_count_only_acknowledged_alerts_and_shares_only_resolved_ones():
    facts = [
        fact(10, AlertOutcome.FALSE_ALARM, at_night=True),
        fact(20, AlertOutcome.PERSON_SAFE),
        fact(30, AlertOutcome.PERSON_SAFE, at_night=True),
        fact(40),
        fact(100, AlertOutcome.PERSON_SAFE),
        fact(),  # never acknowledged
    ]
    m = measures.summarise(facts, person_nights=4.0)
    assert (m.alerts, m.acknowledged, m.never_acknowledged) == (6, 5, 1)
    # numpy's linear interpolation: p95 sits 0.8 of the way from 40 to 100.
    assert (m.ack_p50_seconds, m.ack_p95_seconds) == (30.0, 88.0)
    assert (m.resolved, m.unresolved) == (4, 2)
    assert m.outcomes == {
        "FALSE_ALARM": 1,
        "PERSON_SAFE": 3,
        "EMERGENCY_RESPONSE": 0,
        "SELF_HARM_FOUND": 0,
    }
    assert m.false_alarm_share == 0.25
    assert (m.night_alerts, m.person_nights, m.alerts_per_person_night) == (2, 4.0, 0.5)


def test_percentiles_are_to_a_tenth_of_a_second_and_absent_without_acknowledgements():
    m = measures.summarise([fact(1.25), fact(2.5), fact(7.25)], person_nights=0)
    # p95 = 2.5 + 0.9 * (7.25 - 2.5) = 6.775, shown to a tenth of a second.
    assert (m.ack_p50_seconds, m.ack_p95_seconds) == (2.5, 6.8)
    assert m.alerts_per_person_night is None  # no person-nights: no rate, not infinity
    none = measures.summarise([fact()], person_nights=1)
    assert (none.ack_p50_seconds, none.ack_p95_seconds, none.false_alarm_share) == (None,) * 3
    assert none.never_acknowledged == 1


def test_nights_are_london_wall_clock_and_clipped_to_the_period():
    windows = measures.night_windows(AUTUMN)
    assert [(w.start, w.end, w.length_seconds / 3600) for w in windows] == [
        # The night of the 23rd, from the period's first midnight (00:00 BST) to 08:00 BST.
        (utc(10, 23, 23), utc(10, 24, 7), 12.0),
        # The clock-change night: 20:00 BST to 08:00 GMT is 13 hours.
        (utc(10, 24, 19), utc(10, 25, 8), 13.0),
        # The night of the 25th, up to the period's last midnight (00:00 GMT).
        (utc(10, 25, 20), utc(10, 26, 0), 12.0),
    ]
    spring = measures.night_windows(measures.Period(date(2026, 3, 28), date(2026, 3, 28)))
    # 20:00 GMT to 08:00 BST on the night the clocks go forward is 11 hours.
    assert [(w.start, w.end, w.length_seconds / 3600) for w in spring] == [
        (utc(3, 28, 0), utc(3, 28, 8), 12.0),
        (utc(3, 28, 20), utc(3, 29, 0), 11.0),
    ]


def test_a_whole_night_is_one_person_night_however_long_it_is():
    autumn = measures.night_windows(AUTUMN)
    spans = [
        (utc(10, 24, 19), utc(10, 25, 8)),  # the whole 13-hour night
        (utc(10, 25, 1, 30), utc(10, 25, 23)),  # 6.5 of 13 hours, then 3 of 12
        (utc(10, 24, 8), utc(10, 24, 19)),  # daytime only
        (utc(10, 26, 1), utc(10, 27, 1)),  # after the period
    ]
    assert measures.person_nights(spans, autumn).tolist() == [1.0, 0.75, 0.0, 0.0]
    spring = measures.night_windows(measures.Period(date(2026, 3, 28), date(2026, 3, 29)))
    spans = [
        (utc(3, 28, 20), utc(3, 29, 7)),  # 20:00 GMT to 08:00 BST: the whole 11-hour night
        (utc(3, 29, 1, 30), utc(3, 29, 7)),  # 02:30 BST to 08:00 BST: 5.5 of 11 hours
    ]
    assert measures.person_nights(spans, spring).tolist() == [1.0, 0.5]
    assert measures.person_nights([], spring).tolist() == []


@pytest.mark.parametrize(
    ("moment", "night"),
    [
        (utc(10, 24, 18, 59), False),  # 19:59 BST
        (utc(10, 24, 19, 0), True),  # 20:00 BST
        (utc(10, 25, 0, 30), True),  # 01:30 BST
        (utc(10, 25, 1, 30), True),  # 01:30 GMT, the repeated hour
        (utc(10, 25, 7, 59), True),  # 07:59 GMT
        (utc(10, 25, 8, 0), False),  # 08:00 GMT
        (utc(3, 29, 6, 59), True),  # 07:59 BST
        (utc(3, 29, 7, 0), False),  # 08:00 BST
    ],
)
def test_night_is_judged_on_london_time(moment, night):
    assert measures.is_night(moment) is night


def test_period_rules():
    today = date(2026, 10, 30)
    assert measures.Period.ending(today) == measures.Period(date(2026, 10, 3), today)
    assert measures.Period.ending(today).days == 28
    assert AUTUMN.start == utc(10, 23, 23) and AUTUMN.end == utc(10, 26, 0)
    assert measures.period_problems(AUTUMN, today) == []
    backwards = measures.Period(date(2026, 10, 25), date(2026, 10, 24))
    assert measures.period_problems(backwards, today) == [
        ("to_day", "The end date must be the same as or after the start date")
    ]
    assert measures.period_problems(measures.Period(today, date(2026, 10, 31)), today) == [
        ("to_day", "The end date must be today or in the past")
    ]
    long = measures.Period(date(2025, 10, 29), today)
    assert long.days == 367
    assert measures.period_problems(long, today) == [
        ("from_day", "The period must be 366 days or shorter")
    ]


@pytest.mark.parametrize(
    ("typed", "safe"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("HMP Northfold", "HMP Northfold"),
        ("1.5", "1.5"),
        ("", ""),
    ],
)
def test_spreadsheet_safe(typed, safe):
    assert measures.spreadsheet_safe(typed) == safe


# --- From the database ------------------------------------------------------------------------


def test_a_prisons_measures_across_the_clock_change(measured):
    report = measures.measures_report(measured.manager, period=AUTUMN, prison=measured.north)
    (north,) = report.prisons
    m = north.total
    assert (m.alerts, m.acknowledged, m.never_acknowledged) == (6, 5, 1)
    assert (m.ack_p50_seconds, m.ack_p95_seconds) == (30.0, 88.0)
    assert (m.resolved, m.unresolved) == (4, 2)
    assert m.outcomes == {
        "FALSE_ALARM": 1,
        "PERSON_SAFE": 2,
        "EMERGENCY_RESPONSE": 0,
        "SELF_HARM_FOUND": 1,
    }
    assert m.false_alarm_share == 0.25
    assert (m.night_alerts, m.person_nights) == (4, 1.75)
    assert m.alerts_per_person_night == 4 / 1.75

    by_rule = {(r.rule, r.priority): r.measures for r in north.by_rule}
    assert len(by_rule) == 24  # every rule x priority, zeros included
    no_activity = by_rule[(RuleKind.NO_ACTIVITY, Priority.HIGH)]
    assert (no_activity.alerts, no_activity.ack_p50_seconds, no_activity.ack_p95_seconds) == (
        3,
        20.0,
        92.0,
    )
    assert no_activity.false_alarm_share == 1 / 3
    assert no_activity.night_alerts == 2
    assert no_activity.alerts_per_person_night == 2 / 1.75
    silent = by_rule[(RuleKind.DEVICE_SILENT, Priority.MEDIUM)]
    assert (silent.alerts, silent.never_acknowledged, silent.ack_p50_seconds) == (1, 1, None)
    assert silent.false_alarm_share is None
    assert [(r.rule, r.priority) for r in north.rules_with_alerts] == [
        (RuleKind.NO_ACTIVITY, Priority.HIGH),
        (RuleKind.BATHROOM_OCCUPANCY, Priority.MEDIUM),
        (RuleKind.SECOND_PERSON, Priority.MEDIUM),
        (RuleKind.DEVICE_SILENT, Priority.MEDIUM),
    ]


def test_a_person_enrolled_throughout_the_period_adds_the_periods_nights(measured):
    """Two thirds of the first night, the clock-change night and a third of the last."""
    third = admit(measured.manager, measured.north, "A3456BC", "Stillwater", "Kit")
    enrol(third, utc(10, 20, 0), utc(10, 29, 0), measured.manager)
    report = measures.measures_report(measured.manager, period=AUTUMN, prison=measured.north)
    assert report.prisons[0].total.person_nights == 3.75


def test_staff_see_their_own_prisons_only(measured):
    report = measures.measures_report(measured.officer, period=AUTUMN)
    assert [p.prison.code for p in report.prisons] == ["ZNA"]
    with pytest.raises(NotFound):
        measures.measures_report(measured.manager, period=AUTUMN, prison=measured.south)
    with pytest.raises(NotFound):
        measures.measures_prison(measured.manager, "ZSO")
    assert measures.measures_prisons(measured.auditor) == []
    assert not measures.can_view_measures(measured.auditor)
    assert not measures.can_view_measures(measured.admin)  # operations, not measures


def test_an_analyst_sees_every_prison_that_took_part_even_unassigned(measured):
    report = measures.measures_report(measured.lonely_analyst, period=AUTUMN)
    assert [(p.prison.code, p.total.alerts) for p in report.prisons] == [
        ("ZEA", 1),  # HMP Eastwick
        ("ZNA", 6),  # HMP Northfold
        ("ZSO", 1),  # HMP Southmere
    ]
    south = report.prisons[2].total
    assert (south.person_nights, south.alerts_per_person_night) == (0.0, None)
    assert south.outcomes["EMERGENCY_RESPONSE"] == 1
    east = measures.measures_report(measured.lonely_analyst, period=AUTUMN, prison=measured.east)
    assert east.prisons[0].total.never_acknowledged == 1


def test_a_chosen_prison_with_nothing_in_the_period_shows_zeros(measured):
    quiet = measures.Period(date(2026, 9, 1), date(2026, 9, 30))
    report = measures.measures_report(measured.manager, period=quiet, prison=measured.north)
    m = report.prisons[0].total
    assert (m.alerts, m.person_nights, m.ack_p50_seconds, m.alerts_per_person_night) == (
        0,
        0.0,
        None,
        None,
    )
    assert measures.measures_report(measured.manager, period=quiet).prisons == []


def test_every_view_and_export_is_audited_with_counts_only(measured):
    before = AuditEvent.objects.filter(object_type="monitoring_measures").count()
    measures.measures_report(measured.manager, period=AUTUMN, prison=measured.north)
    measures.measures_report(measured.lonely_analyst, period=AUTUMN, export=True)
    viewed, exported = AuditEvent.objects.filter(object_type="monitoring_measures").order_by(
        "sequence"
    )[before:]
    assert (viewed.action, viewed.prison_code, viewed.actor_user) == (
        "view",
        "ZNA",
        measured.manager,
    )
    assert viewed.details == {
        "first_day": "2026-10-24",
        "last_day": "2026-10-25",
        "prisons": ["ZNA"],
        "alerts": 6,
    }
    assert (exported.action, exported.prison_code) == ("export", "")
    assert exported.details["prisons"] == ["ZEA", "ZNA", "ZSO"]
    assert exported.details["alerts"] == 8


def test_one_prison_or_every_prison_takes_the_same_number_of_queries(measured):
    measures.measures_report(measured.lonely_analyst, period=AUTUMN)  # the roles, cached
    with CaptureQueriesContext(connection) as one:
        measures.measures_report(measured.lonely_analyst, period=AUTUMN, prison=measured.north)
    with CaptureQueriesContext(connection) as every:
        report = measures.measures_report(measured.lonely_analyst, period=AUTUMN)
    assert len(report.prisons) == 3
    assert len(one) == len(every)


def test_default_period_is_the_last_28_london_days(measured):
    assert measures.default_period() == measures.Period(date(2026, 10, 3), date(2026, 10, 30))
    # 23:30 UTC on 31 May is already 1 June in London (BST).
    measured.traveller.move_to(datetime(2026, 5, 31, 23, 30, tzinfo=UTC))
    assert measures.default_period().last == date(2026, 6, 1)
    assert measures.NIGHT_STARTS == time(20, 0) and measures.NIGHT_ENDS == time(8, 0)
